"""Bulk feeds: events from a CSV or JSON-lines file, each row ingested on its own (its own
transaction), with a report of every rejected row (its line and the reason) while the good
rows are accepted. Rows carry idempotency keys, so a feed can be re-run safely: rows already
taken are counted as duplicates, never ingested twice.

CSV columns: ``event_type``, ``idempotency_key``, ``occurred_at`` (ISO 8601 with an offset),
optional ``schema_version``; payload fields by name (``booking_number``, ``facility``,
``case_reference``, …) and the subject as ``subject.source_id``, ``subject.first_name``,
``subject.last_name``, ``subject.date_of_birth``…; list fields (``charges``,
``subject.aliases``) separated by ``;``. Empty cells are left out.

JSON lines: one object a line, shaped as the API's ``POST /api/v1/events`` body.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

from accord.core.actors import Actor
from accord.core.errors import AccordError
from accord.directory.models import Agency
from accord.exchange.actions import ingest_event

LIST_FIELDS = {"charges", "subject.aliases"}


@dataclass(frozen=True)
class Row:
    line: int
    event_type: str
    idempotency_key: str
    occurred_at: str
    payload: dict[str, Any]
    schema_version: int | None = None


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: str


@dataclass
class Report:
    created: int = 0
    duplicates: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return (
            f"{self.created} created, {self.duplicates} already taken, "
            f"{len(self.rejected)} rejected"
        )


def _csv_rows(handle: TextIO) -> Iterator[Row | Rejected]:
    reader = csv.DictReader(handle)
    for row in reader:
        line = reader.line_num
        payload: dict[str, Any] = {}
        meta: dict[str, str] = {}
        for name, raw in row.items():
            if name is None or raw is None or raw.strip() == "":
                continue
            value: Any = raw.strip()
            if name in ("event_type", "idempotency_key", "occurred_at", "schema_version"):
                meta[name] = value
                continue
            if name in LIST_FIELDS:
                value = [v.strip() for v in value.split(";") if v.strip()]
            head, _, tail = name.partition(".")
            if tail:
                payload.setdefault(head, {})[tail] = value
            else:
                payload[name] = value
        version = meta.get("schema_version")
        if version is not None and not version.isdigit():
            yield Rejected(line, "schema_version: a whole number")
            continue
        yield Row(
            line,
            meta.get("event_type", ""),
            meta.get("idempotency_key", ""),
            meta.get("occurred_at", ""),
            payload,
            int(version) if version else None,
        )


def _jsonl_rows(handle: TextIO) -> Iterator[Row | Rejected]:
    for line, text in enumerate(handle, start=1):
        if not text.strip():
            continue
        try:
            item = json.loads(text)
        except json.JSONDecodeError as exc:
            yield Rejected(line, f"not JSON: {exc.msg}")
            continue
        if not isinstance(item, dict) or not isinstance(item.get("payload"), dict):
            yield Rejected(line, "payload: an object is needed")
            continue
        yield Row(
            line,
            str(item.get("event_type", "")),
            str(item.get("idempotency_key", "")),
            str(item.get("occurred_at", "")),
            item["payload"],
            item.get("schema_version"),
        )


def rows_of(handle: TextIO, fmt: str) -> Iterable[Row | Rejected]:
    return _jsonl_rows(handle) if fmt == "jsonl" else _csv_rows(handle)


def _reason(exc: AccordError) -> str:
    errors = getattr(exc, "errors", None) or []
    if errors:
        return "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
    return str(exc.detail)


def import_events(rows: Iterable[Row | Rejected], agency: Agency, *, actor: Actor) -> Report:
    """Ingest every good row; report the bad ones with their line and reason."""
    report = Report()
    for row in rows:
        if isinstance(row, Rejected):
            report.rejected.append(row)
            continue
        try:
            occurred_at = datetime.fromisoformat(row.occurred_at)
        except ValueError:
            report.rejected.append(Rejected(row.line, "occurred_at: an ISO 8601 date and time"))
            continue
        try:
            result = ingest_event(
                agency,
                row.event_type,
                row.payload,
                row.idempotency_key,
                occurred_at,
                actor=actor,
                schema_version=row.schema_version,
            )
        except AccordError as exc:
            report.rejected.append(Rejected(row.line, _reason(exc)))
            continue
        if result.created:
            report.created += 1
        else:
            report.duplicates += 1
    return report
