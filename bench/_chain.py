"""Bulk-generating a long, valid audit chain quickly: hashes computed with ``chain.digest``
exactly as ``chain.append`` would, rows written with executemany in large transactions
(appending a million events one action at a time would take minutes)."""

from __future__ import annotations

import itertools
import json
import random
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, transaction

from accord.audit import chain

ACTIONS = (
    ("auth.sign_in", "accounts.user"),
    ("auth.sign_out", "accounts.user"),
    ("auth.sign_in_failed", "accounts.user"),
    ("auth.mfa_verified", "accounts.user"),
    ("directory.staff_updated", "directory.staffprofile"),
    ("audit.viewed", ""),
    ("token.rejected", ""),
    ("directory.agency_updated", "directory.agency"),
)
COLUMNS = (*chain.FIELDS, "hash")
BATCH = 50_000


def _events(
    count: int, start_seq: int, prev_hash: str, agency_ids: Sequence[int]
) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(20250101)
    moment = datetime.now(UTC) - timedelta(seconds=count)
    adapt = connection.ops.adapt_datetimefield_value
    users = [(1000 + i, f"user{i:03d}") for i in range(300)]
    for seq in range(start_seq, start_seq + count):
        moment += timedelta(microseconds=rng.randint(500_000, 1_500_000))
        action, object_type = ACTIONS[rng.randrange(len(ACTIONS))]
        user_id, label = users[rng.randrange(len(users))]
        agency_id = agency_ids[rng.randrange(len(agency_ids))] if agency_ids else None
        details: dict[str, Any] = {"stage": "password", "username": label}
        if action == "audit.viewed":
            details = {"via": "web", "filters": {"actor": label[:5]}}
        values: dict[str, Any] = {
            "seq": seq,
            "occurred_at": moment,
            "action": action,
            "outcome": "failure" if action == "auth.sign_in_failed" else "success",
            "actor_label": label,
            "actor_user_id": user_id,
            "actor_token_id": None,
            "agency_id": agency_id,
            "object_type": object_type,
            "object_id": str(user_id) if object_type else "",
            "object_label": label if object_type else "",
            "request_id": f"{rng.getrandbits(128):032x}",
            "source_ip": f"10.0.{seq % 250}.{seq % 200}",
            "details": details,
            "prev_hash": prev_hash,
        }
        prev_hash = chain.digest(values)
        # Stored as Django would store them: the database's datetime, the JSON as text.
        row = {**values, "occurred_at": adapt(moment), "details": json.dumps(details)}
        yield (*(row[name] for name in chain.FIELDS), prev_hash)


def generate(count: int, agency_ids: Sequence[int] = ()) -> float:
    """Append ``count`` valid events after the current head; returns the seconds it took."""
    started = time.perf_counter()
    start_seq, prev_hash = chain.head()
    sql = (
        f"INSERT INTO audit_auditevent ({', '.join(COLUMNS)}) "  # noqa: S608 - fixed names
        f"VALUES ({', '.join(['%s'] * len(COLUMNS))})"
    )
    rows = _events(count, start_seq + 1, prev_hash, agency_ids)
    while True:
        batch = list(itertools.islice(rows, BATCH))
        if not batch:
            break
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, batch)
    return time.perf_counter() - started
