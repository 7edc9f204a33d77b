"""Ways an intruder with database access rewrites history behind Accord's back, for tests."""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import connection

from accord.audit import chain
from accord.audit.models import AuditCheckpoint, AuditEvent

COLUMNS = (*chain.FIELDS, "hash")


def tamper(sql: str, params: list[Any] | tuple[Any, ...] = ()) -> None:
    """Run ``sql`` with the append-only trigger of PostgreSQL switched off for this
    transaction (as a database superuser can)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, list(params))


def _db_value(name: str, value: Any) -> Any:
    if name == "occurred_at":
        return connection.ops.adapt_datetimefield_value(value)
    if name == "details":
        return json.dumps(value)
    return value


def insert_row(values: dict[str, Any]) -> None:
    placeholders = ", ".join(["%s"] * len(COLUMNS))
    tamper(
        f"INSERT INTO audit_auditevent ({', '.join(COLUMNS)}) VALUES ({placeholders})",  # noqa: S608 - fixed column names
        [_db_value(name, values[name]) for name in COLUMNS],
    )


def delete(seq: int) -> None:
    tamper("DELETE FROM audit_auditevent WHERE seq = %s", [seq])


def swap(first: int, second: int) -> None:
    """Exchange the places of two events in the chain."""
    tamper("UPDATE audit_auditevent SET seq = %s WHERE seq = %s", [-1, first])
    tamper("UPDATE audit_auditevent SET seq = %s WHERE seq = %s", [first, second])
    tamper("UPDATE audit_auditevent SET seq = %s WHERE seq = %s", [second, -1])


def insert_forged(at: int) -> None:
    """Slip a well-formed event in before event ``at``: correct link to its predecessor and a
    correct hash of its own, later events renumbered. Only the displaced event can show it."""
    previous = AuditEvent.objects.filter(seq=at - 1).values_list("hash", flat=True).first()
    tamper("UPDATE audit_auditevent SET seq = -seq - 1 WHERE seq >= %s", [at])
    tamper("UPDATE audit_auditevent SET seq = -seq WHERE seq < 0")
    template = AuditEvent.objects.filter(seq=at + 1).values(*chain.FIELDS).get()
    forged = {
        **template,
        "seq": at,
        "actor_label": "forger",
        "details": {"forged": True},
        "prev_hash": previous or chain.GENESIS,
    }
    insert_row({**forged, "hash": chain.digest(forged)})


def rehash_from(seq: int) -> None:
    """Recompute every hash and link from ``seq`` on, as a forger rewriting the chain would."""
    rows = list(AuditEvent.objects.filter(seq__gte=seq).order_by("seq").values(*chain.FIELDS))
    previous = AuditEvent.objects.filter(seq=seq - 1).values_list("hash", flat=True).first()
    previous = previous or chain.GENESIS
    for row in rows:
        row["prev_hash"] = previous
        previous = chain.digest(row)
        tamper(
            "UPDATE audit_auditevent SET prev_hash = %s, hash = %s WHERE seq = %s",
            [row["prev_hash"], previous, row["seq"]],
        )


def forge_checkpoint_over_head() -> None:
    """Re-sign the (rewritten) head with a key of the forger's own making."""
    seq, head = chain.head()
    key = Ed25519PrivateKey.generate()
    public = base64.urlsafe_b64encode(key.public_key().public_bytes_raw()).decode()
    signature = base64.urlsafe_b64encode(
        key.sign(f"accord-audit-checkpoint:{seq}:{head}".encode())
    ).decode()
    checkpoint = AuditCheckpoint.objects.order_by("-seq").first()
    assert checkpoint is not None
    tamper(
        "UPDATE audit_auditcheckpoint SET seq = %s, hash = %s, public_key = %s, signature = %s "
        "WHERE id = %s",
        [seq, head, public, signature, checkpoint.pk],
    )
