"""Incremental linkage: a new person record scored against the records it may match.

Candidates come from the same key index as conflict checks, across every agency (the
index is searched once per agency, so its (agency, kind, value) order still serves);
Splink's trained model scores each candidate pair. The model is the newest trained
:class:`LinkageModel`, or the one shipped with Accord (``default_model.json``, trained
the same way on synthetic multi-agency data) until an agency's own data trains one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from accord.people import matching, resolution
from accord.people.keys import Name, query_keys

LINK_THRESHOLD = resolution.LINK_THRESHOLD
REVIEW_THRESHOLD = resolution.REVIEW_THRESHOLD
MAX_CANDIDATES = 300
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


def candidate_ids(record_id: int, names: list[Name], dob: Any) -> list[int]:
    """Records of any agency filed under a key of one of ``names``."""
    from accord.directory.models import Agency

    keys: dict[str, set[str]] = {}
    for name in names:
        for kind, values in query_keys(name, dob).items():
            keys.setdefault(kind, set()).update(values)
    found: dict[int, float] = {}
    for agency_id in Agency.objects.values_list("pk", flat=True):
        for other_id, match_data in matching.candidates(agency_id, keys):
            if other_id == record_id:
                continue
            # Rank by name likeness only to cap a flood of common names; Splink decides.
            best = max(
                (
                    matching.compare_names(name, Name.decode(t))[0]
                    for t in match_data.split("|")[1:]
                    for name in names
                ),
                default=0.0,
            )
            found[other_id] = best
    ranked = sorted(found, key=lambda pk: (-found[pk], pk))
    return ranked[:MAX_CANDIDATES]


def score_candidates(record: Any, model: dict[str, Any]) -> list[Scored]:
    """The record's candidates, scored by the model, most probable first."""
    from accord.people.models import PersonRecord

    names = record.names()
    ids = candidate_ids(record.pk, names, record.date_of_birth)
    if not ids:
        return []
    own = _row(PersonRecord.objects.filter(pk=record.pk).values(*_ROW_FIELDS).get())
    others = [_row(v) for v in PersonRecord.objects.filter(pk__in=ids).values(*_ROW_FIELDS)]
    scores = resolution.score_pairs([(own, other) for other in others], model)
    found = [
        Scored(
            other_id=int(s.right),
            match_probability=s.match_probability,
            match_weight=s.match_weight,
            agreed=s.agreed,
            levels=s.levels,
        )
        for s in scores
    ]
    found.sort(key=lambda s: (-s.match_probability, s.other_id))
    return found


def train_from_records() -> tuple[dict[str, Any], int]:
    """Train a model on every person record in the database."""
    from accord.people.models import PersonRecord

    rows = [_row(v) for v in PersonRecord.objects.values(*_ROW_FIELDS).iterator(chunk_size=5000)]
    return resolution.train_model(rows), len(rows)
