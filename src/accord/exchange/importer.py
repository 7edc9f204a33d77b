"""Bulk feeds: events from a CSV or JSON-lines file, ingested a chunk at a time (each chunk
one transaction, :func:`accord.exchange.actions.ingest_bulk`), with a report of every rejected
row (its line and the reason) while the good rows are accepted. Rows carry idempotency keys,
so a feed can be re-run safely: rows already taken are counted as duplicates, never ingested
twice.

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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

from django.db import DatabaseError, connection

from accord.core.actors import Actor
from accord.core.errors import AccordError
from accord.directory.models import Agency
from accord.exchange.actions import ingest_bulk
from accord.exchange.bulk import BulkRow
from accord.people.bulk_linkage import LinkageIndex

LIST_FIELDS = {"charges", "subject.aliases"}
# Rows per transaction: large enough that a chunk's fixed costs (one Splink prediction, one
# subscription query, one policy batch per recipient) are spread thin, small enough that a
# chunk holds SQLite's write lock for a few seconds at most.
CHUNK_SIZE = 5000


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
    notifications: int = 0
    refusals: int = 0

    @property
    def summary(self) -> str:
        return (
            f"{self.created} created, {self.duplicates} already taken, "
            f"{len(self.rejected)} rejected"
        )


_META = ("event_type", "idempotency_key", "occurred_at", "schema_version")


def _csv_rows(handle: TextIO) -> Iterator[Row | Rejected]:
    reader = csv.reader(handle)
    header = next(reader, None) or []
    # Where each column goes, worked out once from the header (not once per cell): the
    # meta field, or the payload (or payload sub-object) key, and whether it is a list.
    # A name given twice takes its last column's cell, as csv.DictReader would.
    last_of = {name: index for index, name in enumerate(header)}
    columns = []
    for name, index in last_of.items():
        head, _, tail = name.partition(".")
        columns.append((index, name, name in _META, name in LIST_FIELDS, head, tail))
    for cells in reader:
        line = reader.line_num
        if not cells:
            continue  # a blank line (csv.DictReader skips these too)
        payload: dict[str, Any] = {}
        meta: dict[str, str] = {}
        for index, name, is_meta, is_list, head, tail in columns:
            if index >= len(cells):
                continue  # a short row: the missing cells are empty
            value: Any = cells[index].strip()
            if not value:
                continue
            if is_meta:
                meta[name] = value
                continue
            if is_list:
                value = [v.strip() for v in value.split(";") if v.strip()]
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


def _xml_rows(handle: TextIO) -> Iterator[Row | Rejected]:
    """NIEM XML: one ``accord:EventFeed`` document (``accord.exchange.niem``)."""
    from accord.exchange.niem import feed_rows  # niem imports Row and Rejected from here

    return feed_rows(handle.read())


# A format's reader by the name ``--format`` gives; CSV unless another is named.
READERS: dict[str, Callable[[TextIO], Iterator[Row | Rejected]]] = {
    "csv": _csv_rows,
    "jsonl": _jsonl_rows,
    "xml": _xml_rows,
}
# The format a file's name implies when none is named (the command and the upload page).
FORMAT_BY_SUFFIX = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".xml": "xml"}


def rows_of(handle: TextIO, fmt: str) -> Iterable[Row | Rejected]:
    return READERS.get(fmt, _csv_rows)(handle)


class FeedStopped(Exception):
    """A chunk failed as a whole (a database error, not a bad row): nothing of it was
    written, the chunks before it were. Re-running the file resumes safely."""

    def __init__(self, report: Report, first_line: int, cause: Exception) -> None:
        super().__init__(f"stopped at line {first_line}: {cause}")
        self.report = report
        self.first_line = first_line


def _reason(exc: AccordError) -> str:
    errors = getattr(exc, "errors", None) or []
    if errors:
        return "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
    return str(exc.detail)


def _bulk_row(row: Row) -> BulkRow | Rejected:
    try:
        occurred_at = datetime.fromisoformat(row.occurred_at)
    except ValueError:
        return Rejected(row.line, "occurred_at: an ISO 8601 date and time")
    if row.schema_version is not None and not isinstance(row.schema_version, int):
        return Rejected(row.line, "schema_version: a whole number")
    return BulkRow(
        row.line, row.event_type, row.idempotency_key, occurred_at, row.payload, row.schema_version
    )


def import_events(
    rows: Iterable[Row | Rejected],
    agency: Agency,
    *,
    actor: Actor,
    chunk_size: int = CHUNK_SIZE,
    index: LinkageIndex | None = None,
    progress: Callable[[Report], None] | None = None,
) -> Report:
    """Ingest every good row, a chunk at a time (each chunk one transaction, through
    :func:`ingest_bulk`); report the bad ones with their line and reason. With ``index``
    (every person record in memory, :class:`LinkageIndex`) the subjects of a chunk are
    linked in one prediction; without, one by one (small uploads)."""
    report = Report()
    chunk: list[BulkRow] = []

    def flush() -> None:
        try:
            done = ingest_bulk(chunk, agency, actor=actor, index=index)
        except AccordError as exc:
            # Not about one row (e.g. this sender may not post the agency's events): every
            # row of the chunk is refused for it, as each would have been on its own.
            report.rejected.extend(Rejected(r.line, _reason(exc)) for r in chunk)
            chunk.clear()
            return
        except DatabaseError as exc:
            report.rejected.sort(key=lambda r: r.line)
            raise FeedStopped(report, chunk[0].line, exc) from exc
        report.created += done.created
        report.duplicates += done.duplicates
        report.notifications += done.notifications
        report.refusals += done.refusals
        report.rejected.extend(Rejected(line, reason) for line, reason in done.rejected)
        if index is not None:
            index.refresh(done.linked_record_ids)
        chunk.clear()
        if progress is not None:
            progress(report)

    for row in rows:
        parsed = row if isinstance(row, Rejected) else _bulk_row(row)
        if isinstance(parsed, Rejected):
            report.rejected.append(parsed)
            continue
        chunk.append(parsed)
        if len(chunk) >= chunk_size:
            flush()
    if chunk:
        flush()
    report.rejected.sort(key=lambda r: r.line)
    return report


# Below this, PostgreSQL's buffer pool cannot hold the person-key index of a large county and
# a feed of a million rows takes about twice as long (docs/benchmarks.md).
SMALL_SHARED_BUFFERS = 1024**3


def shared_buffers() -> int | None:
    """PostgreSQL's ``shared_buffers`` in bytes (None on other databases)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setting::bigint * pg_size_bytes(coalesce(unit, '1B')) "
            "FROM pg_settings WHERE name = 'shared_buffers'"
        )
        row = cursor.fetchone()
    return int(row[0]) if row else None


def server_advice(buffers: int | None) -> str | None:
    """A note for whoever runs a feed when the server is configured too small for it."""
    if buffers is None or buffers >= SMALL_SHARED_BUFFERS:
        return None
    return (
        f"Note: PostgreSQL's shared_buffers is {buffers // 1024**2:,} MB. A large feed runs "
        "about twice as fast with a quarter of the server's memory, a max_wal_size of several "
        "GB and a checkpoint_timeout of 30 min (README: PostgreSQL for bulk feeds)."
    )
