"""Schemas of the cases API: what it answers (``…Out``) and what it accepts (``…In``,
strict: an unknown field is a 422, never silently ignored)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ninja import Field, Schema

from accord.cases.models import (
    CaseStatus,
    ChargeDisposition,
    ChargeLevel,
    Disposition,
    EventKind,
    EventStatus,
    NoteKind,
    TeamRole,
    TicklerStatus,
    Trigger,
)
from accord.core.api import StrictSchema
from accord.people.models import HitDecision, PartyRole

# --- answers ---------------------------------------------------------------------------------


class ClientNameOut(Schema):
    first_name: str
    middle_name: str
    last_name: str


class CaseTypeOut(Schema):
    id: int
    standard: str
    code: str
    label: str
    hours_per_case: float


class CaseClientOut(Schema):
    id: int
    number: str
    first_name: str
    middle_name: str
    last_name: str
    suffix: str
    date_of_birth: date | None
    aliases: list[ClientNameOut]
    person_record_id: int = Field(description="The defender's people record of the client")
    supervision_since: date | None = Field(description="Probation supervision, as partners told")
    supervision_agency_id: int | None
    supervision_officer: str
    supervision_ends_on: date | None = Field(description="When supervision is expected to end")
    supervision_ended_on: date | None
    created_at: datetime

    @staticmethod
    def resolve_first_name(obj: Any) -> str:
        return str(obj.person.first_name)

    @staticmethod
    def resolve_middle_name(obj: Any) -> str:
        return str(obj.person.middle_name)

    @staticmethod
    def resolve_last_name(obj: Any) -> str:
        return str(obj.person.last_name)

    @staticmethod
    def resolve_suffix(obj: Any) -> str:
        return str(obj.person.suffix)

    @staticmethod
    def resolve_date_of_birth(obj: Any) -> date | None:
        value: date | None = obj.person.date_of_birth
        return value

    @staticmethod
    def resolve_aliases(obj: Any) -> list[Any]:
        return list(obj.person.aliases.all())

    @staticmethod
    def resolve_person_record_id(obj: Any) -> int:
        return int(obj.person_id)


class CaseConflictStateOut(Schema):
    unresolved_hits: bool = Field(description="A current hit waits for a lawyer's decision")
    confirmed_conflict: bool = Field(description="A conflict was confirmed: conflict counsel")


class CaseOut(Schema):
    id: int
    number: str
    client_id: int
    client_number: str
    court_id: int
    court: str
    case_type: CaseTypeOut
    status: CaseStatus
    opened_on: date
    closed_on: date | None
    disposition: Disposition | None
    disposition_on: date | None
    sentence: str = Field(description="The sentence as the court's event said it")
    sentenced_on: date | None
    warrant_outstanding: bool = Field(description="The court told of a warrant not recalled")
    warrant_issued_at: datetime | None
    warrant_reference: str
    next_court_date: datetime | None
    conflict: CaseConflictStateOut

    @staticmethod
    def resolve_client_number(obj: Any) -> str:
        return str(obj.client.number)

    @staticmethod
    def resolve_court(obj: Any) -> str:
        return str(obj.court.name)

    @staticmethod
    def resolve_disposition(obj: Any) -> str | None:
        return obj.disposition or None

    @staticmethod
    def resolve_next_court_date(obj: Any) -> datetime | None:
        return getattr(obj, "next_date", None)

    @staticmethod
    def resolve_conflict(obj: Any) -> dict[str, bool]:
        return {
            "unresolved_hits": bool(getattr(obj, "unresolved_hits", False)),
            "confirmed_conflict": bool(getattr(obj, "confirmed_conflict", False)),
        }


class CaseChargeOut(Schema):
    id: int
    case_id: int
    position: int
    statute: str
    description: str
    level: ChargeLevel
    degree: str
    counts: int
    disposition: ChargeDisposition
    disposition_on: date | None


class CourtEventOut(Schema):
    id: int
    case_id: int
    kind: EventKind
    starts_at: datetime
    courtroom: str
    status: EventStatus
    result: str
    continued_to_id: int | None


class CasePartyOut(Schema):
    id: int
    case_id: int
    role: PartyRole
    first_name: str
    middle_name: str
    last_name: str
    date_of_birth: date | None
    person_record_id: int
    added_at: datetime

    @staticmethod
    def resolve_first_name(obj: Any) -> str:
        return str(obj.person.first_name)

    @staticmethod
    def resolve_middle_name(obj: Any) -> str:
        return str(obj.person.middle_name)

    @staticmethod
    def resolve_last_name(obj: Any) -> str:
        return str(obj.person.last_name)

    @staticmethod
    def resolve_date_of_birth(obj: Any) -> date | None:
        value: date | None = obj.person.date_of_birth
        return value

    @staticmethod
    def resolve_person_record_id(obj: Any) -> int:
        return int(obj.person_id)


class CaseAssignmentOut(Schema):
    id: int
    case_id: int
    staff_id: int
    name: str
    role: TeamRole
    starts_on: date
    ends_on: date | None
    active: bool

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj.staff.user.get_full_name() or obj.staff.user.username)


class CaseCustodyOut(Schema):
    id: int
    client_id: int
    case_id: int | None
    in_custody_since: date
    facility: str
    bond_amount: Decimal | None
    bond_terms: str
    released_on: date | None
    in_custody: bool


class CaseTicklerOut(Schema):
    id: int
    case_id: int
    case_number: str
    label: str
    due_on: date
    status: TicklerStatus
    source: str
    rule_id: int | None
    closed_at: datetime | None
    closed_by: str
    close_note: str

    @staticmethod
    def resolve_case_number(obj: Any) -> str:
        return str(obj.case.number)


class CaseHitOut(Schema):
    id: int
    subject: str = Field(description='"client", or the id of the party checked')
    checked_name: str
    checked_date_of_birth: date | None
    record_id: int = Field(description="The office's people record that may be the subject")
    matched_name: str
    score: float
    explanation: str
    roles_summary: str
    decision: HitDecision
    decided_by: str
    decided_at: datetime | None
    decision_note: str

    @staticmethod
    def resolve_subject(obj: Any) -> str:
        party_id = obj.candidate.case_subject.party_id
        return "client" if party_id is None else str(party_id)

    @staticmethod
    def resolve_checked_name(obj: Any) -> str:
        return str(obj.candidate.full_name)

    @staticmethod
    def resolve_checked_date_of_birth(obj: Any) -> date | None:
        value: date | None = obj.candidate.date_of_birth
        return value


class CaseDetailOut(CaseOut):
    """A case with its parts, loaded by ``api.records.case_detail`` (one query each)."""

    charges: list[CaseChargeOut]
    events: list[CourtEventOut]
    parties: list[CasePartyOut]
    team: list[CaseAssignmentOut]
    ticklers: list[CaseTicklerOut]
    conflict_hits: list[CaseHitOut]

    @staticmethod
    def resolve_charges(obj: Any) -> list[Any]:
        return list(obj.loaded["charges"])

    @staticmethod
    def resolve_events(obj: Any) -> list[Any]:
        return list(obj.loaded["events"])

    @staticmethod
    def resolve_parties(obj: Any) -> list[Any]:
        return list(obj.loaded["parties"])

    @staticmethod
    def resolve_team(obj: Any) -> list[Any]:
        return list(obj.loaded["team"])

    @staticmethod
    def resolve_ticklers(obj: Any) -> list[Any]:
        return list(obj.loaded["ticklers"])

    @staticmethod
    def resolve_conflict_hits(obj: Any) -> list[Any]:
        return list(obj.loaded["hits"])


class CaseNoteOut(Schema):
    id: int
    case_id: int
    kind: NoteKind
    label: str = Field(description="The privilege label every note carries")
    text: str
    author_label: str
    created_at: datetime
    edited_at: datetime | None


class CaseDocumentOut(Schema):
    id: int
    case_id: int
    filename: str
    description: str
    content_type: str
    size: int
    sha256: str
    scan: str
    label: str
    uploaded_by_label: str
    uploaded_at: datetime


class TicklerRuleOut(Schema):
    id: int
    trigger: Trigger
    value: str
    offset_days: int
    label: str
    active: bool
    description: str


class CalendarEventOut(CourtEventOut):
    case_number: str
    court: str

    @staticmethod
    def resolve_case_number(obj: Any) -> str:
        return str(obj.case.number)

    @staticmethod
    def resolve_court(obj: Any) -> str:
        return str(obj.case.court.name)


class CalendarFeedOut(Schema):
    id: int
    url: str = Field(description="The feed's address, shown this once: keep it private")
    created_at: datetime


# --- requests --------------------------------------------------------------------------------


class ClientAliasIn(StrictSchema):
    first_name: str = ""
    middle_name: str = ""
    last_name: str


class CaseClientIn(StrictSchema):
    """Take on a client of the caller's office."""

    first_name: str
    last_name: str
    middle_name: str = ""
    suffix: str = ""
    date_of_birth: date | None = None
    number: str = Field("", description="The office's client number; blank for a new one")
    aliases: list[ClientAliasIn] | None = None


class CaseClientPatch(StrictSchema):
    first_name: str | None = None
    middle_name: str | None = None
    last_name: str | None = None
    suffix: str | None = None
    date_of_birth: date | None = None
    aliases: list[ClientAliasIn] | None = None


class CaseChargeIn(StrictSchema):
    statute: str
    description: str
    level: ChargeLevel
    degree: str = ""
    counts: int = 1
    position: int | None = None


class CaseChargePatch(StrictSchema):
    statute: str | None = None
    description: str | None = None
    level: ChargeLevel | None = None
    degree: str | None = None
    counts: int | None = None
    position: int | None = None
    disposition: ChargeDisposition | None = None
    disposition_on: date | None = None


class CasePartyIn(StrictSchema):
    role: PartyRole
    first_name: str
    last_name: str
    middle_name: str = ""
    date_of_birth: date | None = None


class CasePartyPatch(StrictSchema):
    role: PartyRole | None = None
    first_name: str | None = None
    middle_name: str | None = None
    last_name: str | None = None
    date_of_birth: date | None = None


class CaseIn(StrictSchema):
    """Open a case for a client: checked for conflicts before it is relied on."""

    client_id: int
    number: str
    court_id: int
    case_type_id: int
    opened_on: date | None = None
    attorney_id: int | None = Field(None, description="Staff profile id; default: the caller")
    charges: list[CaseChargeIn] = Field(default_factory=list)
    parties: list[CasePartyIn] = Field(default_factory=list)


class CasePatch(StrictSchema):
    number: str | None = None
    court_id: int | None = None
    case_type_id: int | None = None
    opened_on: date | None = None


class CloseIn(StrictSchema):
    disposition: Disposition
    disposition_on: date | None = None
    closed_on: date | None = None


class CaseReasonIn(StrictSchema):
    reason: str


class CourtEventIn(StrictSchema):
    kind: EventKind
    starts_at: datetime
    courtroom: str = ""


class CourtEventPatch(StrictSchema):
    kind: EventKind | None = None
    starts_at: datetime | None = None
    courtroom: str | None = None


class CourtEventOutcomeIn(StrictSchema):
    status: EventStatus
    result: str = ""
    continued_to: datetime | None = None


class CaseAssignIn(StrictSchema):
    staff_id: int
    role: TeamRole
    starts_on: date | None = None
    ends_on: date | None = None


class AssignmentEndIn(StrictSchema):
    ends_on: date | None = None


class CaseCustodyIn(StrictSchema):
    in_custody_since: date
    facility: str
    bond_amount: Decimal | None = None
    bond_terms: str = ""
    case_id: int | None = None


class CustodyReleaseIn(StrictSchema):
    released_on: date


class CaseNoteIn(StrictSchema):
    text: str
    kind: NoteKind = NoteKind.NOTE


class CaseNotePatch(StrictSchema):
    text: str


class CaseHitDecisionIn(StrictSchema):
    decision: HitDecision
    note: str = ""


class CaseTicklerIn(StrictSchema):
    label: str
    due_on: date


class CaseTicklerCloseIn(StrictSchema):
    note: str = ""


class TicklerRuleIn(StrictSchema):
    trigger: Trigger
    value: str = ""
    offset_days: int
    label: str
    active: bool = True
