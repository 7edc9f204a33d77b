"""The agreements API (/api/v1/agreements): reading (scope ``agreements:read`` for
tokens), drafting, parties, terms, obligations, escalation, the lifecycle, signing (a
person, within minutes of re-authenticating), the dry run, version diffs, attestations,
compliance, and breach alerts and their acknowledgement. Changes are made by people: an
agreement is governance, not data entry."""

from datetime import date, datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from accord.accounts.actions import recently_authenticated
from accord.accounts.models import User
from accord.agreements import actions
from accord.agreements.content import rendered_text
from accord.agreements.dryrun import dry_run
from accord.agreements.measurement import compliance, this_month
from accord.agreements.models import (
    ACKNOWLEDGEMENT_MAX,
    Agreement,
    AgreementKind,
    AgreementStatus,
    AgreementVersion,
    BreachAlert,
    BreachAlertState,
    EscalationStep,
    Obligation,
    ObligationMeasure,
    PartyRole,
    SharingTerm,
)
from accord.agreements.views import side_by_side
from accord.core.access import Purpose, access_object
from accord.core.api import ERRORS, AccordCursorPagination, StrictSchema, require_scope
from accord.core.errors import InvalidInput, NotFound, PermissionDenied
from accord.directory.models import Agency, Role, StaffAttribute
from accord.policy.cedar import ConsentRequirement, compile_term
from accord.policy.vocabulary import DataCategory, PolicyAction

# DELETE operations are declared with ``api_operation``: the same as ``router.delete``, and
# the actions lint (which reads ``.delete(`` as a model write) stays exact.
router = Router(tags=["agreements"])
READ = "agreements:read"
WRITE = "agreements:write"


# --- schemas -------------------------------------------------------------------------------


class AgreementPartyOut(Schema):
    agency_id: int
    agency: str
    role: str
    signatory_id: int | None
    signatory_title: str


class AgreementVersionSummary(Schema):
    number: int
    status: str
    effective_on: date
    expires_on: date
    review_on: date | None
    content_hash: str
    change_summary: str


class AgreementOut(Schema):
    id: int
    reference: str
    title: str
    kind: str
    status: str
    reminder_days: str
    created_at: datetime
    terminated_at: datetime | None
    termination_reason: str
    parties: list[AgreementPartyOut]
    versions: list[AgreementVersionSummary]


class AgreementTermOut(Schema):
    id: int
    clause: str
    discloser_id: int
    recipient_id: int
    recipient_role: str
    categories: list[str]
    purposes: list[str]
    actions: list[str]
    consent: str
    recipient_attributes: list[str]
    redisclosure_allowed: bool
    retention_days: int | None
    words: str
    policy: str = Field(description="The Cedar permit this term compiles to.")


class AgreementObligationOut(Schema):
    id: int
    clause: str
    party_id: int
    counterparty_id: int | None
    description: str
    measure: str
    subject: str
    within_hours: int | None
    within_days: int | None
    every_days: int | None
    target_percent: int
    words: str


class AgreementStepOut(Schema):
    id: int
    position: int
    level: str
    within_days: int | None
    description: str


class AgreementSignatureOut(Schema):
    party_agency_id: int
    signer_label: str
    signed_at: datetime
    content_hash: str
    voided_at: datetime | None


class AgreementVersionOut(AgreementVersionSummary):
    agreement_id: int
    body: str
    terms: list[AgreementTermOut]
    obligations: list[AgreementObligationOut]
    escalation: list[AgreementStepOut]
    signatures: list[AgreementSignatureOut]


class AgreementPartyIn(StrictSchema):
    agency_id: int
    role: PartyRole


class AgreementIn(StrictSchema):
    reference: str = Field(max_length=40)
    title: str = Field(max_length=200)
    kind: AgreementKind
    effective_on: date
    expires_on: date
    review_on: date | None = None
    body: str = ""
    parties: list[AgreementPartyIn] = Field(min_length=2)


class AgreementVersionPatch(StrictSchema):
    title: str | None = None
    kind: AgreementKind | None = None
    body: str | None = None
    effective_on: date | None = None
    expires_on: date | None = None
    review_on: date | None = None
    change_summary: str | None = None
    reminder_days: str | None = None


class AgreementPartyPut(StrictSchema):
    role: PartyRole
    signatory_id: int | None = None
    signatory_title: str = ""


class AgreementTermIn(StrictSchema):
    clause: str = Field(max_length=20)
    discloser_id: int
    recipient_id: int
    recipient_role: Role | None = None
    categories: list[DataCategory]
    purposes: list[Purpose]
    actions: list[PolicyAction]
    consent: ConsentRequirement = ConsentRequirement.NONE
    recipient_attributes: list[StaffAttribute] = []
    redisclosure_allowed: bool = False
    retention_days: int | None = None


class AgreementTermPatch(StrictSchema):
    clause: str | None = Field(None, max_length=20)
    discloser_id: int | None = None
    recipient_id: int | None = None
    recipient_role: Role | None = None
    categories: list[DataCategory] | None = None
    purposes: list[Purpose] | None = None
    actions: list[PolicyAction] | None = None
    consent: ConsentRequirement | None = None
    recipient_attributes: list[StaffAttribute] | None = None
    redisclosure_allowed: bool | None = None
    retention_days: int | None = None


class AgreementObligationIn(StrictSchema):
    clause: str = Field(max_length=20)
    party_id: int
    counterparty_id: int | None = None
    description: str = Field(max_length=300)
    measure: ObligationMeasure
    subject: str = ""
    within_hours: int | None = None
    within_days: int | None = None
    every_days: int | None = None
    target_percent: int = 95


class AgreementStepIn(StrictSchema):
    level: str = Field(max_length=120)
    within_days: int | None = None
    description: str = ""


class AgreementVersionTransitionIn(StrictSchema):
    action: str = Field(description="negotiate, send, reopen or withdraw")
    reason: str = ""


class AgreementTransitionIn(StrictSchema):
    action: str = Field(description="review, finish_review, amend or terminate")
    reason: str = ""


class AgreementSignIn(StrictSchema):
    content_hash: str = Field(description="The hash of the version you read and sign.")


class AgreementFlowOut(Schema):
    category: str
    purpose: str
    recipient: str
    action: str
    records: int
    clients: int


class AgreementDryRunOut(Schema):
    version: int
    today: date
    records_considered: int
    unchanged_allowed: int
    started: list[AgreementFlowOut]
    stopped: list[AgreementFlowOut]


class AgreementDiffRow(Schema):
    kind: str
    left: str
    right: str


class AgreementDiffOut(Schema):
    from_version: int
    to_version: int
    rows: list[AgreementDiffRow]


class AgreementAttestIn(StrictSchema):
    period_start: date
    period_end: date
    met: bool
    note: str = ""


class AgreementAttestationOut(Schema):
    id: int
    period_start: date
    period_end: date
    met: bool
    note: str
    attested_by: str
    attested_at: datetime


class AgreementComplianceOut(Schema):
    obligation_id: int
    measured: int
    met: int
    late: int
    pending: int
    overdue: int
    percent: int | None
    target_percent: int
    meets_target: bool | None
    words: str
    median_seconds: float | None = Field(
        None, description="Median time to completion since in force (clocked measures)"
    )
    this_month: str = Field("", description="This month's headline, e.g. 97.8% on time")
    this_month_percent: float | None = None


class BreachAlertOut(Schema):
    id: int
    agreement_id: int = Field(alias="obligation.version.agreement_id")
    obligation_id: int
    clause: str = Field(alias="obligation.clause")
    occurrence: str = Field(description="The measured item, e.g. exchange.event:123")
    kind: str = Field(description="late or overdue")
    started_at: datetime
    due_at: datetime
    completed_at: datetime | None
    raised_at: datetime
    emailed_at: datetime | None
    acknowledged_at: datetime | None = Field(description="None while the alert is open")
    acknowledged_by_id: int | None = Field(description="The user who acknowledged it")
    acknowledged_by: str = Field(
        alias="acknowledged_by_label", description="Their name and agency at the time"
    )
    acknowledgement: str = Field(description="What was done about it ('' while open)")


class BreachAlertAcknowledgeIn(StrictSchema):
    note: str = Field(
        max_length=ACKNOWLEDGEMENT_MAX, description="What was done about the breach (required)"
    )


class AgreementFilters(Schema):
    status: AgreementStatus | None = None
    kind: AgreementKind | None = None
    q: str = ""


# --- helpers -------------------------------------------------------------------------------


def _agreement_out(agreement: Agreement) -> dict[str, Any]:
    return {
        "id": agreement.pk,
        "reference": agreement.reference,
        "title": agreement.title,
        "kind": agreement.kind,
        "status": agreement.status,
        "reminder_days": agreement.reminder_days,
        "created_at": agreement.created_at,
        "terminated_at": agreement.terminated_at,
        "termination_reason": agreement.termination_reason,
        "parties": [
            {
                "agency_id": p.agency_id,
                "agency": p.agency.name,
                "role": p.role,
                "signatory_id": p.signatory_id,
                "signatory_title": p.signatory_title,
            }
            for p in agreement.parties.all()
        ],
        "versions": [_summary(v) for v in agreement.versions.all()],
    }


def _summary(version: AgreementVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "status": version.status,
        "effective_on": version.effective_on,
        "expires_on": version.expires_on,
        "review_on": version.review_on,
        "content_hash": version.content_hash,
        "change_summary": version.change_summary,
    }


def _term_out(term: SharingTerm) -> dict[str, Any]:
    spec = term.spec()
    return {
        "id": term.pk,
        "clause": term.clause,
        "discloser_id": term.discloser_id,
        "recipient_id": term.recipient_id,
        "recipient_role": term.recipient_role,
        "categories": term.categories,
        "purposes": term.purposes,
        "actions": term.actions,
        "consent": term.consent,
        "recipient_attributes": term.recipient_attributes,
        "redisclosure_allowed": term.redisclosure_allowed,
        "retention_days": term.retention_days,
        "words": spec.words(),
        "policy": compile_term(spec),
    }


def _obligation_out(o: Obligation) -> dict[str, Any]:
    return {
        **{
            n: getattr(o, n)
            for n in (
                "clause",
                "party_id",
                "counterparty_id",
                "description",
                "measure",
                "subject",
                "within_hours",
                "within_days",
                "every_days",
                "target_percent",
            )
        },
        "id": o.pk,
        "words": o.words(),
    }


def _version_out(version: AgreementVersion) -> dict[str, Any]:
    return {
        **_summary(version),
        "agreement_id": version.agreement_id,
        "body": version.body,
        "terms": [
            _term_out(t)
            for t in version.terms.select_related("discloser", "recipient", "version__agreement")
        ],
        "obligations": [
            _obligation_out(o) for o in version.obligations.select_related("party", "counterparty")
        ],
        "escalation": [
            {
                "id": s.pk,
                "position": s.position,
                "level": s.level,
                "within_days": s.within_days,
                "description": s.description,
            }
            for s in version.escalation_steps.order_by("position")
        ],
        "signatures": [
            {
                "party_agency_id": s.party.agency_id,
                "signer_label": s.signer_label,
                "signed_at": s.signed_at,
                "content_hash": s.content_hash,
                "voided_at": s.voided_at,
            }
            for s in version.signatures.select_related("party")
        ],
    }


def _agreement(request: HttpRequest, agreement_id: int, scope: str = READ) -> Agreement:
    actor = require_scope(request, scope)
    return access_object(Agreement.objects, actor, agreement_id)  # type: ignore[no-any-return]


def _version(agreement: Agreement, number: int) -> AgreementVersion:
    version = agreement.versions.filter(number=number).first()
    if version is None:
        raise NotFound(f"No version {number}.")
    return version


def _term_values(body: Any, exclude_unset: bool) -> dict[str, Any]:
    data = body.model_dump(exclude_unset=exclude_unset)
    renamed = {"discloser_id": "discloser", "recipient_id": "recipient"}
    values = {renamed.get(k, k): v for k, v in data.items()}
    if "recipient_role" in values and values["recipient_role"] is None:
        values["recipient_role"] = ""
    for name in ("categories", "purposes", "actions", "recipient_attributes"):
        if values.get(name) is not None:
            values[name] = [str(v) for v in values[name]]
    return values


class _AgreementPage(AccordCursorPagination):
    def paginate_queryset(
        self, queryset: Any, pagination: Any, request: HttpRequest, **params: Any
    ) -> Any:
        page = super().paginate_queryset(queryset, pagination, request, **params)
        page["results"] = [_agreement_out(a) for a in page["results"]]
        return page


# --- reading -------------------------------------------------------------------------------


@router.get("", response={200: list[AgreementOut], **ERRORS})
@paginate(_AgreementPage)
def list_agreements(request: HttpRequest, filters: Query[AgreementFilters]) -> Any:
    actor = require_scope(request, READ)
    rows = Agreement.objects.visible_to(actor).prefetch_related("parties__agency", "versions")
    if filters.status:
        rows = rows.filter(status=str(filters.status))
    if filters.kind:
        rows = rows.filter(kind=str(filters.kind))
    if filters.q:
        rows = rows.filter(Q(reference__icontains=filters.q) | Q(title__icontains=filters.q))
    return rows


# --- breach alerts ------------------------------------------------------------------------------


@router.get("/breach-alerts", response={200: list[BreachAlertOut], **ERRORS})
@paginate(AccordCursorPagination)
def list_breach_alerts(
    request: HttpRequest,
    agreement: int | None = None,
    state: BreachAlertState = BreachAlertState.ALL,
) -> QuerySet[BreachAlert]:
    """Obligation breaches alerted to the parties, newest first, for the agreements the
    caller may read (optionally one agreement; ``state`` open, acknowledged or all, the
    default). Declared before ``/{agreement_id}`` so the path is not read as an agreement
    id."""
    actor = require_scope(request, READ)
    rows = (
        BreachAlert.objects.visible_to(actor)
        .in_state(str(state))
        .select_related("obligation__version")
    )
    if agreement is not None:
        rows = rows.filter(obligation__version__agreement_id=agreement)
    return rows


@router.post("/breach-alerts/{alert_id}/acknowledge", response={200: BreachAlertOut, **ERRORS})
def acknowledge_breach_alert(
    request: HttpRequest, alert_id: int, body: BreachAlertAcknowledgeIn
) -> BreachAlert:
    """Acknowledge an open alert with what was done about it: an administrator of a party
    agency or a coordinator, signed in (not a token); once only (409 after)."""
    actor = require_scope(request, WRITE)
    alert = access_object(BreachAlert.objects, actor, alert_id)
    return actions.acknowledge_breach_alert(alert, body.note, actor=actor)


@router.get("/{agreement_id}", response={200: AgreementOut, **ERRORS})
def get_agreement(request: HttpRequest, agreement_id: int) -> dict[str, Any]:
    return _agreement_out(_agreement(request, agreement_id))


@router.get("/{agreement_id}/versions/{number}", response={200: AgreementVersionOut, **ERRORS})
def get_version(request: HttpRequest, agreement_id: int, number: int) -> dict[str, Any]:
    """A version with its terms (in words and as compiled Cedar), obligations, ladder and
    signatures."""
    return _version_out(_version(_agreement(request, agreement_id), number))


@router.get("/{agreement_id}/diff", response={200: AgreementDiffOut, **ERRORS})
def diff(
    request: HttpRequest, agreement_id: int, from_version: int, to_version: int
) -> dict[str, Any]:
    agreement = _agreement(request, agreement_id)
    left, right = _version(agreement, from_version), _version(agreement, to_version)
    rows = side_by_side(rendered_text(left), rendered_text(right))
    return {
        "from_version": from_version,
        "to_version": to_version,
        "rows": [{"kind": k, "left": a, "right": b} for k, a, b in rows],
    }


@router.get(
    "/{agreement_id}/versions/{number}/dry-run", response={200: AgreementDryRunOut, **ERRORS}
)
def version_dry_run(request: HttpRequest, agreement_id: int, number: int) -> dict[str, Any]:
    """What would start and stop if this version were in force today, counted by category,
    purpose, recipient and action over the records in Accord."""
    actor = require_scope(request, READ)
    agreement = access_object(Agreement.objects, actor, agreement_id)
    if not (
        agreement.parties.filter(signatory_id=actor.user_id).exists()
        or Agreement.objects.manageable_by(actor).filter(pk=agreement.pk).exists()
    ):
        raise PermissionDenied("Dry runs are for the parties' administrators and signatories.")
    result = dry_run(_version(agreement, number))
    flows = ("category", "purpose", "recipient", "action", "records", "clients")
    return {
        "version": number,
        "today": result.today,
        "records_considered": result.records_considered,
        "unchanged_allowed": result.unchanged_allowed,
        "started": [{n: getattr(f, n) for n in flows} for f in result.started],
        "stopped": [{n: getattr(f, n) for n in flows} for f in result.stopped],
    }


@router.get(
    "/{agreement_id}/obligations/{obligation_id}/compliance",
    response={200: AgreementComplianceOut, **ERRORS},
)
def obligation_compliance(
    request: HttpRequest, agreement_id: int, obligation_id: int
) -> dict[str, Any]:
    agreement = _agreement(request, agreement_id)
    obligation = Obligation.objects.filter(pk=obligation_id, version__agreement=agreement).first()
    if obligation is None:
        raise NotFound(f"No obligation {obligation_id}.")
    c = compliance(obligation)
    month = this_month(obligation)
    return {
        "median_seconds": c.median.total_seconds() if c.median is not None else None,
        "this_month": month.headline("this month"),
        "this_month_percent": month.percent_precise,
        "obligation_id": obligation.pk,
        "measured": c.measured,
        "met": c.met,
        "late": c.late,
        "pending": c.pending,
        "overdue": c.overdue,
        "percent": c.percent,
        "target_percent": c.target_percent,
        "meets_target": c.meets_target,
        "words": c.words,
    }


# --- drafting ------------------------------------------------------------------------------


@router.post("", response={201: AgreementOut, **ERRORS})
def create_agreement(request: HttpRequest, body: AgreementIn) -> tuple[int, dict[str, Any]]:
    actor = require_scope(request, WRITE)
    agencies = {a.pk: a for a in Agency.objects.filter(pk__in=[p.agency_id for p in body.parties])}
    missing = [p.agency_id for p in body.parties if p.agency_id not in agencies]
    if missing:
        raise InvalidInput(
            "Unknown agency.",
            errors=[{"field": "parties", "reason": f"no agency {m}"} for m in missing],
        )
    agreement = actions.create_agreement(
        actor=actor,
        reference=body.reference,
        title=body.title,
        kind=str(body.kind),
        effective_on=body.effective_on,
        expires_on=body.expires_on,
        review_on=body.review_on,
        body=body.body,
        parties=[(agencies[p.agency_id], str(p.role)) for p in body.parties],
    )
    return 201, _agreement_out(agreement)


@router.patch("/{agreement_id}/versions/{number}", response={200: AgreementVersionOut, **ERRORS})
def update_version(
    request: HttpRequest, agreement_id: int, number: int, body: AgreementVersionPatch
) -> dict[str, Any]:
    actor = require_scope(request, WRITE)
    version = _version(_agreement(request, agreement_id, WRITE), number)
    values = body.model_dump(exclude_unset=True)
    if "kind" in values and values["kind"] is not None:
        values["kind"] = str(values["kind"])
    return _version_out(actions.update_draft(version, actor=actor, **values))


@router.put("/{agreement_id}/parties/{agency_id}", response={200: AgreementOut, **ERRORS})
def put_party(
    request: HttpRequest, agreement_id: int, agency_id: int, body: AgreementPartyPut
) -> dict[str, Any]:
    actor = require_scope(request, WRITE)
    agreement = _agreement(request, agreement_id, WRITE)
    agency = Agency.objects.filter(pk=agency_id).first()
    if agency is None:
        raise NotFound(f"No agency {agency_id}.")
    signatory = User.objects.filter(pk=body.signatory_id).first() if body.signatory_id else None
    if body.signatory_id and signatory is None:
        raise InvalidInput(
            "Unknown signatory.", errors=[{"field": "signatory_id", "reason": "no such person"}]
        )
    actions.set_party(
        agreement,
        agency,
        actor=actor,
        role=str(body.role),
        signatory=signatory,
        signatory_title=body.signatory_title,
    )
    return _agreement_out(agreement)


@router.api_operation(
    ["DELETE"], "/{agreement_id}/parties/{agency_id}", response={204: None, **ERRORS}
)
def delete_party(request: HttpRequest, agreement_id: int, agency_id: int) -> tuple[int, None]:
    actor = require_scope(request, WRITE)
    agreement = _agreement(request, agreement_id, WRITE)
    party = agreement.parties.filter(agency_id=agency_id).first()
    if party is None:
        raise NotFound(f"Agency {agency_id} is not a party.")
    actions.remove_party(party, actor=actor)
    return 204, None


@router.post("/{agreement_id}/versions/{number}/terms", response={201: AgreementTermOut, **ERRORS})
def add_term(
    request: HttpRequest, agreement_id: int, number: int, body: AgreementTermIn
) -> tuple[int, dict[str, Any]]:
    actor = require_scope(request, WRITE)
    version = _version(_agreement(request, agreement_id, WRITE), number)
    return 201, _term_out(actions.add_term(version, actor=actor, **_term_values(body, False)))


def _term(agreement: Agreement, term_id: int) -> SharingTerm:
    term: SharingTerm | None = SharingTerm.objects.filter(
        pk=term_id, version__agreement=agreement
    ).first()
    if term is None:
        raise NotFound(f"No term {term_id}.")
    return term


@router.patch("/{agreement_id}/terms/{term_id}", response={200: AgreementTermOut, **ERRORS})
def update_term(
    request: HttpRequest, agreement_id: int, term_id: int, body: AgreementTermPatch
) -> dict[str, Any]:
    actor = require_scope(request, WRITE)
    term = _term(_agreement(request, agreement_id, WRITE), term_id)
    return _term_out(actions.update_term(term, actor=actor, **_term_values(body, True)))


@router.api_operation(["DELETE"], "/{agreement_id}/terms/{term_id}", response={204: None, **ERRORS})
def delete_term(request: HttpRequest, agreement_id: int, term_id: int) -> tuple[int, None]:
    actor = require_scope(request, WRITE)
    actions.remove_term(_term(_agreement(request, agreement_id, WRITE), term_id), actor=actor)
    return 204, None


@router.post(
    "/{agreement_id}/versions/{number}/obligations",
    response={201: AgreementObligationOut, **ERRORS},
)
def add_obligation(
    request: HttpRequest, agreement_id: int, number: int, body: AgreementObligationIn
) -> tuple[int, dict[str, Any]]:
    actor = require_scope(request, WRITE)
    version = _version(_agreement(request, agreement_id, WRITE), number)
    values = body.model_dump()
    values["party"] = values.pop("party_id")
    values["counterparty"] = values.pop("counterparty_id")
    values["measure"] = str(values["measure"])
    return 201, _obligation_out(actions.add_obligation(version, actor=actor, **values))


@router.api_operation(
    ["DELETE"], "/{agreement_id}/obligations/{obligation_id}", response={204: None, **ERRORS}
)
def delete_obligation(
    request: HttpRequest, agreement_id: int, obligation_id: int
) -> tuple[int, None]:
    actor = require_scope(request, WRITE)
    agreement = _agreement(request, agreement_id, WRITE)
    obligation = Obligation.objects.filter(pk=obligation_id, version__agreement=agreement).first()
    if obligation is None:
        raise NotFound(f"No obligation {obligation_id}.")
    actions.remove_obligation(obligation, actor=actor)
    return 204, None


@router.post(
    "/{agreement_id}/versions/{number}/escalation", response={201: AgreementStepOut, **ERRORS}
)
def add_step(
    request: HttpRequest, agreement_id: int, number: int, body: AgreementStepIn
) -> tuple[int, dict[str, Any]]:
    actor = require_scope(request, WRITE)
    version = _version(_agreement(request, agreement_id, WRITE), number)
    step = actions.add_escalation_step(
        version,
        actor=actor,
        level=body.level,
        within_days=body.within_days,
        description=body.description,
    )
    return 201, {
        "id": step.pk,
        "position": step.position,
        "level": step.level,
        "within_days": step.within_days,
        "description": step.description,
    }


@router.api_operation(
    ["DELETE"], "/{agreement_id}/escalation/{step_id}", response={204: None, **ERRORS}
)
def delete_step(request: HttpRequest, agreement_id: int, step_id: int) -> tuple[int, None]:
    actor = require_scope(request, WRITE)
    agreement = _agreement(request, agreement_id, WRITE)
    step = EscalationStep.objects.filter(pk=step_id, version__agreement=agreement).first()
    if step is None:
        raise NotFound(f"No step {step_id}.")
    actions.remove_escalation_step(step, actor=actor)
    return 204, None


# --- lifecycle -----------------------------------------------------------------------------


@router.post(
    "/{agreement_id}/versions/{number}/transition", response={200: AgreementVersionOut, **ERRORS}
)
def version_transition(
    request: HttpRequest, agreement_id: int, number: int, body: AgreementVersionTransitionIn
) -> dict[str, Any]:
    actor = require_scope(request, WRITE)
    version = _version(_agreement(request, agreement_id, WRITE), number)
    if body.action == "negotiate":
        actions.open_negotiation(version, actor=actor)
    elif body.action == "send":
        actions.request_signatures(version, actor=actor)
    elif body.action == "reopen":
        actions.return_to_negotiation(version, actor=actor, reason=body.reason)
    elif body.action == "withdraw":
        actions.withdraw_version(version, actor=actor)
    else:
        raise InvalidInput(
            "Unknown transition.",
            errors=[{"field": "action", "reason": "negotiate, send, reopen or withdraw"}],
        )
    version.refresh_from_db()
    return _version_out(version)


@router.post("/{agreement_id}/transition", response={200: AgreementOut, **ERRORS})
def agreement_transition(
    request: HttpRequest, agreement_id: int, body: AgreementTransitionIn
) -> dict[str, Any]:
    """Review, finish a review, draft an amendment, or terminate (a person who
    re-authenticated within the last minutes: it stops every flow at once)."""
    actor = require_scope(request, WRITE)
    agreement = _agreement(request, agreement_id, WRITE)
    if body.action == "review":
        actions.start_review(agreement, actor=actor, note=body.reason)
    elif body.action == "finish_review":
        actions.finish_review(agreement, actor=actor, note=body.reason)
    elif body.action == "amend":
        actions.amend(agreement, actor=actor, change_summary=body.reason)
    elif body.action == "terminate":
        if not recently_authenticated(request):
            raise PermissionDenied("Re-authenticate (password and code) before terminating.")
        actions.terminate_agreement(agreement, actor=actor, reason=body.reason)
    else:
        raise InvalidInput(
            "Unknown transition.",
            errors=[{"field": "action", "reason": "review, finish_review, amend or terminate"}],
        )
    agreement.refresh_from_db()
    return _agreement_out(agreement)


@router.post(
    "/{agreement_id}/versions/{number}/sign", response={200: AgreementVersionOut, **ERRORS}
)
def sign(
    request: HttpRequest, agreement_id: int, number: int, body: AgreementSignIn
) -> dict[str, Any]:
    """Sign for your agency, as its named signatory, within minutes of re-authenticating;
    ``content_hash`` must be the hash of the version you read."""
    actor = require_scope(request, WRITE)
    version = _version(_agreement(request, agreement_id, WRITE), number)
    if body.content_hash != version.content_hash:
        raise InvalidInput(
            "This is not the version sent for signature.",
            errors=[{"field": "content_hash", "reason": "does not match"}],
        )
    actions.sign_version(version, actor=actor, reauthenticated=recently_authenticated(request))
    version.refresh_from_db()
    return _version_out(version)


@router.post(
    "/{agreement_id}/obligations/{obligation_id}/attestations",
    response={201: AgreementAttestationOut, **ERRORS},
)
def attest(
    request: HttpRequest, agreement_id: int, obligation_id: int, body: AgreementAttestIn
) -> tuple[int, Any]:
    actor = require_scope(request, WRITE)
    agreement = _agreement(request, agreement_id, WRITE)
    obligation = Obligation.objects.filter(pk=obligation_id, version__agreement=agreement).first()
    if obligation is None:
        raise NotFound(f"No obligation {obligation_id}.")
    return 201, actions.attest_obligation(obligation, actor=actor, **body.model_dump())
