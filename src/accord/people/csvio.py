"""The CSV files people and conflict checks read and write (columns in docs/people.md).

Readers report every bad row with its line number and reason and keep the good rows;
writers neutralise cells a spreadsheet would run as a formula (CWE-1236).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from accord.people.models import IdentifierKind
from accord.people.validation import CleanPerson, clean_party, clean_person

RECORD_COLUMNS = (
    "source",
    "source_id",
    "first_name",
    "middle_name",
    "last_name",
    "suffix",
    "date_of_birth",
    "sex",
    *IdentifierKind.values,
    "address_line",
    "city",
    "state",
    "postal_code",
    "aliases",
)
PARTY_COLUMNS = ("first_name", "middle_name", "last_name", "date_of_birth", "role")
HIT_COLUMNS = (
    "row",
    "party_first_name",
    "party_middle_name",
    "party_last_name",
    "party_date_of_birth",
    "party_role",
    "score",
    "explanation",
    "matched_name",
    "record_source_id",
    "record_name",
    "record_date_of_birth",
    "roles",
    "decision",
    "check_id",
    "hit_id",
)
LINK_COLUMNS = (
    "source",
    "source_id",
    "person",
    "person_size",
    "best_match",
    "match_probability",
    "match_weight",
)
MAX_LINE_ERRORS = 1000


@dataclass
class RowError:
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        where = f" {self.field}:" if self.field else ""
        return f"line {self.line}:{where} {self.reason}"


@dataclass
class Parsed:
    """The good rows (line, cleaned values) and a reason for every bad one."""

    rows: list[tuple[int, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    bad_lines: int = 0


def _reader(
    stream: IO[str], required: Sequence[str], known: Sequence[str]
) -> tuple[csv.DictReader[str] | None, list[RowError]]:
    reader = csv.DictReader(stream)
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    missing = [c for c in required if c not in header]
    errors = [RowError(1, c, "column missing from the header") for c in missing]
    errors += [
        RowError(1, c, f"unknown column (known: {', '.join(known)})")
        for c in header
        if c not in known and c not in ("person_id",)
    ]
    return (None if missing else reader), errors


def read_records(stream: IO[str], *, need_source: bool = False) -> Parsed:
    """Person records (import and resolve): each good row as (line, CleanPerson)."""
    required = ("source_id", "first_name", "last_name") + (("source",) if need_source else ())
    parsed = Parsed()
    reader, parsed.errors = _reader(stream, required, RECORD_COLUMNS)
    if reader is None:
        return parsed
    seen: dict[tuple[str, str], int] = {}
    for row in reader:
        line = reader.line_num
        values: dict[str, Any] = {k: (v or "").strip() for k, v in row.items() if k}
        values["identifiers"] = {k: values.pop(k, "") for k in IdentifierKind.values}
        clean, errors = clean_person(values)
        key = (values.get("source", ""), clean.values["source_id"])
        if not errors and key in seen:
            errors = [{"field": "source_id", "reason": f"repeats line {seen[key]}"}]
        if errors:
            parsed.bad_lines += 1
            for e in errors:
                if len(parsed.errors) < MAX_LINE_ERRORS:
                    parsed.errors.append(RowError(line, e["field"], e["reason"]))
            continue
        seen[key] = line
        clean.values["source"] = values.get("source", "")
        parsed.rows.append((line, clean))
    return parsed


def read_records_frame(path: str) -> tuple[Any, list[RowError]]:
    """Person records for ``resolve``, read and checked column-wise with pandas (a million
    rows in seconds): the good rows as a frame with ``unique_id`` = source:source_id, and a
    reason for every bad row (line numbers count the header as line 1)."""
    import pandas as pd

    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame.columns = [c.strip() for c in frame.columns]
    errors = [
        RowError(1, c, "column missing from the header")
        for c in ("source_id", "first_name", "last_name")
        if c not in frame.columns
    ]
    if errors:
        return frame.iloc[0:0], errors
    if "source" not in frame.columns:
        frame["source"] = ""
    lines = frame.index.to_series() + 2
    problems = []
    for column in ("source_id", "first_name", "last_name"):
        problems.append((frame[column].str.strip() == "", column, "required"))
    if "date_of_birth" in frame.columns:
        given = frame["date_of_birth"].str.strip() != ""
        parsed = pd.to_datetime(frame["date_of_birth"], format="%Y-%m-%d", errors="coerce")
        problems.append((given & parsed.isna(), "date_of_birth", "not a date (use YYYY-MM-DD)"))
    repeated = frame.duplicated(["source", "source_id"], keep="first")
    problems.append((repeated, "source_id", "repeats an earlier line"))
    bad = pd.Series(False, index=frame.index)
    for mask, column, reason in problems:
        for line in lines[mask].head(MAX_LINE_ERRORS).tolist():
            if len(errors) < MAX_LINE_ERRORS:
                errors.append(RowError(int(line), column, reason))
        bad |= mask
    good = frame[~bad].copy()
    good["unique_id"] = good["source"] + ":" + good["source_id"]
    errors.sort(key=lambda e: e.line)
    return good, errors


def read_parties(stream: IO[str]) -> Parsed:
    """Parties to check for conflicts: each good row as (line, cleaned party)."""
    parsed = Parsed()
    reader, parsed.errors = _reader(stream, ("first_name", "last_name"), PARTY_COLUMNS)
    if reader is None:
        return parsed
    for row in reader:
        line = reader.line_num
        party, errors = clean_party({k: (v or "").strip() for k, v in row.items() if k})
        if errors:
            parsed.bad_lines += 1
            for e in errors:
                if len(parsed.errors) < MAX_LINE_ERRORS:
                    parsed.errors.append(RowError(line, e["field"], e["reason"]))
            continue
        parsed.rows.append((line, party))
    return parsed


def safe_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula (CWE-1236)."""
    text = "" if value is None else str(value)
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text


def write_rows(stream: IO[str], columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> int:
    writer = csv.writer(stream)
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow([safe_cell(row.get(c)) for c in columns])
        count += 1
    return count


def hit_rows(check: Any) -> Iterator[dict[str, Any]]:
    """The hits of a conflict check as HIT_COLUMNS rows, parties without hits included."""
    hits_by_party: dict[int, list[Any]] = {}
    for hit in check.hits.select_related("record").order_by("candidate__row", "-score", "pk"):
        hits_by_party.setdefault(hit.candidate_id, []).append(hit)
    for party in check.candidates.order_by("row", "pk"):
        base = {
            "row": party.row,
            "party_first_name": party.first_name,
            "party_middle_name": party.middle_name,
            "party_last_name": party.last_name,
            "party_date_of_birth": party.date_of_birth.isoformat() if party.date_of_birth else "",
            "party_role": party.role,
            "check_id": check.pk,
        }
        hits = hits_by_party.get(party.pk, [])
        if not hits:
            yield {**base, "explanation": "no match"}
        for hit in hits:
            record = hit.record
            yield {
                **base,
                "score": f"{hit.score:.1f}",
                "explanation": hit.explanation,
                "matched_name": hit.matched_name,
                "record_source_id": record.source_id,
                "record_name": record.full_name,
                "record_date_of_birth": record.date_of_birth.isoformat()
                if record.date_of_birth
                else "",
                "roles": hit.roles_summary,
                "decision": hit.decision,
                "hit_id": hit.pk,
            }


__all__ = [
    "HIT_COLUMNS",
    "LINK_COLUMNS",
    "PARTY_COLUMNS",
    "RECORD_COLUMNS",
    "CleanPerson",
    "Parsed",
    "RowError",
    "hit_rows",
    "read_parties",
    "read_records",
    "safe_cell",
    "write_rows",
]
