"""Appending to, verifying and checkpointing the hash chain of audit events."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
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
from django.utils.dateparse import parse_datetime

from accord.audit.models import AuditCheckpoint, AuditEvent
from accord.core.actions import copy_rows
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
_HEAD_SQL = "SELECT seq, hash FROM audit_auditevent ORDER BY seq DESC LIMIT 1"


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# The canonical JSON: sorted keys, no spaces, UTF-8 as is. One encoder, built once (what
# json.dumps would build per call with these arguments; the output is the same).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _hash_canonical(canonical: Mapping[str, Any]) -> str:
    return hashlib.sha256(_CANONICAL.encode(canonical).encode()).hexdigest()


def digest(values: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical JSON of one event's covered fields."""
    canonical = {k: values[k] for k in FIELDS}
    canonical["occurred_at"] = _timestamp(canonical["occurred_at"])
    return _hash_canonical(canonical)


def _lock_head() -> tuple[int, str]:
    """The last (seq, hash), holding the append lock until the transaction ends.

    SQLite: every transaction here begins IMMEDIATE (settings), so the writer lock is
    already ours. PostgreSQL: a transaction-scoped advisory lock, so two appends cannot
    both read the same head and fork the chain.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        # Raw SQL: this runs once per audited change, and the ORM's query building cost
        # more than the index lookup itself.
        cursor.execute(_HEAD_SQL)
        last = cursor.fetchone()
    return (int(last[0]), str(last[1])) if last else (0, GENESIS)


def head() -> tuple[int, str]:
    """The chain's last (seq, hash), or (0, GENESIS); inside a transaction, no other append
    can move the head until it ends."""
    return _lock_head()


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
    # No savepoint of its own: if the event cannot be written, the action writing the
    # change must not commit either (and a savepoint per event costs two statements).
    with transaction.atomic(savepoint=False):
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
class Entry:
    """One event for :func:`append_many`: what :func:`append` takes, as data."""

    actor: Actor
    action: str
    obj: Any = None
    outcome: str = "success"
    details: Mapping[str, Any] | None = None
    agency_id: int | None = None
    object_type: str = ""
    object_id: str = ""
    object_label: str = ""


_COLUMNS = (*FIELDS, "hash")


def append_many(entries: Sequence[Entry]) -> int:
    """Append many events in order, chained exactly as :func:`append` chains them (same
    fields, same digest), with one head read and one ``executemany``: a bulk feed writes an
    event per row, and a statement and a head read per row would cost more than the rows.
    Call inside the action's transaction. Returns the last seq written."""
    if not entries:
        return head()[0]
    with transaction.atomic(savepoint=False):
        seq, prev = _lock_head()
        now = timezone.now()
        ops = connection.ops  # looked up once: connection is a proxy, each lookup costs
        stored_now = ops.adapt_datetimefield_value(now)
        hashed_now = _timestamp(now)  # the canonical form digest() gives every entry's time
        rows: list[tuple[Any, ...]] = []
        for entry in entries:
            object_type, object_id, object_label = (
                entry.object_type,
                entry.object_id,
                entry.object_label,
            )
            if entry.obj is not None:
                object_type = object_type or entry.obj._meta.label_lower
                object_id = object_id or str(entry.obj.pk)
                object_label = object_label or str(entry.obj)[:200]
            actor = entry.actor
            seq += 1
            values: dict[str, Any] = {
                "seq": seq,
                "occurred_at": hashed_now,
                "action": str(entry.action),
                "outcome": str(entry.outcome),
                "actor_label": actor.label[:150],
                "actor_user_id": actor.user_id,
                "actor_token_id": actor.token_id,
                "agency_id": entry.agency_id if entry.agency_id is not None else actor.agency_id,
                "object_type": object_type,
                "object_id": object_id[:64],
                "object_label": object_label[:200],
                "request_id": actor.request_id[:64],
                "source_ip": actor.source_ip or "",
                "details": json.loads(json.dumps(dict(entry.details or {}), default=str)),
                "prev_hash": prev,
            }
            prev = _hash_canonical(values)  # digest(), with the time already canonical
            values["occurred_at"] = stored_now
            values["details"] = ops.adapt_json_value(values["details"], None)
            rows.append((*(values[name] for name in FIELDS), prev))
        if connection.vendor == "postgresql":
            copy_rows(AuditEvent, _COLUMNS, rows)  # an executemany sends a statement a row
            return seq
        quote = connection.ops.quote_name
        sql = (
            f"INSERT INTO {quote(AuditEvent._meta.db_table)} "  # noqa: S608 - fixed names
            f"({', '.join(quote(c) for c in _COLUMNS)}) "
            f"VALUES ({', '.join(['%s'] * len(_COLUMNS))})"
        )
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)
    return seq


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""


_BATCH = 20_000
_FIRST = -(2**63)  # below any seq, even a negative one an intruder wrote


def _canonical_time(value: Any) -> str:
    """The canonical timestamp of a stored ``occurred_at``, read raw for speed."""
    if isinstance(value, str):
        # SQLite keeps Django's "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC: rewrite, don't parse.
        if len(value) == 26 and value[10] == " ":
            return f"{value[:10]}T{value[11:]}Z"
        if len(value) == 19 and value[10] == " ":
            return f"{value[:10]}T{value[11:]}.000000Z"
        parsed = parse_datetime(value)
        if parsed is None:
            return value  # not a timestamp at all: the hash will not match, as it should not
        value = parsed
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)  # stored in UTC (USE_TZ)
    return _timestamp(value)


def _batches() -> Iterator[list[tuple[Any, ...]]]:
    """Every event, in seq order, as raw rows of FIELDS + hash, a batch at a time.

    Raw SQL rather than the ORM: verifying a million events is dominated by per-row
    overhead, and the ORM's converters (datetime parsing, JSON decoding) cost more than
    the hashing. Keyset batches keep memory flat and hold no long read transaction.
    """
    quote = connection.ops.quote_name
    columns = [quote(name) for name in (*FIELDS, "hash")]
    if connection.vendor == "sqlite":
        # Without a declared type the driver hands the text over unparsed.
        columns[FIELDS.index("occurred_at")] = f"CAST({quote('occurred_at')} AS TEXT)"
    sql = (
        f"SELECT {', '.join(columns)} FROM {quote(AuditEvent._meta.db_table)} "  # noqa: S608 - fixed names
        f"WHERE {quote('seq')} > %s ORDER BY {quote('seq')} LIMIT {_BATCH}"
    )
    last = _FIRST
    while True:
        with connection.cursor() as cursor:
            cursor.execute(sql, [last])
            rows = cursor.fetchall()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


_SEQ, _TIME, _DETAILS, _PREV, _HASH = (
    FIELDS.index("seq"),
    FIELDS.index("occurred_at"),
    FIELDS.index("details"),
    FIELDS.index("prev_hash"),
    len(FIELDS),
)


def verify() -> Verification:
    """Walk the whole chain; name the first event that does not hold, and why."""
    expected_seq, prev = 1, GENESIS
    hashes_at_checkpoints = dict(AuditCheckpoint.objects.values_list("seq", "hash"))
    checked = 0
    for rows in _batches():
        for row in rows:
            seq = row[_SEQ]
            if seq != expected_seq:
                missing = "deleted" if seq > expected_seq else "duplicated or reordered"
                return Verification(False, checked, expected_seq, f"sequence gap: event {missing}")
            if row[_PREV] != prev:
                return Verification(False, checked, seq, "previous-hash link broken")
            canonical = dict(zip(FIELDS, row, strict=False))
            canonical["occurred_at"] = _canonical_time(row[_TIME])
            details = row[_DETAILS]
            if isinstance(details, str | bytes):
                canonical["details"] = json.loads(details)
            stored_hash = row[_HASH]
            if _hash_canonical(canonical) != stored_hash:
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


def can_sign() -> bool:
    return bool(settings.AUDIT_SIGNING_KEY)


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
