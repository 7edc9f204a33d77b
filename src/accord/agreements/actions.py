"""Every change to an agreement: drafting, parties, terms, obligations and escalation,
the lifecycle (negotiation, signatures, force, review, amendment, termination, expiry),
attestations and reminders. Whatever changes what is in force bumps the policy version in
the same transaction."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date

from accord.accounts.models import User
from accord.agreements.content import content_hash
from accord.agreements.measurement import deadline, in_force_since, occurrences
from accord.agreements.models import (
    ACKNOWLEDGEMENT_MAX,
    EDITABLE_VERSION_STATUSES,
    IN_FORCE_STATUSES,
    Agreement,
    AgreementKind,
    AgreementParty,
    AgreementStatus,
    AgreementVersion,
    Attestation,
    BreachAlert,
    BreachKind,
    EscalationStep,
    Obligation,
    ObligationMeasure,
    PartyRole,
    Reminder,
    SharingTerm,
    Signature,
    VersionStatus,
)
from accord.audit.chain import append as audit
from accord.audit.codes import AuditAction
from accord.core.access import Purpose
from accord.core.actions import action
from accord.core.actors import Actor
from accord.core.errors import ActionRefused, InvalidInput, NotFound, PermissionDenied
from accord.directory.models import Agency, Role, StaffAttribute, StaffProfile
from accord.policy.actions import bump_policy_version
from accord.policy.cedar import ConsentRequirement
from accord.policy.vocabulary import DataCategory, PolicyAction

REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._/-]{1,39}$")
CLAUSE = re.compile(r"^\d+(\.\d+)*$")


# --- who may ---------------------------------------------------------------------------------


def require_manager(
    agreement: Agreement | None, actor: Actor, party_agency_ids: Iterable[int] = ()
) -> None:
    """Coordinators manage every agreement; an agency administrator those of its agency."""
    if actor.is_system:
        return
    if actor.scopes is not None:
        raise PermissionDenied("Agreements are managed by people, not API tokens.")
    if actor.has_role("coordinator"):
        return
    if actor.has_role("agency_admin"):
        ids = set(party_agency_ids)
        if agreement is not None:
            ids |= set(agreement.parties.values_list("agency_id", flat=True))
        if actor.agency_id in ids:
            return
    raise PermissionDenied("Only a coordinator or an administrator of a party agency can do this.")


def _require_editable_by(version: AgreementVersion, actor: Actor) -> None:
    """The actor manages the agreement and the version is still open to change."""
    require_manager(version.agreement, actor)
    _require_editable(version)


def _record_terms_changed(version: AgreementVersion, actor: Actor, change: dict[str, Any]) -> None:
    audit(
        actor,
        AuditAction.AGREEMENT_TERMS_CHANGED,
        obj=version.agreement,
        details={"version": version.number, **change},
    )


def _require_editable(version: AgreementVersion) -> None:
    if version.status not in EDITABLE_VERSION_STATUSES:
        raise ActionRefused(
            f"Version {version.number} is {version.get_status_display().lower()}: only a draft "
            "or a version in negotiation can be changed."
        )


# --- cleaning --------------------------------------------------------------------------------


def _date(
    value: Any, field: str, errors: list[dict[str, str]], required: bool = True
) -> date | None:
    if value in (None, ""):
        if required:
            errors.append({"field": field, "reason": "required"})
        return None
    if isinstance(value, date):
        return value
    parsed = parse_date(str(value))
    if parsed is None:
        errors.append({"field": field, "reason": "not a date (YYYY-MM-DD)"})
    return parsed


def _check_dates(
    effective: date | None, expires: date | None, review: date | None, errors: list[dict[str, str]]
) -> None:
    if effective and expires and expires <= effective:
        errors.append({"field": "expires_on", "reason": "must be after the effective date"})
    if review and effective and review < effective:
        errors.append({"field": "review_on", "reason": "must not be before the effective date"})
    if review and expires and review > expires:
        errors.append({"field": "review_on", "reason": "must not be after the expiry date"})


def _codes(
    values: Any,
    allowed: Iterable[str],
    field: str,
    errors: list[dict[str, str]],
    required: bool = True,
) -> list[str]:
    if isinstance(values, str):
        values = [v for v in values.split(",") if v.strip()]
    wanted = sorted({str(v).strip() for v in (values or []) if str(v).strip()})
    unknown = [v for v in wanted if v not in set(allowed)]
    if unknown:
        errors.append({"field": field, "reason": "unknown: " + ", ".join(unknown)})
    if required and not wanted:
        errors.append({"field": field, "reason": "choose at least one"})
    return [v for v in wanted if v not in unknown]


def _reminder_days(value: Any, errors: list[dict[str, str]]) -> str:
    parts = [p.strip() for p in str(value or "").split(",") if p.strip()]
    if not parts or not all(p.isdigit() and 0 < int(p) <= 365 for p in parts):
        errors.append(
            {
                "field": "reminder_days",
                "reason": "whole days between 1 and 365, comma-separated (e.g. 60,30)",
            }
        )
        return "60,30"
    return ",".join(str(d) for d in sorted({int(p) for p in parts}, reverse=True))


# --- drafting --------------------------------------------------------------------------------


@action
def create_agreement(
    *,
    actor: Actor,
    reference: str,
    title: str,
    kind: str,
    effective_on: Any,
    expires_on: Any,
    review_on: Any = None,
    body: str = "",
    parties: Iterable[tuple[Agency, str]] = (),
    reminder_days: str = "60,30",
) -> Agreement:
    """Draft a new agreement (version 1) between two or more agencies."""
    party_list = list(parties)
    require_manager(None, actor, [a.pk for a, _ in party_list])
    errors: list[dict[str, str]] = []
    reference = reference.strip()
    if not REFERENCE.match(reference):
        errors.append({"field": "reference", "reason": "2 to 40 letters, digits, spaces or ._/-"})
    elif Agreement.objects.filter(reference__iexact=reference).exists():
        errors.append({"field": "reference", "reason": "another agreement uses it"})
    if not title.strip():
        errors.append({"field": "title", "reason": "required"})
    elif len(title.strip()) > 200:
        errors.append({"field": "title", "reason": "at most 200 characters"})
    if kind not in AgreementKind.values:
        errors.append(
            {"field": "kind", "reason": "must be one of " + ", ".join(AgreementKind.values)}
        )
    effective = _date(effective_on, "effective_on", errors)
    expires = _date(expires_on, "expires_on", errors)
    review = _date(review_on, "review_on", errors, required=False)
    _check_dates(effective, expires, review, errors)
    agencies = [a.pk for a, _ in party_list]
    if len(set(agencies)) != len(agencies):
        errors.append({"field": "parties", "reason": "an agency is listed twice"})
    for _, role in party_list:
        if role not in PartyRole.values:
            errors.append({"field": "parties", "reason": f"unknown role {role}"})
    days = _reminder_days(reminder_days, errors)
    if errors:
        raise InvalidInput("The agreement cannot be drafted.", errors=errors)
    assert effective is not None
    assert expires is not None
    agreement = Agreement.objects.create(
        reference=reference,
        title=title.strip(),
        kind=kind,
        reminder_days=days,
        created_by_label=actor.label[:150],
    )
    AgreementVersion.objects.create(
        agreement=agreement,
        number=1,
        body=body.strip(),
        effective_on=effective,
        expires_on=expires,
        review_on=review,
    )
    for agency, role in party_list:
        AgreementParty.objects.create(agreement=agreement, agency=agency, role=role)
    audit(
        actor,
        AuditAction.AGREEMENT_CREATED,
        obj=agreement,
        details={"reference": reference, "parties": agencies},
    )
    return agreement


@action
def update_draft(version: AgreementVersion, *, actor: Actor, **values: Any) -> AgreementVersion:
    """Change the text, dates or summary of a version still being drafted or negotiated
    (and the agreement's title, kind and reminder days while it is not yet in force)."""
    agreement = version.agreement
    require_manager(agreement, actor)
    _require_editable(version)
    allowed = {
        "title",
        "kind",
        "body",
        "effective_on",
        "expires_on",
        "review_on",
        "change_summary",
        "reminder_days",
    }
    errors = [{"field": k, "reason": "unknown field"} for k in sorted(set(values) - allowed)]
    changed: dict[str, Any] = {}
    if "title" in values:
        title = str(values["title"] or "").strip()
        if not title or len(title) > 200:
            errors.append({"field": "title", "reason": "required, at most 200 characters"})
        agreement.title = title
        changed["title"] = title
    if "kind" in values:
        if values["kind"] not in AgreementKind.values:
            errors.append({"field": "kind", "reason": "unknown kind"})
        agreement.kind = values["kind"]
        changed["kind"] = values["kind"]
    if "reminder_days" in values:
        agreement.reminder_days = _reminder_days(values["reminder_days"], errors)
    if "body" in values:
        version.body = str(values["body"] or "").strip()
        changed["body_chars"] = len(version.body)
    if "change_summary" in values:
        version.change_summary = str(values["change_summary"] or "").strip()[:300]
    for name in ("effective_on", "expires_on", "review_on"):
        if name in values:
            setattr(version, name, _date(values[name], name, errors, name != "review_on"))
            changed[name] = getattr(version, name)
    _check_dates(version.effective_on, version.expires_on, version.review_on, errors)
    if errors:
        raise InvalidInput("The draft cannot be saved.", errors=errors)
    agreement.save()
    version.save()
    audit(
        actor,
        AuditAction.AGREEMENT_UPDATED,
        obj=agreement,
        details={"version": version.number, **changed},
    )
    return version


def _require_parties_editable(agreement: Agreement) -> None:
    # Parties are part of what every version's signatures cover; they change only while
    # nothing has gone out for signature.
    if agreement.versions.exclude(
        status__in=[*EDITABLE_VERSION_STATUSES, VersionStatus.WITHDRAWN]
    ).exists():
        raise ActionRefused(
            "Parties cannot change once a version has gone out for signature; draft a new "
            "agreement instead."
        )


@action
def set_party(
    agreement: Agreement,
    agency: Agency,
    *,
    actor: Actor,
    role: str,
    signatory: User | None = None,
    signatory_title: str = "",
) -> AgreementParty:
    """Add a party, or change its role or authorized signatory (who must be its staff)."""
    require_manager(agreement, actor, [agency.pk])
    errors = []
    if role not in PartyRole.values:
        errors.append({"field": "role", "reason": "must be one of " + ", ".join(PartyRole.values)})
    if (
        signatory is not None
        and not StaffProfile.objects.filter(user=signatory, agency=agency).exists()
    ):
        errors.append({"field": "signatory", "reason": "must be a staff member of that agency"})
    if errors:
        raise InvalidInput("The party cannot be saved.", errors=errors)
    party = agreement.parties.filter(agency=agency).first()
    if party is None or party.role != role:
        _require_parties_editable(agreement)
    if party is None:
        party = AgreementParty(agreement=agreement, agency=agency)
    elif party.signatory_id != (signatory.pk if signatory else None):
        _require_parties_editable(agreement)
    party.role = role
    party.signatory = signatory
    party.signatory_title = signatory_title.strip()[:120]
    party.save()
    audit(
        actor,
        AuditAction.AGREEMENT_PARTY_CHANGED,
        obj=agreement,
        details={
            "agency_id": agency.pk,
            "role": role,
            "signatory": signatory.username if signatory else None,
        },
    )
    return party


@action
def remove_party(party: AgreementParty, *, actor: Actor) -> None:
    agreement = party.agreement
    require_manager(agreement, actor)
    _require_parties_editable(agreement)
    if (
        SharingTerm.objects.filter(version__agreement=agreement)
        .filter(Q(discloser_id=party.agency_id) | Q(recipient_id=party.agency_id))
        .exists()
        or Obligation.objects.filter(version__agreement=agreement)
        .filter(Q(party_id=party.agency_id) | Q(counterparty_id=party.agency_id))
        .exists()
    ):
        raise ActionRefused("Remove this party's terms and obligations first.")
    audit(
        actor,
        AuditAction.AGREEMENT_PARTY_CHANGED,
        obj=agreement,
        details={"agency_id": party.agency_id, "removed": True},
    )
    party.delete()


# --- terms, obligations, escalation ----------------------------------------------------------

TERM_FIELDS = frozenset(
    {
        "clause",
        "discloser",
        "recipient",
        "recipient_role",
        "categories",
        "purposes",
        "actions",
        "consent",
        "recipient_attributes",
        "redisclosure_allowed",
        "retention_days",
    }
)


def _party_agency(
    version: AgreementVersion,
    value: Any,
    field: str,
    errors: list[dict[str, str]],
    required: bool = True,
) -> Agency | None:
    if value in (None, ""):
        if required:
            errors.append({"field": field, "reason": "required"})
        return None
    agency_id = value.pk if isinstance(value, Agency) else value
    try:
        agency_id = int(agency_id)
    except (TypeError, ValueError):
        errors.append({"field": field, "reason": "an agency id"})
        return None
    party = version.agreement.parties.filter(agency_id=agency_id).select_related("agency").first()
    if party is None:
        errors.append({"field": field, "reason": "must be a party to this agreement"})
        return None
    return party.agency


def _clause(value: Any, errors: list[dict[str, str]]) -> str:
    clause = str(value or "").strip().lstrip("§").strip()
    if not CLAUSE.match(clause) or len(clause) > 20:
        errors.append({"field": "clause", "reason": "a clause number such as 3 or 3.2"})
    return clause


def _clean_term(
    version: AgreementVersion, values: Mapping[str, Any], term: SharingTerm | None
) -> dict[str, Any]:
    errors = [{"field": k, "reason": "unknown field"} for k in sorted(set(values) - TERM_FIELDS)]
    current: dict[str, Any] = {}
    if term is not None:
        current = {name: getattr(term, name) for name in TERM_FIELDS - {"discloser", "recipient"}}
        current.update(discloser=term.discloser_id, recipient=term.recipient_id)
    merged = {**current, **values}
    cleaned: dict[str, Any] = {"clause": _clause(merged.get("clause"), errors)}
    cleaned["discloser"] = _party_agency(version, merged.get("discloser"), "discloser", errors)
    cleaned["recipient"] = _party_agency(version, merged.get("recipient"), "recipient", errors)
    if cleaned["discloser"] and cleaned["discloser"] == cleaned["recipient"]:
        errors.append({"field": "recipient", "reason": "must differ from the discloser"})
    role = str(merged.get("recipient_role") or "")
    if role and role not in Role.values:
        errors.append({"field": "recipient_role", "reason": "unknown role"})
    cleaned["recipient_role"] = role
    cleaned["categories"] = _codes(
        merged.get("categories"), DataCategory.values, "categories", errors
    )
    cleaned["purposes"] = _codes(merged.get("purposes"), Purpose.values, "purposes", errors)
    cleaned["actions"] = _codes(merged.get("actions"), PolicyAction.values, "actions", errors)
    cleaned["recipient_attributes"] = _codes(
        merged.get("recipient_attributes"),
        StaffAttribute.values,
        "recipient_attributes",
        errors,
        required=False,
    )
    consent = str(merged.get("consent") or ConsentRequirement.NONE)
    if consent not in ConsentRequirement.values:
        errors.append({"field": "consent", "reason": "unknown consent requirement"})
    cleaned["consent"] = consent
    cleaned["redisclosure_allowed"] = bool(merged.get("redisclosure_allowed"))
    retention = merged.get("retention_days")
    if retention in (None, ""):
        cleaned["retention_days"] = None
    else:
        try:
            cleaned["retention_days"] = int(str(retention))
            if not 1 <= cleaned["retention_days"] <= 36500:
                raise ValueError
        except (TypeError, ValueError):
            errors.append({"field": "retention_days", "reason": "whole days, 1 to 36500"})
    # Terms that could never take effect would mislead everyone who reads them.
    for category, why in (
        (
            DataCategory.PRIVILEGED,
            "privileged and work-product material never leaves its "
            "agency; no agreement can share it",
        ),
        (DataCategory.SEALED, "sealed records are not shared; no agreement can share them"),
    ):
        if category in cleaned["categories"]:
            errors.append({"field": "categories", "reason": why})
    if (
        DataCategory.SUBSTANCE_USE_PART2 in cleaned["categories"]
        and consent != ConsentRequirement.PART2
    ):
        errors.append(
            {
                "field": "consent",
                "reason": "42 CFR Part 2 records need the "
                "requirement '42 CFR Part 2 consent' (42 CFR 2.31, 2.33)",
            }
        )
    if errors:
        raise InvalidInput("The sharing term cannot be saved.", errors=errors)
    return cleaned


@action
def add_term(version: AgreementVersion, *, actor: Actor, **values: Any) -> SharingTerm:
    """Add a typed sharing term to a version being drafted or negotiated."""
    _require_editable_by(version, actor)
    term = SharingTerm(version=version, **_clean_term(version, values, None))
    term.save()
    _record_terms_changed(version, actor, {"term_added": term.pk, "clause": term.clause})
    return term


@action
def update_term(term: SharingTerm, *, actor: Actor, **values: Any) -> SharingTerm:
    version = term.version
    _require_editable_by(version, actor)
    for name, value in _clean_term(version, values, term).items():
        setattr(term, name, value)
    term.save()
    _record_terms_changed(version, actor, {"term_changed": term.pk, "clause": term.clause})
    return term


@action
def remove_term(term: SharingTerm, *, actor: Actor) -> None:
    version = term.version
    _require_editable_by(version, actor)
    _record_terms_changed(version, actor, {"term_removed": term.pk, "clause": term.clause})
    term.delete()


OBLIGATION_FIELDS = frozenset(
    {
        "clause",
        "party",
        "counterparty",
        "description",
        "measure",
        "subject",
        "within_hours",
        "within_days",
        "every_days",
        "target_percent",
    }
)


def _positive(value: Any, field: str, errors: list[dict[str, str]], required: bool) -> int | None:
    if value in (None, ""):
        if required:
            errors.append({"field": field, "reason": "required for this measure"})
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number <= 0:
        errors.append({"field": field, "reason": "a whole number above zero"})
        return None
    return number


def _clean_obligation(
    version: AgreementVersion, values: Mapping[str, Any], obligation: Obligation | None
) -> dict[str, Any]:
    errors = [
        {"field": k, "reason": "unknown field"} for k in sorted(set(values) - OBLIGATION_FIELDS)
    ]
    current: dict[str, Any] = {}
    if obligation is not None:
        current = {n: getattr(obligation, n) for n in OBLIGATION_FIELDS - {"party", "counterparty"}}
        current.update(party=obligation.party_id, counterparty=obligation.counterparty_id)
    merged = {**current, **values}
    measure = str(merged.get("measure") or "")
    if measure not in ObligationMeasure.values:
        errors.append({"field": "measure", "reason": "unknown measure"})
    cleaned: dict[str, Any] = {
        "clause": _clause(merged.get("clause"), errors),
        "party": _party_agency(version, merged.get("party"), "party", errors),
        "counterparty": _party_agency(
            version, merged.get("counterparty"), "counterparty", errors, required=False
        ),
        "description": str(merged.get("description") or "").strip()[:300],
        "measure": measure,
        "subject": str(merged.get("subject") or "").strip()[:64],
        "within_hours": _positive(
            merged.get("within_hours"),
            "within_hours",
            errors,
            measure == ObligationMeasure.EVENT_DELIVERED,
        ),
        "within_days": _positive(
            merged.get("within_days"),
            "within_days",
            errors,
            measure == ObligationMeasure.REQUEST_ANSWERED,
        ),
        "every_days": _positive(
            merged.get("every_days"),
            "every_days",
            errors,
            measure == ObligationMeasure.REPORT_EVERY,
        ),
    }
    target = _positive(merged.get("target_percent") or 95, "target_percent", errors, True)
    if target is not None and target > 100:
        errors.append({"field": "target_percent", "reason": "at most 100"})
    cleaned["target_percent"] = target or 95
    if not cleaned["description"]:
        errors.append({"field": "description", "reason": "required"})
    if (
        measure in (ObligationMeasure.EVENT_DELIVERED, ObligationMeasure.REQUEST_ANSWERED)
        and not cleaned["subject"]
    ):
        errors.append({"field": "subject", "reason": "name the event or request type"})
    if errors:
        raise InvalidInput("The obligation cannot be saved.", errors=errors)
    return cleaned


@action
def add_obligation(version: AgreementVersion, *, actor: Actor, **values: Any) -> Obligation:
    """Add a measured obligation to a version being drafted or negotiated."""
    _require_editable_by(version, actor)
    obligation = Obligation(version=version, **_clean_obligation(version, values, None))
    obligation.save()
    _record_terms_changed(version, actor, {"obligation_added": obligation.pk})
    return obligation


@action
def update_obligation(obligation: Obligation, *, actor: Actor, **values: Any) -> Obligation:
    version = obligation.version
    _require_editable_by(version, actor)
    for name, value in _clean_obligation(version, values, obligation).items():
        setattr(obligation, name, value)
    obligation.save()
    _record_terms_changed(version, actor, {"obligation_changed": obligation.pk})
    return obligation


@action
def remove_obligation(obligation: Obligation, *, actor: Actor) -> None:
    version = obligation.version
    _require_editable_by(version, actor)
    _record_terms_changed(version, actor, {"obligation_removed": obligation.pk})
    obligation.delete()


@action
def add_escalation_step(
    version: AgreementVersion,
    *,
    actor: Actor,
    level: str,
    within_days: Any = None,
    description: str = "",
) -> EscalationStep:
    """Append a rung to the dispute ladder (line staff → supervisors → heads → council)."""
    _require_editable_by(version, actor)
    errors: list[dict[str, str]] = []
    if not level.strip():
        errors.append({"field": "level", "reason": "required"})
    days = _positive(within_days, "within_days", errors, False)
    if errors:
        raise InvalidInput("The step cannot be added.", errors=errors)
    last = version.escalation_steps.order_by("-position").first()
    step = EscalationStep.objects.create(
        version=version,
        position=(last.position + 1) if last else 1,
        level=level.strip()[:120],
        within_days=days,
        description=description.strip()[:300],
    )
    _record_terms_changed(version, actor, {"escalation_added": step.position})
    return step


@action
def remove_escalation_step(step: EscalationStep, *, actor: Actor) -> None:
    version = step.version
    _require_editable_by(version, actor)
    _record_terms_changed(version, actor, {"escalation_removed": step.position})
    later = list(version.escalation_steps.filter(position__gt=step.position).order_by("position"))
    step.delete()
    for other in later:
        other.position -= 1
        other.save(update_fields=["position"])


# --- lifecycle -------------------------------------------------------------------------------


def _set_status(agreement: Agreement, status: str, actor: Actor, **details: Any) -> None:
    before = agreement.status
    if before == status:
        return
    agreement.status = status
    agreement.save(update_fields=["status", "updated_at"])
    audit(
        actor,
        AuditAction.AGREEMENT_STATUS_CHANGED,
        obj=agreement,
        details={"from": before, "to": status, **details},
    )


def _sync_status_with_open_version(
    agreement: Agreement, version: AgreementVersion, actor: Actor
) -> None:
    # Before the first version is in force, the agreement's status is its version's.
    if agreement.status in (
        *IN_FORCE_STATUSES,
        AgreementStatus.EXPIRED,
        AgreementStatus.TERMINATED,
    ):
        return
    mapping: dict[str, str] = {
        VersionStatus.DRAFT: AgreementStatus.DRAFT,
        VersionStatus.IN_NEGOTIATION: AgreementStatus.IN_NEGOTIATION,
        VersionStatus.AWAITING_SIGNATURES: AgreementStatus.AWAITING_SIGNATURES,
        VersionStatus.SIGNED: AgreementStatus.AWAITING_SIGNATURES,
    }
    if version.status in mapping:
        _set_status(agreement, mapping[version.status], actor, version=version.number)


@action
def open_negotiation(version: AgreementVersion, *, actor: Actor) -> AgreementVersion:
    """Share a draft with the other parties for negotiation."""
    require_manager(version.agreement, actor)
    if version.status != VersionStatus.DRAFT:
        raise ActionRefused("Only a draft can go into negotiation.")
    version.status = VersionStatus.IN_NEGOTIATION
    version.save(update_fields=["status"])
    _sync_status_with_open_version(version.agreement, version, actor)
    return version


def readiness_problems(version: AgreementVersion) -> list[dict[str, str]]:
    """What stops a version from going out for signature."""
    problems = []
    agreement = version.agreement
    parties = list(agreement.parties.select_related("signatory"))
    if len(parties) < 2:
        problems.append({"field": "parties", "reason": "an agreement needs at least two parties"})
    for party in parties:
        if party.signatory_id is None:
            problems.append(
                {"field": "parties", "reason": f"{party.agency} has no authorized signatory"}
            )
    if not version.body.strip():
        problems.append({"field": "body", "reason": "the agreement has no text"})
    clauses = set(version.clause_numbers)
    cited = [t.clause for t in version.terms.all()] + [o.clause for o in version.obligations.all()]
    for clause in cited:
        if clause not in clauses:
            problems.append(
                {
                    "field": "clause",
                    "reason": f"§{clause} is not a numbered clause of the text",
                }
            )
    if version.expires_on <= timezone.localdate():
        problems.append({"field": "expires_on", "reason": "the expiry date has passed"})
    return problems


@action
def request_signatures(version: AgreementVersion, *, actor: Actor) -> AgreementVersion:
    """Freeze a version and send it for signature: its content hash is what every party
    signs."""
    _require_editable_by(version, actor)
    problems = readiness_problems(version)
    if problems:
        raise InvalidInput("This version is not ready for signature.", errors=problems)
    version.status = VersionStatus.AWAITING_SIGNATURES
    version.content_hash = content_hash(version)
    version.frozen_at = timezone.now()
    version.save(update_fields=["status", "content_hash", "frozen_at"])
    _sync_status_with_open_version(version.agreement, version, actor)
    audit(
        actor,
        AuditAction.AGREEMENT_STATUS_CHANGED,
        obj=version.agreement,
        details={"version": version.number, "sent_for_signature": version.content_hash},
    )
    return version


@action
def return_to_negotiation(
    version: AgreementVersion, *, actor: Actor, reason: str
) -> AgreementVersion:
    """Reopen a version awaiting signatures; signatures already given are voided."""
    require_manager(version.agreement, actor)
    if version.status not in (VersionStatus.AWAITING_SIGNATURES, VersionStatus.SIGNED):
        raise ActionRefused("Only a version awaiting signatures can be reopened.")
    if not reason.strip():
        raise InvalidInput("Give the reason.", errors=[{"field": "reason", "reason": "required"}])
    was_signed = version.status == VersionStatus.SIGNED
    voided = version.signatures.filter(voided_at__isnull=True).update(voided_at=timezone.now())
    version.status = VersionStatus.IN_NEGOTIATION
    version.content_hash = ""
    version.signed_at = None
    version.save(update_fields=["status", "content_hash", "signed_at"])
    _sync_status_with_open_version(version.agreement, version, actor)
    if was_signed:
        bump_policy_version("agreement version reopened")
    audit(
        actor,
        AuditAction.AGREEMENT_STATUS_CHANGED,
        obj=version.agreement,
        details={
            "version": version.number,
            "reopened": reason.strip()[:300],
            "signatures_voided": voided,
        },
    )
    return version


@action
def sign_version(version: AgreementVersion, *, actor: Actor, reauthenticated: bool) -> Signature:
    """Sign a version for one's agency, as its named signatory, after re-authenticating.
    The signature binds the version's content hash. When every party has signed the
    version is signed; it comes into force on its effective date."""
    if not reauthenticated:
        raise PermissionDenied("Confirm your password and authenticator code before signing.")
    if version.status != VersionStatus.AWAITING_SIGNATURES:
        raise ActionRefused("This version is not awaiting signatures.")
    if actor.agency_id is None or actor.user_id is None or actor.scopes is not None:
        raise PermissionDenied("Only a party's authorized signatory can sign for it.")
    party = version.agreement.parties.filter(
        agency_id=actor.agency_id, signatory_id=actor.user_id
    ).first()
    if party is None:
        raise PermissionDenied("Only a party's authorized signatory can sign for it.")
    if version.signatures.filter(party=party, voided_at__isnull=True).exists():
        raise ActionRefused("Your agency has already signed this version.")
    current = content_hash(version)
    if current != version.content_hash:
        # Nothing can change a frozen version through the actions; if the content differs,
        # something wrote around them, and nobody may sign what they did not see.
        raise ActionRefused(
            "This version's content no longer matches what was sent for signature; reopen it."
        )
    signature = Signature.objects.create(
        version=version,
        party=party,
        signer_id=actor.user_id,
        signer_label=actor.label[:150],
        signer_title=party.signatory_title,
        signed_at=timezone.now(),
        content_hash=current,
        source_ip=actor.source_ip or "",
    )
    audit(
        actor,
        AuditAction.AGREEMENT_SIGNED,
        obj=version.agreement,
        details={"version": version.number, "content_hash": current, "party": party.agency_id},
    )
    parties = set(version.agreement.parties.values_list("pk", flat=True))
    signed = set(
        version.signatures.filter(voided_at__isnull=True).values_list("party_id", flat=True)
    )
    if parties <= signed:
        version.status = VersionStatus.SIGNED
        version.signed_at = timezone.now()
        version.save(update_fields=["status", "signed_at"])
        bump_policy_version("agreement version signed")
        audit(
            actor,
            AuditAction.AGREEMENT_STATUS_CHANGED,
            obj=version.agreement,
            details={"version": version.number, "signed_by_all": current},
        )
        activate_due(actor=actor, agreement=version.agreement)
    return signature


@action
def activate_due(
    *, actor: Actor, agreement: Agreement | None = None, today: date | None = None
) -> int:
    """Bring signed versions whose effective date has come into force, superseding the
    version they amend, and end versions past their expiry date. Decisions never wait for
    this (they check dates themselves); it keeps statuses true and reminders right."""
    today = today or timezone.localdate()
    changed = 0
    due = AgreementVersion.objects.filter(status=VersionStatus.SIGNED, effective_on__lte=today)
    if agreement is not None:
        due = due.filter(agreement=agreement)
    for version in due.select_related("agreement").order_by("agreement_id", "number"):
        owner = version.agreement
        if owner.status == AgreementStatus.TERMINATED:
            continue
        for old in owner.versions.filter(status=VersionStatus.ACTIVE).exclude(pk=version.pk):
            old.status = VersionStatus.SUPERSEDED
            old.ended_at = timezone.now()
            old.save(update_fields=["status", "ended_at"])
        version.status = VersionStatus.ACTIVE
        version.activated_at = timezone.now()
        version.save(update_fields=["status", "activated_at"])
        audit(
            actor,
            AuditAction.AGREEMENT_ACTIVATED,
            obj=owner,
            details={"version": version.number, "content_hash": version.content_hash},
        )
        if owner.status not in IN_FORCE_STATUSES:
            _set_status(owner, AgreementStatus.ACTIVE, actor, version=version.number)
        changed += 1
    expired = AgreementVersion.objects.filter(status=VersionStatus.ACTIVE, expires_on__lt=today)
    if agreement is not None:
        expired = expired.filter(agreement=agreement)
    for version in expired.select_related("agreement"):
        version.status = VersionStatus.ENDED
        version.ended_at = timezone.now()
        version.save(update_fields=["status", "ended_at"])
        owner = version.agreement
        if not owner.versions.filter(status=VersionStatus.ACTIVE).exists():
            _set_status(owner, AgreementStatus.EXPIRED, actor, version=version.number)
            audit(
                actor,
                AuditAction.AGREEMENT_EXPIRED,
                obj=owner,
                details={"version": version.number, "expired_on": version.expires_on},
            )
        changed += 1
    if changed:
        bump_policy_version("agreement versions came into force or expired")
    return changed


@action
def start_review(agreement: Agreement, *, actor: Actor, note: str = "") -> Agreement:
    """Mark an agreement in force as under review (it stays in force meanwhile)."""
    require_manager(agreement, actor)
    if agreement.status != AgreementStatus.ACTIVE:
        raise ActionRefused("Only an agreement in force can be put under review.")
    _set_status(agreement, AgreementStatus.UNDER_REVIEW, actor, note=note.strip()[:300])
    return agreement


@action
def finish_review(agreement: Agreement, *, actor: Actor, note: str = "") -> Agreement:
    require_manager(agreement, actor)
    if agreement.status != AgreementStatus.UNDER_REVIEW:
        raise ActionRefused("This agreement is not under review.")
    _set_status(agreement, AgreementStatus.ACTIVE, actor, note=note.strip()[:300])
    return agreement


@action
def terminate_agreement(agreement: Agreement, *, actor: Actor, reason: str) -> Agreement:
    """End an agreement now: every flow it allowed stops with the next decision."""
    require_manager(agreement, actor)
    if agreement.status == AgreementStatus.TERMINATED:
        raise ActionRefused("This agreement is already terminated.")
    if not reason.strip():
        raise InvalidInput("Give the reason.", errors=[{"field": "reason", "reason": "required"}])
    now = timezone.now()
    for version in agreement.versions.filter(
        status__in=[VersionStatus.ACTIVE, VersionStatus.SIGNED]
    ):
        version.status = VersionStatus.ENDED
        version.ended_at = now
        version.save(update_fields=["status", "ended_at"])
    for version in agreement.versions.filter(
        status__in=[
            VersionStatus.DRAFT,
            VersionStatus.IN_NEGOTIATION,
            VersionStatus.AWAITING_SIGNATURES,
        ]
    ):
        version.status = VersionStatus.WITHDRAWN
        version.save(update_fields=["status"])
    agreement.terminated_at = now
    agreement.termination_reason = reason.strip()[:300]
    agreement.save(update_fields=["terminated_at", "termination_reason", "updated_at"])
    _set_status(agreement, AgreementStatus.TERMINATED, actor)
    bump_policy_version("agreement terminated")
    audit(
        actor,
        AuditAction.AGREEMENT_TERMINATED,
        obj=agreement,
        details={"reason": agreement.termination_reason},
    )
    return agreement


@action
def amend(agreement: Agreement, *, actor: Actor, change_summary: str = "") -> AgreementVersion:
    """Start an amendment: a new draft version copying the one in force (its text, terms,
    obligations and ladder). It supersedes the old version when it comes into force."""
    require_manager(agreement, actor)
    if agreement.status not in IN_FORCE_STATUSES:
        raise ActionRefused("Only an agreement in force can be amended.")
    if agreement.open_version() is not None:
        raise ActionRefused("An amendment is already being drafted.")
    base = agreement.version_in_force() or agreement.latest_version()
    assert base is not None
    version = AgreementVersion.objects.create(
        agreement=agreement,
        number=base.number + 1,
        body=base.body,
        change_summary=change_summary.strip()[:300],
        effective_on=max(base.effective_on, timezone.localdate()),
        expires_on=base.expires_on,
        review_on=base.review_on,
    )
    for term in base.terms.all():
        term.pk = None
        term.version = version
        term.save()
    for obligation in base.obligations.all():
        obligation.pk = None
        obligation.version = version
        obligation.save()
    for step in base.escalation_steps.all():
        step.pk = None
        step.version = version
        step.save()
    audit(
        actor,
        AuditAction.AGREEMENT_AMENDED,
        obj=agreement,
        details={"from_version": base.number, "version": version.number},
    )
    return version


@action
def withdraw_version(version: AgreementVersion, *, actor: Actor) -> AgreementVersion:
    """Abandon a draft or unsigned amendment; the history keeps it."""
    require_manager(version.agreement, actor)
    if version.status not in (*EDITABLE_VERSION_STATUSES, VersionStatus.AWAITING_SIGNATURES):
        raise ActionRefused("Only a version not yet signed by every party can be withdrawn.")
    version.status = VersionStatus.WITHDRAWN
    version.save(update_fields=["status"])
    version.signatures.filter(voided_at__isnull=True).update(voided_at=timezone.now())
    audit(
        actor,
        AuditAction.AGREEMENT_STATUS_CHANGED,
        obj=version.agreement,
        details={"version": version.number, "withdrawn": True},
    )
    return version


# --- obligations and reminders ---------------------------------------------------------------


@action
def attest_obligation(
    obligation: Obligation,
    *,
    actor: Actor,
    period_start: Any,
    period_end: Any,
    met: bool,
    note: str = "",
) -> Attestation:
    """The obligated party states it met (or missed) the obligation over a period."""
    if not actor.is_system and not (
        actor.agency_id == obligation.party_id
        and actor.has_role("agency_admin", "supervisor")
        and actor.scopes is None
    ):
        raise PermissionDenied(
            "Only a supervisor or administrator of the obligated party can attest."
        )
    errors: list[dict[str, str]] = []
    start = _date(period_start, "period_start", errors)
    end = _date(period_end, "period_end", errors)
    if start and end and end < start:
        errors.append({"field": "period_end", "reason": "must not be before the start"})
    if end and end > timezone.localdate():
        errors.append({"field": "period_end", "reason": "cannot be in the future"})
    if errors:
        raise InvalidInput("The attestation cannot be recorded.", errors=errors)
    assert start is not None
    assert end is not None
    attestation = Attestation.objects.create(
        obligation=obligation,
        period_start=start,
        period_end=end,
        met=bool(met),
        note=note.strip()[:300],
        attested_by=actor.label[:150],
        attested_at=timezone.now(),
    )
    audit(
        actor,
        AuditAction.OBLIGATION_ATTESTED,
        obj=obligation.version.agreement,
        agency_id=obligation.party_id,
        details={"obligation": obligation.pk, "met": bool(met), "from": start, "to": end},
    )
    return attestation


def _reminder_recipients(agreement: Agreement) -> list[str]:
    emails = set()
    for party in agreement.parties.select_related("agency", "signatory"):
        if party.agency.email:
            emails.add(party.agency.email)
        if party.signatory and party.signatory.email:
            emails.add(party.signatory.email)
    return sorted(emails)


@action
def send_due_reminders(*, actor: Actor, today: date | None = None) -> int:
    """Remind the parties of reviews and expiries ahead of time (by default 60 and 30
    days before), once per version, kind and lead time: in the app (the reminders list)
    and by e-mail."""
    today = today or timezone.localdate()
    sent = 0
    versions = AgreementVersion.objects.filter(status=VersionStatus.ACTIVE).select_related(
        "agreement"
    )
    for version in versions:
        agreement = version.agreement
        for kind, due in (("review", version.review_on), ("expiry", version.expires_on)):
            if due is None or due < today:
                continue
            remaining = (due - today).days
            leads = [d for d in sorted(agreement.reminder_day_list) if remaining <= d]
            if not leads:
                continue
            # The nearest lead time only: a reminder first sent 20 days ahead is the
            # 30-day one, and the 60-day one is not sent late as well.
            days = leads[0]
            if version.reminders.filter(kind=kind, days_before__lte=days).exists():
                continue
            recipients = _reminder_recipients(agreement)
            Reminder.objects.create(
                version=version,
                kind=kind,
                days_before=days,
                due_on=due,
                sent_at=timezone.now(),
                recipients=recipients,
            )
            if recipients:
                send_mail(
                    f"[Accord] {agreement.reference}: {kind} due {due:%Y-%m-%d}",
                    f"{agreement.reference} ({agreement.title}) is due for {kind} on "
                    f"{due:%Y-%m-%d}, in {remaining} days.\n\nOpen it in Accord to review, "
                    "amend or renew it.",
                    None,
                    recipients,
                )
            audit(
                actor,
                AuditAction.AGREEMENT_REMINDED,
                obj=agreement,
                details={"kind": kind, "due_on": due, "days_before": days},
            )
            sent += 1
    return sent


def upcoming(today: date | None = None, within_days: int = 60) -> Q:
    """Agreements whose in-force version is due for review or expiry soon."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=within_days)
    return Q(versions__status=VersionStatus.ACTIVE) & (
        Q(versions__review_on__range=(today, horizon))
        | Q(versions__expires_on__range=(today, horizon))
    )


# --- breach alerts ------------------------------------------------------------------------------

# How far back the hourly check looks beyond an obligation's deadline: a job stopped for up
# to a week still raises every breach when it runs again.
BREACH_LOOKBACK = timedelta(days=7)


def alert_recipients(obligation: Obligation) -> list[User]:
    """The active agency administrators of both parties of the obligation (of every party
    of the agreement when it names no counterparty)."""
    agencies = {obligation.party_id}
    if obligation.counterparty_id is not None:
        agencies.add(obligation.counterparty_id)
    else:
        agencies |= set(obligation.version.agreement.parties.values_list("agency_id", flat=True))
    return list(
        User.objects.filter(
            is_active=True,
            staff__agency_id__in=agencies,
            staff__role_rows__role=Role.AGENCY_ADMIN,
        )
        .distinct()
        .order_by("pk")
    )


@action
def raise_breach_alerts(*, actor: Actor, now: datetime | None = None) -> int:
    """Find the occurrences of clocked obligations in force that missed their deadline
    (done late, or still not done after it) and raise one alert per breach to both
    parties' administrators: the ``BreachAlert`` row (in-app), its audit row and the
    e-mail task, in one transaction. Idempotent: a breach already alerted is skipped,
    and the unique row settles two runs at once. Returns how many alerts were raised."""
    from accord.agreements.tasks import email_breach_alert

    now = now or timezone.now()
    raised = 0
    obligations = Obligation.objects.filter(
        version__status=VersionStatus.ACTIVE,
        measure__in=[ObligationMeasure.EVENT_DELIVERED, ObligationMeasure.REQUEST_ANSWERED],
    ).select_related("version__agreement", "party", "counterparty")
    for obligation in obligations:
        allowed = deadline(obligation)
        if allowed is None:
            continue
        since = max(in_force_since(obligation), now - allowed - BREACH_LOOKBACK)
        known = set(obligation.breach_alerts.values_list("occurrence", flat=True))
        recipients: list[User] | None = None
        for occurrence in occurrences(obligation, since, now):
            due = occurrence.started_at + allowed
            done = occurrence.completed_at
            if occurrence.ref in known or (done is None and now <= due):
                continue
            if done is not None and done <= due:
                continue
            if recipients is None:
                recipients = alert_recipients(obligation)
            try:
                with transaction.atomic():
                    alert = BreachAlert.objects.create(
                        obligation=obligation,
                        occurrence=occurrence.ref[:80],
                        kind=BreachKind.OVERDUE if done is None else BreachKind.LATE,
                        started_at=occurrence.started_at,
                        due_at=due,
                        completed_at=done,
                        raised_at=now,
                        recipients=[u.pk for u in recipients],
                    )
            except IntegrityError:
                continue  # another run raised it a moment ago
            audit(
                actor,
                AuditAction.AGREEMENT_BREACH_ALERTED,
                obj=obligation.version.agreement,
                details={
                    "alert": alert.pk,
                    "obligation": obligation.pk,
                    "clause": obligation.clause,
                    "occurrence": alert.occurrence,
                    "kind": alert.kind,
                    "due_at": due.isoformat(),
                    "completed_at": done.isoformat() if done else None,
                    "recipients": alert.recipients,
                },
            )
            email_breach_alert.enqueue(alert.pk)
            raised += 1
    return raised


@action
def mark_breach_alert_emailed(alert_id: int, *, actor: Actor) -> None:
    """The alert's e-mail went out, so a retried task does not send it again."""
    BreachAlert.objects.filter(pk=alert_id, emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    )


@action
def acknowledge_breach_alert(alert: BreachAlert, note: str, *, actor: Actor) -> BreachAlert:
    """An administrator of a party (or a coordinator) answers a breach alert with what was
    done about it; the alert is then no longer open. Once only: the note is the record, so
    a second acknowledgement is refused rather than overwriting the first."""
    if not BreachAlert.objects.visible_to(actor).filter(pk=alert.pk).exists():
        raise NotFound(f"No breach alert {alert.pk}.")
    # Row lock: two administrators acknowledging at once must not both succeed.
    locked: BreachAlert = (
        BreachAlert.objects.select_for_update(of=("self",))
        .select_related("obligation__version__agreement")
        .get(pk=alert.pk)
    )
    agreement = locked.obligation.version.agreement
    try:
        require_manager(agreement, actor)
    except PermissionDenied as exc:
        if actor.scopes is not None:
            raise  # a token: "managed by people, not API tokens"
        raise PermissionDenied(
            "Only a coordinator or an administrator of a party agency can acknowledge a "
            "breach alert."
        ) from exc
    if locked.acknowledged_at is not None:
        when = timezone.localtime(locked.acknowledged_at)
        raise ActionRefused(
            f"This breach alert was already acknowledged by {locked.acknowledged_by_label} "
            f"on {when:%Y-%m-%d %H:%M}."
        )
    text = (note or "").strip()
    if not text:
        raise InvalidInput(
            "Say what was done about the breach.",
            errors=[{"field": "note", "reason": "required"}],
        )
    if len(text) > ACKNOWLEDGEMENT_MAX:
        raise InvalidInput(
            "The note is too long.",
            errors=[{"field": "note", "reason": f"at most {ACKNOWLEDGEMENT_MAX} characters"}],
        )
    user = User.objects.filter(pk=actor.user_id).first() if actor.user_id else None
    locked.acknowledged_at = timezone.now()
    locked.acknowledged_by = user
    locked.acknowledged_by_label = _acknowledger_label(user, actor)
    locked.acknowledgement = text
    locked.save(
        update_fields=[
            "acknowledged_at",
            "acknowledged_by",
            "acknowledged_by_label",
            "acknowledgement",
        ]
    )
    audit(
        actor,
        AuditAction.AGREEMENT_BREACH_ACKNOWLEDGED,
        obj=agreement,
        details={
            "alert": locked.pk,
            "obligation": locked.obligation_id,
            "clause": locked.obligation.clause,
            "occurrence": locked.occurrence,
            "note": text,
        },
    )
    return locked


def _acknowledger_label(user: User | None, actor: Actor) -> str:
    """The name and agency shown next to the acknowledgement ("Dana Reyes (TPD)")."""
    if user is None:
        return actor.label[:200]
    name = user.get_full_name() or user.username
    agency = None
    if actor.agency_id is not None:
        agency = (
            Agency.objects.filter(pk=actor.agency_id).values_list("short_name", flat=True).first()
        )
    return (f"{name} ({agency})" if agency else name)[:200]
