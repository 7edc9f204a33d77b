"""The people API (/api/v1/people): person records, match reviews and conflict checks.

A token reads its agency's person records with ``people:read``, records them with
``people:write``, and runs conflict checks with ``conflicts:check``; people are limited by
their roles, not scopes. Decisions about who is who (reviews, merges) and about conflicts
(clearing, confirming) are a person's: tokens cannot make them. Another agency's records,
reviews and checks answer 404, as if they did not exist.
"""

from datetime import date, datetime
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from accord.core.access import access_object
from accord.core.api import ERRORS, AccordCursorPagination, StrictSchema, actor_of, require_scope
from accord.core.errors import NotFound
from accord.people import actions
from accord.people.access import CONFLICTS_SCOPE, PEOPLE_READ_SCOPE, PEOPLE_WRITE_SCOPE
from accord.people.models import (
    CheckSource,
    ConflictCheck,
    ConflictHit,
    HitDecision,
    IdentifierKind,
    LinkMethod,
    MasterMerge,
    MatchReview,
    PartyRole,
    PersonRecord,
    ReviewStatus,
    Sex,
)

router = Router(tags=["people"])


# --- schemas -----------------------------------------------------------------------------------


class NameOut(Schema):
    first_name: str
    middle_name: str
    last_name: str


class RoleOut(Schema):
    role: PartyRole
    case_reference: str
    current: bool


class LinkOut(Schema):
    person_id: int = Field(description="The master person the record belongs to")
    method: LinkMethod
    match_probability: float | None
    match_weight: float | None
    agreed_fields: list[str]


class PersonRecordOut(Schema):
    id: int
    agency_id: int
    source_id: str
    first_name: str
    middle_name: str
    last_name: str
    suffix: str
    date_of_birth: date | None
    sex: str
    identifiers: dict[str, str]
    address_line: str
    city: str
    state: str
    postal_code: str
    aliases: list[NameOut]
    roles: list[RoleOut]
    link: LinkOut | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_link(obj: PersonRecord) -> dict[str, Any] | None:
        link = getattr(obj, "link", None)
        if link is None:
            return None
        return {
            "person_id": link.master_id,
            "method": link.method,
            "match_probability": link.match_probability,
            "match_weight": link.match_weight,
            "agreed_fields": link.agreed_fields,
        }


class AliasIn(StrictSchema):
    first_name: str = ""
    middle_name: str = ""
    last_name: str


class IdentifiersIn(StrictSchema):
    ssn_last4: str | None = Field(None, description="The last 4 digits only")
    state_id: str | None = None
    fbi_number: str | None = None
    driver_license: str | None = None
    booking_number: str | None = None
    client_number: str | None = None


class PersonRecordIn(StrictSchema):
    """Create or update (by ``source_id``) a record of the caller's agency."""

    source_id: str
    first_name: str
    last_name: str
    middle_name: str = ""
    suffix: str = ""
    date_of_birth: date | None = None
    sex: Sex | None = None
    identifiers: IdentifiersIn | None = None
    address_line: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    aliases: list[AliasIn] | None = Field(
        None, description="Replaces the record's aliases when sent"
    )


class RoleIn(StrictSchema):
    role: PartyRole
    case_reference: str
    current: bool = True


class RecordFilters(Schema):
    q: str = Field("", description="Words to find in names, aliases or source id")


class ReviewRecordOut(Schema):
    id: int
    source_id: str
    first_name: str
    middle_name: str
    last_name: str
    date_of_birth: date | None


class ReviewOut(Schema):
    id: int
    status: ReviewStatus
    match_probability: float
    match_weight: float
    agreed_fields: list[str]
    comparison: dict[str, str]
    record_a: ReviewRecordOut
    record_b: ReviewRecordOut
    decided_by: str
    decided_at: datetime | None
    note: str
    merge_id: int | None


class ReviewDecisionIn(StrictSchema):
    decision: ReviewStatus = Field(description="confirmed (merge) or split")
    note: str = ""


class UndoIn(StrictSchema):
    reason: str


class MergeOut(Schema):
    id: int
    kept_id: int
    absorbed_id: int
    merged_at: datetime
    merged_by: str
    undone_at: datetime | None
    undone_by: str


class PartyIn(StrictSchema):
    first_name: str = Field(description="At least an initial")
    last_name: str
    middle_name: str = ""
    date_of_birth: date | None = None
    role: PartyRole | None = None


class CheckIn(StrictSchema):
    reference: str = Field("", description="The matter checked, e.g. a case number")
    parties: list[PartyIn]


class HitOut(Schema):
    id: int
    record_id: int
    record_source_id: str
    record_name: str
    record_date_of_birth: date | None
    score: float
    explanation: str
    matched_name: str
    roles: str
    decision: HitDecision
    decided_by: str
    decided_at: datetime | None
    decision_note: str


class PartyOut(Schema):
    row: int
    first_name: str
    middle_name: str
    last_name: str
    date_of_birth: date | None
    role: str
    hits: list[HitOut]


class CheckSummaryOut(Schema):
    id: int
    reference: str
    source: CheckSource
    requested_by: str
    created_at: datetime
    candidate_count: int
    hit_count: int
    open_count: int
    confirmed_count: int
    outcome: str


class CheckOut(CheckSummaryOut):
    parties: list[PartyOut]


class HitDecisionIn(StrictSchema):
    decision: HitDecision = Field(description="cleared, flagged or confirmed")
    note: str = Field("", description="Required to clear a hit")


# --- answers -----------------------------------------------------------------------------------


def _records(request: HttpRequest) -> Any:
    actor = require_scope(request, PEOPLE_READ_SCOPE)
    return (
        PersonRecord.objects.visible_to(actor)
        .select_related("link")
        .prefetch_related("aliases", "roles")
    )


def _check_data(check: ConflictCheck, *, with_parties: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        f: getattr(check, f)
        for f in (
            "id",
            "reference",
            "source",
            "requested_by",
            "created_at",
            "candidate_count",
            "hit_count",
            "open_count",
            "confirmed_count",
            "outcome",
        )
    }
    if with_parties:
        data["parties"] = [
            {
                "row": party.row,
                "first_name": party.first_name,
                "middle_name": party.middle_name,
                "last_name": party.last_name,
                "date_of_birth": party.date_of_birth,
                "role": party.role,
                "hits": [_hit_data(hit) for hit in party.hits.all()],
            }
            for party in check.candidates.all()
        ]
    return data


def _hit_data(hit: ConflictHit) -> dict[str, Any]:
    record = hit.record
    return {
        "id": hit.pk,
        "record_id": record.pk,
        "record_source_id": record.source_id,
        "record_name": record.full_name,
        "record_date_of_birth": record.date_of_birth,
        "score": hit.score,
        "explanation": hit.explanation,
        "matched_name": hit.matched_name,
        "roles": hit.roles_summary,
        "decision": hit.decision,
        "decided_by": hit.decided_by,
        "decided_at": hit.decided_at,
        "decision_note": hit.decision_note,
    }


def _check_with_hits(actor: Any, pk: int) -> ConflictCheck:
    hits: QuerySet[ConflictHit] = ConflictHit.objects.select_related("record").order_by(
        "-score", "pk"
    )
    # django-stubs cannot type a Prefetch through two relations; the lookup is checked at
    # run time (and by the tests that open a check).
    prefetch: Any = Prefetch("candidates__hits", queryset=hits)  # type: ignore[arg-type]
    queryset = ConflictCheck.objects.prefetch_related(prefetch)
    check: ConflictCheck = access_object(queryset, actor, pk)
    return check


# --- person records ----------------------------------------------------------------------------


@router.get(
    "/records",
    response={200: list[PersonRecordOut], **ERRORS},
    summary="List person records",
    description="The caller's agency's person records, newest first; `q` searches names, "
    "aliases and source ids.",
)
@paginate(AccordCursorPagination)
def list_records(request: HttpRequest, filters: Query[RecordFilters]) -> Any:
    records = _records(request)
    if filters.q:
        records = records.search(filters.q)
    return records


@router.post(
    "/records",
    response={200: PersonRecordOut, **ERRORS},
    summary="Record a person (create or update by source id)",
    description="Files the record for matching and links it to a person. Needs people:write.",
)
def save_record(request: HttpRequest, payload: PersonRecordIn) -> Any:
    actor = require_scope(request, PEOPLE_WRITE_SCOPE)
    require_scope(request, PEOPLE_READ_SCOPE)
    from accord.directory.models import Agency

    agency = Agency.objects.filter(pk=actor.agency_id or 0).first()
    if agency is None:
        raise NotFound("No agency to record people for.")
    values = payload.model_dump(exclude={"source_id"})
    values["identifiers"] = {k: v for k, v in (values["identifiers"] or {}).items() if v}
    values["sex"] = values["sex"] or ""
    if values["aliases"] is None:
        del values["aliases"]
    record = actions.record_person(agency, payload.source_id, actor=actor, **values)
    return access_object(_records(request), actor, record.pk)


@router.get(
    "/records/{record_id}",
    response={200: PersonRecordOut, **ERRORS},
    summary="One person record",
)
def get_record(request: HttpRequest, record_id: int) -> Any:
    return access_object(_records(request), actor_of(request), record_id)


@router.post(
    "/records/{record_id}/roles",
    response={200: PersonRecordOut, **ERRORS},
    summary="Set the person's role in a matter",
    description="What conflict checks report (current or former client, victim, witness…).",
)
def set_role(request: HttpRequest, record_id: int, payload: RoleIn) -> Any:
    actor = require_scope(request, PEOPLE_WRITE_SCOPE)
    record = access_object(_records(request), actor, record_id)
    actions.set_person_role(
        record, payload.role, payload.case_reference, actor=actor, current=payload.current
    )
    return access_object(_records(request), actor, record_id)


# --- reviews and merges ------------------------------------------------------------------------


def _reviews(request: HttpRequest) -> Any:
    return MatchReview.objects.visible_to(actor_of(request)).select_related("record_a", "record_b")


@router.get(
    "/reviews",
    response={200: list[ReviewOut], **ERRORS},
    summary="The match review queue",
    description="Uncertain pairs of the caller's agency's records (supervisors and agency "
    "administrators). `status` filters; pending by default.",
)
@paginate(AccordCursorPagination)
def list_reviews(request: HttpRequest, status: ReviewStatus = ReviewStatus.PENDING) -> Any:
    return _reviews(request).filter(status=status)


@router.post(
    "/reviews/{review_id}/decision",
    response={200: ReviewOut, **ERRORS},
    summary="Decide an uncertain pair",
)
def decide_review(request: HttpRequest, review_id: int, payload: ReviewDecisionIn) -> Any:
    actor = actor_of(request)
    review = access_object(_reviews(request), actor, review_id)
    actions.decide_review(review, payload.decision, actor=actor, note=payload.note)
    return access_object(_reviews(request), actor, review_id)


@router.post(
    "/merges/{merge_id}/undo",
    response={200: MergeOut, **ERRORS},
    summary="Undo a merge of two persons",
)
def undo_merge(request: HttpRequest, merge_id: int, payload: UndoIn) -> Any:
    actor = actor_of(request)
    merge = access_object(MasterMerge.objects, actor, merge_id)
    return actions.undo_merge(merge, actor=actor, reason=payload.reason)


# --- conflict checks -----------------------------------------------------------------------------


@router.get(
    "/conflict-checks",
    response={200: list[CheckSummaryOut], **ERRORS},
    summary="List conflict checks",
    description="The caller's agency's conflict checks, newest first.",
)
@paginate(AccordCursorPagination)
def list_checks(request: HttpRequest) -> Any:
    actor = require_scope(request, CONFLICTS_SCOPE)
    return ConflictCheck.objects.visible_to(actor)


@router.post(
    "/conflict-checks",
    response={200: CheckOut, **ERRORS},
    summary="Run a conflict check",
    description="Checks each party against every current and former client and party of the "
    "caller's agency (ABA Model Rules 1.7, 1.9, 1.10), aliases, nicknames, spelling "
    "variants, swapped names and mistyped dates of birth included. Needs conflicts:check.",
)
def run_check(request: HttpRequest, payload: CheckIn) -> Any:
    actor = require_scope(request, CONFLICTS_SCOPE)
    from accord.directory.models import Agency

    agency = Agency.objects.filter(pk=actor.agency_id or 0).first()
    if agency is None:
        raise NotFound("No agency to check conflicts for.")
    parties = [{**p.model_dump(), "role": p.role or ""} for p in payload.parties]
    check = actions.check_conflicts(
        agency, parties, actor=actor, reference=payload.reference, source=CheckSource.API
    )
    return _check_data(_check_with_hits(actor, check.pk), with_parties=True)


@router.get(
    "/conflict-checks/{check_id}",
    response={200: CheckOut, **ERRORS},
    summary="One conflict check with its hits",
)
def get_check(request: HttpRequest, check_id: int) -> Any:
    actor = require_scope(request, CONFLICTS_SCOPE)
    return _check_data(_check_with_hits(actor, check_id), with_parties=True)


@router.post(
    "/conflict-hits/{hit_id}/decision",
    response={200: HitOut, **ERRORS},
    summary="Clear, flag or confirm a hit",
    description="Attorneys and supervisors clear (saying why) or confirm; anyone may flag a "
    "hit for a supervisor, who then decides. Tokens cannot decide.",
)
def decide_hit(request: HttpRequest, hit_id: int, payload: HitDecisionIn) -> Any:
    actor = require_scope(request, CONFLICTS_SCOPE)
    hits = ConflictHit.objects.select_related("record")
    hit = access_object(hits, actor, hit_id)
    actions.decide_hit(hit, payload.decision, actor=actor, note=payload.note)
    return _hit_data(access_object(hits, actor, hit_id))


__all__ = ["IdentifierKind", "router"]
