from __future__ import annotations

import base64

import pytest
from django.core.management import call_command
from hypothesis import given
from hypothesis import strategies as st

from accord.accounts.models import AuthenticatorDevice
from accord.core import crypto

KEY_A = "a1:" + base64.urlsafe_b64encode(b"A" * 32).decode()
KEY_B = "b2:" + base64.urlsafe_b64encode(b"B" * 32).decode()


@pytest.fixture
def keys(settings):
    def use(value: str) -> None:
        settings.FIELD_KEYS = value
        crypto.keyring.cache_clear()

    yield use
    crypto.keyring.cache_clear()


@given(st.binary(max_size=2048), st.text(max_size=40))
def test_it_round_trips_any_value(plaintext, aad):
    assert crypto.decrypt(crypto.encrypt(plaintext, aad), aad) == plaintext


def test_it_refuses_a_value_moved_to_another_row():
    sealed = crypto.encrypt(b"secret", "row:1")
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt(sealed, "row:2")


def test_it_refuses_a_tampered_value():
    sealed = bytearray(crypto.encrypt(b"secret", "row:1"))
    sealed[-1] ^= 0x01
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt(bytes(sealed), "row:1")


def test_it_never_repeats_a_ciphertext():
    assert crypto.encrypt(b"same", "x") != crypto.encrypt(b"same", "x")


def test_it_opens_old_values_after_a_new_key_is_added(keys):
    keys(KEY_A)
    sealed = crypto.encrypt(b"kept", "x")
    keys(f"{KEY_B},{KEY_A}")
    assert crypto.decrypt(sealed, "x") == b"kept"
    assert crypto.needs_rotation(sealed)
    keys(KEY_B)
    with pytest.raises(crypto.DecryptionFailed, match="not in ACCORD_FIELD_KEYS"):
        crypto.decrypt(sealed, "x")


@pytest.mark.django_db
def test_it_rotates_stored_authenticator_keys(keys):
    from accord.core.testing import build_county

    keys(KEY_A)
    county = build_county()
    keys(f"{KEY_B},{KEY_A}")
    call_command("keys", "rotate")
    keys(KEY_B)  # the old key is gone: every value must open under the new one
    devices = AuthenticatorDevice.objects.all()
    assert devices.count() == len(county.people)
    for device in devices:
        assert crypto.key_id_of(bytes(device.encrypted_key)) == "b2"
        assert len(device.bin_key) == 20
