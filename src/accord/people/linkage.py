"""Incremental linkage: a new person record scored against the records it may match.

Candidates come from the same key index as conflict checks, across every agency (the
index is searched once per agency, so its (agency, kind, value) order still serves);
Splink's trained model scores each candidate pair. The model is the newest trained
:class:`LinkageModel`, or the one shipped with Accord (``default_model.json``, trained
the same way on synthetic multi-agency data) until an agency's own data trains one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from accord.people import matching, resolution
from accord.people.keys import Name, query_keys

LINK_THRESHOLD = resolution.LINK_THRESHOLD
REVIEW_THRESHOLD = resolution.REVIEW_THRESHOLD
MAX_CANDIDATES = 300
# SQLite takes at most 32,766 parameters a statement (here one a pair and two a kind).
_PAIRS_PER_QUERY = 5000
_ROW_FIELDS = (
    "pk",
    "agency_id",
    "first_name",
    "middle_name",
    "last_name",
    "date_of_birth",
    "identifiers",
    "address_line",
    "city",
    "postal_code",
)


@dataclass(frozen=True)
class Scored:
    other_id: int
    match_probability: float
    match_weight: float
    agreed: list[str]
    levels: dict[str, str]


@cache
def default_model() -> dict[str, Any]:
    return resolution.shipped_model()


def current_model() -> dict[str, Any]:
    from accord.people.models import LinkageModel

    latest = LinkageModel.objects.order_by("-created_at", "-pk").first()
    return latest.as_dict() if latest is not None else default_model()


def _row(values: dict[str, Any]) -> dict[str, Any]:
    return {**values, "unique_id": str(values["pk"]), "source": str(values["agency_id"])}


def candidate_ids(records: Sequence[Any]) -> dict[int, list[int]]:
    """Per record: the records of any agency filed under a key of one of its names, the
    likeliest names first (at most ``MAX_CANDIDATES``). The keys of all the records are
    looked up together, one query per agency (not one per record and agency: a batch of
    new subjects would make hundreds of round trips), and each hit goes to the records
    whose keys it was filed under: the same candidates as looking each record up alone."""
    from django.db.models import prefetch_related_objects

    from accord.directory.models import Agency
    from accord.people.models import PersonRecord

    wanted: dict[int, set[tuple[str, str]]] = {}
    names_of: dict[int, list[Name]] = {}
    prefetch_related_objects(list(records), "aliases")  # one query, not one a record
    for record in records:
        names_of[record.pk] = names = record.names()
        wanted[record.pk] = {
            (kind, value)
            for name in names
            for kind, values in query_keys(name, record.date_of_birth).items()
            for value in values
        }
    pairs = set().union(*wanted.values()) if wanted else set()
    filed: dict[tuple[str, str], list[int]] = {}
    if pairs:
        for agency_id in Agency.objects.values_list("pk", flat=True):
            for record_id, kind, value in _filed_under(agency_id, pairs):
                filed.setdefault((kind, value), []).append(record_id)
    hits = {pk for ids in filed.values() for pk in ids}
    match_data = dict(PersonRecord.objects.filter(pk__in=hits).values_list("pk", "match_data"))
    found: dict[int, list[int]] = {}
    for record_id, keys in wanted.items():
        likeness: dict[int, float] = {}
        for other_id in {pk for key in keys for pk in filed.get(key, ())} - {record_id}:
            # Rank by name likeness only to cap a flood of common names; Splink decides.
            likeness[other_id] = max(
                (
                    matching.compare_names(name, Name.decode(t))[0]
                    for t in str(match_data.get(other_id, "")).split("|")[1:]
                    for name in names_of[record_id]
                ),
                default=0.0,
            )
        ranked = sorted(likeness, key=lambda pk: (-likeness[pk], pk))
        found[record_id] = ranked[:MAX_CANDIDATES]
    return found


def _filed_under(agency_id: int, pairs: set[tuple[str, str]]) -> list[tuple[int, str, str]]:
    """(record id, kind, value) of the agency's key index rows among ``pairs``, answered
    from the (agency, kind, value, record) index, a few thousand pairs a query."""
    from django.db import connection

    from accord.people.models import PersonKey

    table = connection.ops.quote_name(PersonKey._meta.db_table)
    ordered = sorted(pairs)
    found: list[tuple[int, str, str]] = []
    for start in range(0, len(ordered), _PAIRS_PER_QUERY):
        chunk = ordered[start : start + _PAIRS_PER_QUERY]
        params: list[Any]
        if connection.vendor == "postgresql":
            # The pairs as two arrays joined to the index: one statement whatever the keys.
            sql = (
                "SELECT k.record_id, k.kind, k.value "  # noqa: S608 - no input in the text
                f"FROM unnest(%s::text[], %s::text[]) AS q(kind, value) JOIN {table} k "
                "ON k.agency_id = %s AND k.kind = q.kind AND k.value = q.value"
            )
            params = [[k for k, _ in chunk], [v for _, v in chunk], agency_id]
        else:
            by_kind: dict[str, list[str]] = {}
            for kind, value in chunk:
                by_kind.setdefault(kind, []).append(value)
            selects = []
            params = []
            for kind, values in by_kind.items():
                marks = ", ".join(["%s"] * len(values))
                selects.append(
                    f"SELECT record_id, kind, value FROM {table} "  # noqa: S608 - placeholders
                    f"WHERE agency_id = %s AND kind = %s AND value IN ({marks})"
                )
                params += [agency_id, kind, *values]
            sql = " UNION ALL ".join(selects)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            found += [(int(row[0]), str(row[1]), str(row[2])) for row in cursor.fetchall()]
    return found


def score_many(records: Sequence[Any], model: dict[str, Any]) -> dict[int, list[Scored]]:
    """Each record's candidates, scored by the model, most probable first. All the pairs go
    to Splink in one call: a call costs tens of milliseconds whatever its size, so a batch
    of new records (an agency's batch of events) is scored for the price of one."""
    from accord.people.models import PersonRecord

    wanted = candidate_ids(records)
    found: dict[int, list[Scored]] = {pk: [] for pk in wanted}
    every = set(wanted) | {pk for ids in wanted.values() for pk in ids}
    if not any(wanted.values()):
        return found
    rows = {
        v["pk"]: _row(v) for v in PersonRecord.objects.filter(pk__in=every).values(*_ROW_FIELDS)
    }
    pairs = [
        (rows[pk], rows[other]) for pk, ids in wanted.items() for other in ids if other in rows
    ]
    for s in resolution.score_pairs(pairs, model):
        found[int(s.left)].append(
            Scored(
                other_id=int(s.right),
                match_probability=s.match_probability,
                match_weight=s.match_weight,
                agreed=s.agreed,
                levels=s.levels,
            )
        )
    for scored in found.values():
        scored.sort(key=lambda s: (-s.match_probability, s.other_id))
    return found


def train_from_records() -> tuple[dict[str, Any], int]:
    """Train a model on every person record in the database."""
    from accord.people.models import PersonRecord

    rows = [_row(v) for v in PersonRecord.objects.values(*_ROW_FIELDS).iterator(chunk_size=5000)]
    return resolution.train_model(rows), len(rows)
