"""Envelope encryption for sensitive fields (AES-256-GCM, keys from ACCORD_FIELD_KEYS).

Each value gets its own random 256-bit data key; the data key is sealed with the current
key-encryption key (the first entry of ``ACCORD_FIELD_KEYS``), whose id is stored with the
value so older keys still open what they sealed. Rotation adds a new key in front and
re-seals values with ``accord keys rotate`` at leisure. ``aad`` binds a value to where it
lives (e.g. ``"accounts.authenticator:17"``) so a ciphertext copied to another row fails.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable
from functools import cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

VERSION = b"\x01"
NONCE = 12


class DecryptionFailed(Exception):
    """The value was tampered with, belongs elsewhere, or its key is gone."""


@cache
def keyring() -> tuple[str, dict[str, bytes]]:
    """(current key id, {key id: key}) parsed from settings.FIELD_KEYS."""
    entries = [e.strip() for e in str(settings.FIELD_KEYS).split(",") if e.strip()]
    keys: dict[str, bytes] = {}
    for entry in entries:
        key_id, sep, encoded = entry.partition(":")
        try:
            key = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError) as exc:
            raise ImproperlyConfigured(f"ACCORD_FIELD_KEYS entry {key_id!r} is not base64") from exc
        if not sep or not key_id or len(key_id) > 16 or len(key) != 32:
            raise ImproperlyConfigured(
                "ACCORD_FIELD_KEYS entries are id:key with a short id and a 32-byte key"
            )
        keys[key_id] = key
    if not keys:
        raise ImproperlyConfigured("ACCORD_FIELD_KEYS is empty")
    return entries[0].partition(":")[0], keys


def new_key_entry(key_id: str) -> str:
    return f"{key_id}:" + base64.urlsafe_b64encode(os.urandom(32)).decode()


def encrypt(plaintext: bytes, aad: str) -> bytes:
    current, keys = keyring()
    data_key = AESGCM.generate_key(bit_length=256)
    wrap_nonce, nonce = os.urandom(NONCE), os.urandom(NONCE)
    wrapped = AESGCM(keys[current]).encrypt(wrap_nonce, data_key, aad.encode())
    body = AESGCM(data_key).encrypt(nonce, plaintext, aad.encode())
    kid = current.encode()
    return VERSION + bytes([len(kid)]) + kid + wrap_nonce + wrapped + nonce + body


def key_id_of(blob: bytes) -> str:
    return bytes(blob[2 : 2 + blob[1]]).decode()


def decrypt(blob: bytes, aad: str) -> bytes:
    blob = bytes(blob)
    if not blob or blob[:1] != VERSION:
        raise DecryptionFailed("unknown format")
    kid_len = blob[1]
    kid = blob[2 : 2 + kid_len].decode()
    rest = blob[2 + kid_len :]
    _, keys = keyring()
    if kid not in keys:
        raise DecryptionFailed(f"key {kid!r} is not in ACCORD_FIELD_KEYS")
    wrap_nonce, wrapped = rest[:NONCE], rest[NONCE : NONCE + 48]
    nonce, body = rest[NONCE + 48 : 2 * NONCE + 48], rest[2 * NONCE + 48 :]
    try:
        data_key = AESGCM(keys[kid]).decrypt(wrap_nonce, wrapped, aad.encode())
        return AESGCM(data_key).decrypt(nonce, body, aad.encode())
    except Exception as exc:  # cryptography raises InvalidTag; never say more than "failed"
        raise DecryptionFailed("authentication failed") from exc


def needs_rotation(blob: bytes) -> bool:
    return key_id_of(blob) != keyring()[0]


# Each app that stores encrypted values registers an action that re-seals them under the
# current key; `accord keys rotate` runs them all. Signature: (actor) -> number re-sealed.
ROTATIONS: list[Callable[..., int]] = []


def register_rotation(rotate: Callable[..., int]) -> Callable[..., int]:
    ROTATIONS.append(rotate)
    return rotate
