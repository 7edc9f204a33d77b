"""The decision point's API (/api/v1/policy): the vocabulary, batched decisions for the
caller, client records restricted by policy (each cross-agency record returned is a
disclosure, recorded), the explain endpoint, disclosures, and ethical screens.

Scopes for tokens: ``policy:decide`` (ask decisions), ``records:read`` and
``records:write`` (client records), ``disclosures:read``. People are limited by roles.
"""

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from accord.accounts.models import User
from accord.core.access import Purpose, access_object
from accord.core.api import ERRORS, AccordCursorPagination, StrictSchema, require_scope
from accord.core.errors import InvalidInput, NotFound, PermissionDenied
from accord.directory.models import Agency
from accord.policy import actions
from accord.policy.engine import Decision, Resource, decide_many, decide_requests, snapshot
from accord.policy.explain import ExplainedRow, explain_client, explain_record, subject_actor
from accord.policy.models import ClientRecord, Disclosure, EthicalScreen
from accord.policy.notices import PART2_NOTICE
from accord.policy.views import sees_whole_policy
from accord.policy.vocabulary import (
    ConsentKind,
    DataCategory,
    PolicyAction,
    SensitivityLabel,
)

router = Router(tags=["policy"])
MAX_DECISIONS = 1000


# --- schemas -------------------------------------------------------------------------------


class PolicyCode(Schema):
    code: str
    label: str


class PolicyVocabularyOut(Schema):
    categories: list[PolicyCode]
    labels: list[PolicyCode]
    purposes: list[PolicyCode]
    actions: list[PolicyCode]
    consent_kinds: list[PolicyCode]


class PolicyResourceIn(StrictSchema):
    owner_id: int = Field(description="The agency holding the information.")
    client_key: str = Field(max_length=64)
    category: DataCategory
    labels: list[SensitivityLabel] = []


class PolicyDecisionRequestIn(StrictSchema):
    action: PolicyAction
    resource: PolicyResourceIn


class PolicyDecideIn(StrictSchema):
    purpose: Purpose
    requests: list[PolicyDecisionRequestIn] = Field(max_length=MAX_DECISIONS)


class PolicyReasonOut(Schema):
    policy_id: str
    effect: str
    words: str
    reference: str = ""
    clause: str = ""
    agreement_id: int | None = None
    term_id: int | None = None


class PolicyDecisionOut(Schema):
    allowed: bool
    action: str
    purpose: str
    owner_id: int
    client_key: str
    category: str
    explanation: str
    reasons: list[PolicyReasonOut]
    consent_ids: list[int]
    part2_notice: str | None = Field(
        None, description="The 42 CFR 2.32 notice, when Part 2 records would be disclosed."
    )


class PolicyDecideOut(Schema):
    decisions: list[PolicyDecisionOut]


class PolicyRecordOut(Schema):
    id: int
    owner_id: int
    client_key: str
    category: str
    labels: list[str]
    summary: str
    source_ref: str
    recorded_at: datetime
    why: str = Field(description="The clause or rule that lets the caller see it.")
    part2_notice: str | None = None


class PolicyRecordIn(StrictSchema):
    client_key: str = Field(max_length=64)
    category: DataCategory
    labels: list[SensitivityLabel] = []
    summary: str = Field(max_length=300)
    source_ref: str = Field("", max_length=120)
    recorded_at: datetime | None = None


class PolicyRecordFilters(Schema):
    purpose: Purpose
    client_key: str = ""
    category: DataCategory | None = None


class PolicyDisclosureOut(Schema):
    id: int
    occurred_at: datetime
    action: str
    purpose: str
    discloser_id: int
    recipient_id: int
    recipient_label: str
    client_key: str
    categories: list[str]
    record_refs: list[str]
    basis: list[dict[str, Any]]
    consent_ids: list[int]
    redisclosure_allowed: bool
    retain_until: date | None
    notice: str


class PolicyDisclosureFilters(Schema):
    client_key: str = ""


class PolicyScreenOut(Schema):
    id: int
    agency_id: int
    staff_id: int
    client_key: str
    reason: str
    created_by: str
    created_at: datetime
    lifted_at: datetime | None
    lifted_by: str
    lift_reason: str


class PolicyScreenIn(StrictSchema):
    staff_id: int
    client_key: str = Field(max_length=64)
    reason: str = Field(max_length=300)


class PolicyLiftIn(StrictSchema):
    reason: str = Field(max_length=300)


class PolicyExplainFilters(Schema):
    purpose: Purpose
    action: PolicyAction = PolicyAction.VIEW
    subject_id: int | None = Field(None, description="Whose access; yourself by default.")
    client_key: str = ""
    owner_id: int | None = None
    record_id: int | None = None


class PolicyNearMiss(Schema):
    term: str
    lacks: list[str]


class PolicyExplainRowOut(Schema):
    category: str
    allowed: bool
    explanation: str
    reasons: list[PolicyReasonOut]
    near_misses: list[PolicyNearMiss]


class PolicyExplainOut(Schema):
    subject: str
    purpose: str
    rows: list[PolicyExplainRowOut]


class PolicySetOut(Schema):
    version: str
    text: str
    terms: int


# --- helpers -------------------------------------------------------------------------------


def _reasons(decision: Decision) -> list[dict[str, Any]]:
    return [
        {
            "policy_id": r.policy_id,
            "effect": str(r.effect),
            "words": r.words,
            "reference": r.reference,
            "clause": r.clause,
            "agreement_id": r.agreement_id,
            "term_id": r.term_id,
        }
        for r in decision.reasons
    ]


def _decision_out(decision: Decision) -> dict[str, Any]:
    return {
        "allowed": decision.allowed,
        "action": decision.action,
        "purpose": decision.purpose,
        "owner_id": decision.resource.owner_id,
        "client_key": decision.resource.client_key,
        "category": decision.resource.category,
        "explanation": decision.explanation(),
        "reasons": _reasons(decision),
        "consent_ids": list(decision.consent_ids),
        "part2_notice": PART2_NOTICE if decision.needs_part2_notice else None,
    }


def _row_out(row: ExplainedRow) -> dict[str, Any]:
    return {
        "category": row.category,
        "allowed": row.decision.allowed,
        "explanation": row.decision.explanation(),
        "reasons": _reasons(row.decision),
        "near_misses": [{"term": t, "lacks": lacks} for t, lacks in row.near_misses],
    }


class DisclosingPagination(AccordCursorPagination):
    """Cursor pages of client records that, once the page is known, decide each row and
    record the disclosure of every cross-agency row returned (and only those)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("ordering", ("-recorded_at", "-id"))
        super().__init__(**kwargs)

    def paginate_queryset(
        self, queryset: Any, pagination: Any, request: HttpRequest, **params: Any
    ) -> Any:
        page = super().paginate_queryset(queryset, pagination, request, **params)
        actor = request.actor  # type: ignore[attr-defined]
        purpose = request.policy_purpose  # type: ignore[attr-defined]
        records = page["results"]
        decisions = decide_many(
            actor, PolicyAction.VIEW, [Resource.of(r) for r in records], purpose
        )
        actions.record_disclosures(decisions, actor=actor)
        for record, decision in zip(records, decisions, strict=True):
            record.why = decision.explanation()
            record.part2_notice = PART2_NOTICE if decision.needs_part2_notice else None
            record.labels = sorted(record.label_set)
        return page


# --- endpoints -----------------------------------------------------------------------------


def _codes(choices: Any) -> list[dict[str, str]]:
    return [{"code": str(c.value), "label": str(c.label)} for c in choices]


@router.get("/vocabulary", response={200: PolicyVocabularyOut, **ERRORS})
def vocabulary(request: HttpRequest) -> dict[str, Any]:
    """The stable codes agreements, consents and decisions use."""
    require_scope(request, "policy:decide")
    return {
        "categories": _codes(DataCategory),
        "labels": _codes(SensitivityLabel),
        "purposes": _codes(Purpose),
        "actions": _codes(PolicyAction),
        "consent_kinds": _codes(ConsentKind),
    }


@router.post("/decisions", response={200: PolicyDecideOut, **ERRORS})
def decide(request: HttpRequest, body: PolicyDecideIn) -> dict[str, Any]:
    """Decide, for the caller, up to 1,000 (action, record) requests for one purpose, in one
    batch. Deciding discloses nothing, so no disclosure is recorded."""
    actor = require_scope(request, "policy:decide")
    requests = [
        (
            str(r.action),
            Resource(
                r.resource.owner_id,
                r.resource.client_key.strip(),
                str(r.resource.category),
                frozenset(str(x) for x in r.resource.labels),
            ),
            str(body.purpose),
        )
        for r in body.requests
    ]
    return {"decisions": [_decision_out(d) for d in decide_requests(actor, requests)]}


@router.get("/records", response={200: list[PolicyRecordOut], **ERRORS})
@paginate(DisclosingPagination)
def list_records(request: HttpRequest, filters: Query[PolicyRecordFilters]) -> Any:
    """Client records the caller may view for ``purpose`` (the same rules as decisions, as
    one SQL filter). Every cross-agency record returned is recorded as a disclosure."""
    actor = require_scope(request, "records:read")
    request.policy_purpose = str(filters.purpose)  # type: ignore[attr-defined]
    records = ClientRecord.objects.visible_to(actor, str(filters.purpose))
    if filters.client_key:
        records = records.filter(client_key=filters.client_key.strip())
    if filters.category:
        records = records.filter(category=str(filters.category))
    return records


@router.post("/records", response={201: PolicyRecordOut, **ERRORS})
def create_record(request: HttpRequest, body: PolicyRecordIn) -> tuple[int, dict[str, Any]]:
    """Register one item of client information the caller's agency holds."""
    actor = require_scope(request, "records:write")
    if actor.agency_id is None:
        raise PermissionDenied("Only an agency registers its records.")
    owner = Agency.objects.get(pk=actor.agency_id)
    record = actions.register_record(
        owner,
        actor=actor,
        client_key=body.client_key,
        category=str(body.category),
        labels=[str(x) for x in body.labels],
        summary=body.summary,
        source_ref=body.source_ref,
        recorded_at=body.recorded_at,
    )
    return 201, {
        "id": record.pk,
        "owner_id": record.owner_id,
        "client_key": record.client_key,
        "category": record.category,
        "labels": sorted(record.label_set),
        "summary": record.summary,
        "source_ref": record.source_ref,
        "recorded_at": record.recorded_at,
        "why": "your agency's own record",
    }


@router.get("/explain", response={200: PolicyExplainOut, **ERRORS})
def explain(request: HttpRequest, filters: Query[PolicyExplainFilters]) -> dict[str, Any]:
    """The decision for each category of a client's information held by one agency (or for
    one record), for a staff member, a purpose and an action, with the clause or rule."""
    actor = require_scope(request, "policy:decide")
    subject = subject_actor(actor, filters.subject_id) if filters.subject_id else actor
    if filters.record_id:
        rows = explain_record(
            actor,
            subject,
            record_id=filters.record_id,
            purpose=str(filters.purpose),
            action=str(filters.action),
        )
        about = f"record {filters.record_id}"
    elif filters.client_key and filters.owner_id:
        if not Agency.objects.filter(pk=filters.owner_id).exists():
            raise NotFound(f"No agency {filters.owner_id}.")
        rows = explain_client(
            subject,
            owner_id=filters.owner_id,
            client_key=filters.client_key.strip(),
            purpose=str(filters.purpose),
            action=str(filters.action),
        )
        about = f"client {filters.client_key} at agency {filters.owner_id}"
    else:
        raise InvalidInput(
            "Give client_key and owner_id, or record_id.",
            errors=[{"field": "client_key", "reason": "required without record_id"}],
        )
    actions.note_explanation(
        actor=actor, subject=f"{subject.label}: {about}", purpose=str(filters.purpose)
    )
    return {
        "subject": subject.label,
        "purpose": str(filters.purpose),
        "rows": [_row_out(r) for r in rows],
    }


@router.get("/disclosures", response={200: list[PolicyDisclosureOut], **ERRORS})
@paginate(AccordCursorPagination)
def list_disclosures(request: HttpRequest, filters: Query[PolicyDisclosureFilters]) -> Any:
    """Disclosures the caller may see (the accounting of disclosures); ``client_key`` gives
    one client's accounting."""
    actor = require_scope(request, "disclosures:read")
    rows = Disclosure.objects.visible_to(actor)
    if filters.client_key:
        rows = rows.filter(client_key=filters.client_key.strip())
    return rows


@router.get("/screens", response={200: list[PolicyScreenOut], **ERRORS})
@paginate(AccordCursorPagination)
def list_screens(request: HttpRequest) -> Any:
    actor = require_scope(request, "screens:manage")
    return EthicalScreen.objects.visible_to(actor)


@router.post("/screens", response={201: PolicyScreenOut, **ERRORS})
def create_screen(request: HttpRequest, body: PolicyScreenIn) -> tuple[int, EthicalScreen]:
    """Wall a staff member off from a client, at once."""
    actor = require_scope(request, "screens:manage")
    staff = User.objects.filter(pk=body.staff_id).first()
    if staff is None:
        raise InvalidInput(
            "No such staff member.", errors=[{"field": "staff_id", "reason": "unknown"}]
        )
    return 201, actions.screen_staff(
        staff, actor=actor, client_key=body.client_key, reason=body.reason
    )


@router.post("/screens/{screen_id}/lift", response={200: PolicyScreenOut, **ERRORS})
def lift_screen(request: HttpRequest, screen_id: int, body: PolicyLiftIn) -> EthicalScreen:
    actor = require_scope(request, "screens:manage")
    screen = access_object(EthicalScreen.objects, actor, screen_id)
    return actions.lift_screen(screen, actor=actor, reason=body.reason)


@router.get("/policy-set", response={200: PolicySetOut, **ERRORS})
def policy_set(request: HttpRequest) -> dict[str, Any]:
    """The compiled Cedar policy set in force (coordinators and the council's auditors)."""
    actor = require_scope(request, "policy:decide")
    if not sees_whole_policy(actor):
        raise PermissionDenied("Only coordinators and the council's auditors read the whole set.")
    snap = snapshot()
    return {"version": snap.token, "text": snap.policy_text, "terms": len(snap.terms)}
