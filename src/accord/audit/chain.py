"""Appending to, verifying and checkpointing the hash chain of audit events."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accord.audit.models import AuditCheckpoint, AuditEvent
from accord.core.actors import Actor

GENESIS = "0" * 64
# The columns the hash covers, in order; changing this list is a new chain format.
FIELDS = (
    "seq",
    "occurred_at",
    "action",
    "outcome",
    "actor_label",
    "actor_user_id",
    "actor_token_id",
    "agency_id",
    "object_type",
    "object_id",
    "object_label",
    "request_id",
    "source_ip",
    "details",
    "prev_hash",
)
_LOCK_KEY = 0x41434344  # "ACCD": one advisory lock serialises appends on PostgreSQL


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def digest(values: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical JSON of one event's covered fields."""
    canonical = {k: values[k] for k in FIELDS}
    canonical["occurred_at"] = _timestamp(canonical["occurred_at"])
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _lock_head() -> tuple[int, str]:
    """The last (seq, hash), holding the append lock until the transaction ends.

    SQLite: every transaction here begins IMMEDIATE (settings), so the writer lock is
    already ours. PostgreSQL: a transaction-scoped advisory lock, so two appends cannot
    both read the same head and fork the chain.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
    last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    return last if last else (0, GENESIS)


def append(
    actor: Actor,
    action: str,
    *,
    obj: Any = None,
    outcome: str = "success",
    details: Mapping[str, Any] | None = None,
    agency_id: int | None = None,
    object_type: str = "",
    object_id: str = "",
    object_label: str = "",
) -> AuditEvent:
    """Append one event. Call inside the action's transaction so the event commits with it."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_label = object_label or str(obj)[:200]
    with transaction.atomic():
        seq, prev = _lock_head()
        values: dict[str, Any] = {
            "seq": seq + 1,
            "occurred_at": timezone.now(),
            "action": str(action),
            "outcome": str(outcome),
            "actor_label": actor.label[:150],
            "actor_user_id": actor.user_id,
            "actor_token_id": actor.token_id,
            "agency_id": agency_id if agency_id is not None else actor.agency_id,
            "object_type": object_type,
            "object_id": object_id[:64],
            "object_label": object_label[:200],
            "request_id": actor.request_id[:64],
            "source_ip": actor.source_ip or "",
            "details": json.loads(json.dumps(dict(details or {}), default=str)),
            "prev_hash": prev,
        }
        event = AuditEvent(**values, hash=digest(values))
        event.save(force_insert=True)
    return event


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""


def _rows(chunk: int = 20000) -> Iterator[tuple[Any, ...]]:
    columns = (*FIELDS, "hash")
    return AuditEvent.objects.order_by("seq").values_list(*columns).iterator(chunk_size=chunk)


def verify() -> Verification:
    """Walk the whole chain; name the first event that does not hold, and why."""
    expected_seq, prev = 1, GENESIS
    hashes_at_checkpoints = dict(AuditCheckpoint.objects.values_list("seq", "hash"))
    checked = 0
    for row in _rows():
        values = dict(zip(FIELDS, row[:-1], strict=True))
        stored_hash = row[-1]
        seq = values["seq"]
        if seq != expected_seq:
            missing = "deleted" if seq > expected_seq else "duplicated or reordered"
            return Verification(False, checked, expected_seq, f"sequence gap: event {missing}")
        if values["prev_hash"] != prev:
            return Verification(False, checked, seq, "previous-hash link broken")
        if digest(values) != stored_hash:
            return Verification(False, checked, seq, "content does not match its hash")
        if seq in hashes_at_checkpoints and hashes_at_checkpoints[seq] != stored_hash:
            return Verification(False, checked, seq, "differs from the signed checkpoint")
        prev, expected_seq, checked = stored_hash, seq + 1, checked + 1
    last_checkpoint = AuditCheckpoint.objects.order_by("-seq").first()
    if last_checkpoint and last_checkpoint.seq > checked:
        return Verification(
            False, checked, checked + 1, f"log ends before signed checkpoint #{last_checkpoint.seq}"
        )
    for checkpoint in AuditCheckpoint.objects.all():
        if not checkpoint_signature_valid(checkpoint):
            return Verification(
                False, checked, checkpoint.seq, "checkpoint signature does not verify"
            )
    return Verification(True, checked)


def _signing_key() -> Ed25519PrivateKey:
    raw = base64.urlsafe_b64decode(str(settings.AUDIT_SIGNING_KEY))
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_key_text() -> str:
    return base64.urlsafe_b64encode(_signing_key().public_key().public_bytes_raw()).decode()


def _message(seq: int, head_hash: str) -> bytes:
    return f"accord-audit-checkpoint:{seq}:{head_hash}".encode()


def checkpoint_signature_valid(checkpoint: AuditCheckpoint) -> bool:
    # A checkpoint signed by any other key (say, one an intruder made to re-sign a
    # rewritten chain) does not count.
    if settings.AUDIT_SIGNING_KEY and checkpoint.public_key != public_key_text():
        return False
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(checkpoint.public_key))
        key.verify(
            base64.urlsafe_b64decode(checkpoint.signature),
            _message(checkpoint.seq, checkpoint.hash),
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def sign_checkpoint() -> AuditCheckpoint | None:
    """Sign the current head (if it is not signed yet). Needs ACCORD_AUDIT_SIGNING_KEY."""
    if not settings.AUDIT_SIGNING_KEY:
        raise RuntimeError("Set ACCORD_AUDIT_SIGNING_KEY to sign audit checkpoints.")
    with transaction.atomic():
        seq, head = _lock_head()
        if seq == 0 or AuditCheckpoint.objects.filter(seq=seq).exists():
            return None
        signature = _signing_key().sign(_message(seq, head))
        return AuditCheckpoint.objects.create(
            seq=seq,
            hash=head,
            signed_at=timezone.now(),
            public_key=public_key_text(),
            signature=base64.urlsafe_b64encode(signature).decode(),
        )
