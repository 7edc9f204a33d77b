"""The event catalogue: every type of event agencies exchange, as data.

Each entry has a stable code (never renamed once shipped: agreements' obligations and
subscriptions refer to it), a schema version, a JSON schema (draft 2020-12) for its payload,
and the data categories of the policy vocabulary it carries, so the policy decision point
can decide who may be told. The migration ``0002_catalogue`` loads these rows; a new version
of a schema is a new row, and the old version keeps validating old senders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from accord.policy.vocabulary import DataCategory as C

# Who the event is about, as the sending agency knows them: its own id for the person and
# the names and birth date identity resolution matches on.
SUBJECT: dict[str, Any] = {
    "type": "object",
    "required": ["source_id", "first_name", "last_name"],
    "additionalProperties": False,
    "properties": {
        "source_id": {"type": "string", "minLength": 1, "maxLength": 64},
        "first_name": {"type": "string", "minLength": 1, "maxLength": 100},
        "middle_name": {"type": "string", "maxLength": 100},
        "last_name": {"type": "string", "minLength": 1, "maxLength": 100},
        "date_of_birth": {"type": "string", "format": "date"},
        "aliases": {"type": "array", "items": {"type": "string", "maxLength": 200}},
    },
}
TEXT = {"type": "string", "maxLength": 200}
DATE_TIME = {"type": "string", "format": "date-time"}


@dataclass(frozen=True)
class Spec:
    code: str
    title: str
    categories: tuple[str, ...]
    fields: dict[str, Any] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    version: int = 1

    @property
    def family(self) -> str:
        return self.code.split(".", 1)[0]

    def schema(self) -> dict[str, Any]:
        properties: dict[str, Any] = {
            "subject": SUBJECT,
            "case_reference": {"type": "string", "maxLength": 80},
            "note": {"type": "string", "maxLength": 1000},
            **self.fields,
        }
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"urn:accord:event:{self.code}:v{self.version}",
            "title": self.title,
            "type": "object",
            "required": ["subject", *self.required],
            "additionalProperties": False,
            "properties": properties,
        }


CUSTODY = (C.IDENTITY.value, C.CUSTODY.value)
COURT = (C.IDENTITY.value, C.COURT_EVENTS.value)
HEARING = {"hearing_at": DATE_TIME, "hearing_type": TEXT, "courtroom": TEXT}

CATALOGUE: tuple[Spec, ...] = (
    Spec(
        "custody.booked",
        "Booked into custody",
        CUSTODY,
        {"booking_number": TEXT, "facility": TEXT, "charges": {"type": "array", "items": TEXT}},
        ("booking_number", "facility"),
    ),
    Spec(
        "custody.released",
        "Released from custody",
        CUSTODY,
        {"booking_number": TEXT, "release_reason": TEXT},
        ("booking_number",),
    ),
    Spec(
        "custody.transferred",
        "Transferred to another facility",
        CUSTODY,
        {"booking_number": TEXT, "from_facility": TEXT, "to_facility": TEXT},
        ("booking_number", "to_facility"),
    ),
    Spec(
        "court.case_filed",
        "Case filed",
        (*COURT, C.CHARGES.value),
        {"charges": {"type": "array", "items": TEXT}},
        ("case_reference",),
    ),
    Spec(
        "court.hearing_scheduled",
        "Hearing scheduled",
        COURT,
        HEARING,
        ("case_reference", "hearing_at"),
    ),
    Spec(
        "court.hearing_continued",
        "Hearing continued",
        COURT,
        {**HEARING, "continued_from": DATE_TIME, "reason": TEXT},
        ("case_reference", "hearing_at", "continued_from"),
    ),
    Spec(
        "court.hearing_cancelled",
        "Hearing cancelled",
        COURT,
        {**HEARING, "reason": TEXT},
        ("case_reference", "hearing_at"),
    ),
    Spec(
        "court.hearing_held",
        "Hearing held",
        COURT,
        {**HEARING, "outcome": TEXT},
        ("case_reference",),
    ),
    Spec(
        "court.disposition",
        "Disposition entered",
        (*COURT, C.CASE_STATUS.value),
        {"disposition": TEXT},
        ("case_reference", "disposition"),
    ),
    Spec(
        "court.sentence",
        "Sentence imposed",
        (*COURT, C.CASE_STATUS.value),
        {"sentence": {"type": "string", "maxLength": 1000}},
        ("case_reference", "sentence"),
    ),
    Spec(
        "court.warrant_issued",
        "Warrant issued",
        COURT,
        {"warrant_number": TEXT, "warrant_type": TEXT},
        ("warrant_number",),
    ),
    Spec(
        "court.warrant_recalled",
        "Warrant recalled",
        COURT,
        {"warrant_number": TEXT},
        ("warrant_number",),
    ),
    Spec(
        "probation.violation_filed",
        "Probation violation filed",
        (C.IDENTITY.value, C.CASE_STATUS.value),
        {"violation": {"type": "string", "maxLength": 1000}},
        ("violation",),
    ),
    Spec(
        "probation.supervision_started",
        "Supervision started",
        (C.IDENTITY.value, C.CASE_STATUS.value),
        {"officer": TEXT, "ends_on": {"type": "string", "format": "date"}},
    ),
    Spec(
        "probation.supervision_ended",
        "Supervision ended",
        (C.IDENTITY.value, C.CASE_STATUS.value),
        {"reason": TEXT},
    ),
    Spec(
        "referral.status_changed",
        "Referral status changed",
        (C.IDENTITY.value, C.CASE_STATUS.value),
        {"referral_reference": TEXT, "status": TEXT, "program": TEXT},
        ("referral_reference", "status"),
    ),
)
