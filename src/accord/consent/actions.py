"""Every change to a consent: recorded, corrected while a draft, put in force, revoked,
ended by its expiry event. Each one that changes what is in force bumps the policy
version in the same transaction, so the next decision anywhere sees it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from accord.audit.chain import append as audit
from accord.audit.codes import AuditAction
from accord.consent.elements import ConsentTerms, missing_elements, scope_problems
from accord.consent.models import (
    CONSENT_ROLES,
    Consent,
    ConsentStatus,
    SignatureMethod,
    SignerCapacity,
)
from accord.core.access import Purpose
from accord.core.actions import action
from accord.core.actors import Actor
from accord.core.errors import ActionRefused, InvalidInput, PermissionDenied
from accord.directory.models import Agency, AgencyKind
from accord.policy import codesets
from accord.policy.actions import bump_policy_version, clean_client_key
from accord.policy.vocabulary import ConsentKind, DataCategory

TEXT_FIELDS = {
    "client_name": 200,
    "information_description": 4000,
    "purpose_description": 4000,
    "revocation_statement": 4000,
    "expiry_event": 300,
    "signer_name": 200,
    "signature_evidence": 300,
}
LIST_FIELDS = (
    "disclosers",
    "discloser_kinds",
    "categories",
    "recipients",
    "recipient_kinds",
    "purposes",
)
FIELDS = frozenset(
    {
        "kind",
        "client_key",
        "expires_on",
        "signer_capacity",
        "signature_method",
        "signed_at",
        "hipaa_redisclosure_statement",
        *TEXT_FIELDS,
        *LIST_FIELDS,
    }
)


def _require_recorder(actor: Actor, agency_id: int | None = None) -> int:
    if actor.is_system and agency_id is not None:
        return agency_id
    if actor.agency_id is None or not actor.has_role(*CONSENT_ROLES) or actor.scopes is not None:
        raise PermissionDenied("Only staff who take consents with clients can do this.")
    if agency_id is not None and actor.agency_id != agency_id:
        raise PermissionDenied("Only the agency that recorded this consent can change it.")
    return int(actor.agency_id)


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [v for v in value.split(",") if v.strip()]
    return list(value)


def _as_date(value: Any, errors: list[dict[str, str]], field: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    parsed = parse_date(str(value))
    if parsed is None:
        errors.append({"field": field, "reason": "not a date (YYYY-MM-DD)"})
    return parsed


def _as_datetime(value: Any, errors: list[dict[str, str]], field: str) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        parsed: datetime | None = value
    else:
        try:
            parsed = parse_datetime(str(value))
        except ValueError:
            parsed = None
        if parsed is None and parse_date(str(value)):
            day = parse_date(str(value))
            assert day is not None
            parsed = datetime(
                day.year, day.month, day.day, 12, tzinfo=timezone.get_current_timezone()
            )
    if parsed is None:
        errors.append({"field": field, "reason": "not a date and time"})
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def _codes(
    values: Iterable[Any], allowed: Iterable[str], field: str, errors: list[dict[str, str]]
) -> list[str]:
    wanted = [str(v).strip() for v in values if str(v).strip()]
    unknown = sorted(set(wanted) - set(allowed))
    if unknown:
        errors.append({"field": field, "reason": "unknown: " + ", ".join(unknown)})
    return sorted(set(wanted) - set(unknown))


def _agencies(values: Iterable[Any], field: str, errors: list[dict[str, str]]) -> list[int]:
    try:
        ids = sorted({int(v) for v in values})
    except (TypeError, ValueError):
        errors.append({"field": field, "reason": "agency ids must be whole numbers"})
        return []
    found = set(Agency.objects.filter(pk__in=ids).values_list("pk", flat=True))
    if set(ids) - found:
        errors.append({"field": field, "reason": "names an agency that does not exist"})
    return sorted(found)


def current_values(consent: Consent | None) -> dict[str, Any]:
    if consent is None:
        return {}
    return {
        "kind": consent.kind,
        "client_key": consent.client_key,
        "client_name": consent.client_name,
        "disclosers": list(consent.disclosers.values_list("pk", flat=True)),
        "discloser_kinds": consent.discloser_kind_list,
        "information_description": consent.information_description,
        "categories": consent.category_list,
        "recipients": list(consent.recipients.values_list("pk", flat=True)),
        "recipient_kinds": consent.recipient_kind_list,
        "purposes": consent.purpose_list,
        "purpose_description": consent.purpose_description,
        "revocation_statement": consent.revocation_statement,
        "expires_on": consent.expires_on,
        "expiry_event": consent.expiry_event,
        "signer_name": consent.signer_name,
        "signer_capacity": consent.signer_capacity,
        "signature_method": consent.signature_method,
        "signature_evidence": consent.signature_evidence,
        "signed_at": consent.signed_at,
        "hipaa_redisclosure_statement": consent.hipaa_redisclosure_statement,
    }


def clean_values(
    values: Mapping[str, Any], consent: Consent | None
) -> tuple[dict[str, Any], ConsentTerms]:
    errors: list[dict[str, str]] = [
        {"field": name, "reason": "unknown field"} for name in sorted(set(values) - FIELDS)
    ]
    merged = {**current_values(consent), **{k: v for k, v in values.items() if k in FIELDS}}
    kind = str(merged.get("kind") or "")
    if kind not in ConsentKind.values:
        errors.append(
            {"field": "kind", "reason": "must be one of " + ", ".join(ConsentKind.values)}
        )
    try:
        client_key = clean_client_key(str(merged.get("client_key") or ""))
    except InvalidInput as exc:
        errors.extend(exc.errors)
        client_key = ""
    cleaned: dict[str, Any] = {"kind": kind, "client_key": client_key}
    for name, limit in TEXT_FIELDS.items():
        text = str(merged.get(name) or "").strip()
        if len(text) > limit:
            errors.append({"field": name, "reason": f"at most {limit} characters"})
        cleaned[name] = text[:limit]
    cleaned["categories"] = _codes(
        _as_list(merged.get("categories")), DataCategory.values, "categories", errors
    )
    cleaned["purposes"] = _codes(
        _as_list(merged.get("purposes")), Purpose.values, "purposes", errors
    )
    cleaned["discloser_kinds"] = _codes(
        _as_list(merged.get("discloser_kinds")), AgencyKind.values, "discloser_kinds", errors
    )
    cleaned["recipient_kinds"] = _codes(
        _as_list(merged.get("recipient_kinds")), AgencyKind.values, "recipient_kinds", errors
    )
    cleaned["disclosers"] = _agencies(_as_list(merged.get("disclosers")), "disclosers", errors)
    cleaned["recipients"] = _agencies(_as_list(merged.get("recipients")), "recipients", errors)
    cleaned["expires_on"] = _as_date(merged.get("expires_on"), errors, "expires_on")
    cleaned["signed_at"] = _as_datetime(merged.get("signed_at"), errors, "signed_at")
    for name, choices in (
        ("signer_capacity", SignerCapacity.values),
        ("signature_method", SignatureMethod.values),
    ):
        value = str(merged.get(name) or "")
        if value and value not in choices:
            errors.append({"field": name, "reason": "must be one of " + ", ".join(choices)})
            value = ""
        cleaned[name] = value
    cleaned["hipaa_redisclosure_statement"] = bool(merged.get("hipaa_redisclosure_statement"))
    terms = ConsentTerms(
        kind=kind,
        client_key=client_key,
        client_name=cleaned["client_name"],
        discloser_ids=cleaned["disclosers"],
        discloser_kinds=cleaned["discloser_kinds"],
        information_description=cleaned["information_description"],
        categories=cleaned["categories"],
        recipient_ids=cleaned["recipients"],
        recipient_kinds=cleaned["recipient_kinds"],
        purposes=cleaned["purposes"],
        purpose_description=cleaned["purpose_description"],
        revocation_statement=cleaned["revocation_statement"],
        expires_on=cleaned["expires_on"],
        expiry_event=cleaned["expiry_event"],
        signer_name=cleaned["signer_name"],
        signer_capacity=cleaned["signer_capacity"],
        signature_method=cleaned["signature_method"],
        signed_at=cleaned["signed_at"],
    )
    if kind in ConsentKind.values:
        errors.extend(scope_problems(terms))
    if errors:
        raise InvalidInput("The consent cannot be saved.", errors=errors)
    return cleaned, terms


def terms_of(consent: Consent) -> ConsentTerms:
    """The elements of a saved consent (uses prefetched disclosers and recipients)."""
    return ConsentTerms(
        kind=consent.kind,
        client_key=consent.client_key,
        client_name=consent.client_name,
        discloser_ids=[a.pk for a in consent.disclosers.all()],
        discloser_kinds=consent.discloser_kind_list,
        information_description=consent.information_description,
        categories=consent.category_list,
        recipient_ids=[a.pk for a in consent.recipients.all()],
        recipient_kinds=consent.recipient_kind_list,
        purposes=consent.purpose_list,
        purpose_description=consent.purpose_description,
        revocation_statement=consent.revocation_statement,
        expires_on=consent.expires_on,
        expiry_event=consent.expiry_event,
        signer_name=consent.signer_name,
        signer_capacity=consent.signer_capacity,
        signature_method=consent.signature_method,
        signed_at=consent.signed_at,
    )


def _require_complete(terms: ConsentTerms) -> None:
    missing = missing_elements(terms)
    if not missing:
        return
    kind = ConsentKind(terms.kind).label
    listed = "; ".join(f"{m.citation} {m.words}" for m in missing)
    raise InvalidInput(
        f"This {kind} cannot be in force: it lacks {listed}.",
        errors=[
            {"field": m.field, "reason": f"required ({m.citation}: {m.words})"} for m in missing
        ],
    )


def _write(consent: Consent, cleaned: Mapping[str, Any]) -> None:
    for name in (
        "kind",
        "client_key",
        *TEXT_FIELDS,
        "expires_on",
        "signer_capacity",
        "signature_method",
        "signed_at",
        "hipaa_redisclosure_statement",
    ):
        setattr(consent, name, cleaned[name])
    for name in ("categories", "purposes", "discloser_kinds", "recipient_kinds"):
        setattr(consent, name, codesets.encode(cleaned[name]))
    consent.save()
    consent.disclosers.set(cleaned["disclosers"])
    consent.recipients.set(cleaned["recipients"])


def _summary(consent: Consent) -> dict[str, Any]:
    return {
        "kind": consent.kind,
        "client_key": consent.client_key,
        "categories": consent.category_list,
        "purposes": consent.purpose_list,
        "recipients": sorted(consent.recipients.values_list("pk", flat=True)),
        "recipient_kinds": consent.recipient_kind_list,
        "expires_on": consent.expires_on,
        "expiry_event": consent.expiry_event,
    }


@action
def record_consent(
    *, actor: Actor, activate: bool = False, agency: Agency | None = None, **values: Any
) -> Consent:
    """Record a client's consent, as a draft or (``activate``) in force at once. A Part 2
    or proceedings consent lacking any element of 42 CFR 2.31(a) cannot be in force."""
    agency_id = _require_recorder(actor, agency.pk if agency else None)
    cleaned, terms = clean_values(values, None)
    if activate:
        _require_complete(terms)
    consent = Consent(recorded_by_id=agency_id, recorded_by_label=actor.label[:150])
    if activate:
        consent.status = ConsentStatus.ACTIVE
        consent.activated_at = timezone.now()
    _write(consent, cleaned)
    audit(
        actor,
        AuditAction.CONSENT_RECORDED,
        obj=consent,
        agency_id=agency_id,
        details={**_summary(consent), "status": consent.status},
    )
    if activate:
        bump_policy_version("consent activated")
    return consent


@action
def update_consent(consent: Consent, *, actor: Actor, **values: Any) -> Consent:
    """Correct a draft consent. A consent in force is never edited: revoke it and record a
    new one, so what was disclosed under the old one stays explained."""
    _require_recorder(actor, consent.recorded_by_id)
    if consent.status != ConsentStatus.DRAFT:
        raise ActionRefused("Only a draft consent can be changed; revoke it and record anew.")
    cleaned, _ = clean_values(values, consent)
    _write(consent, cleaned)
    audit(
        actor,
        AuditAction.CONSENT_UPDATED,
        obj=consent,
        agency_id=consent.recorded_by_id,
        details=_summary(consent),
    )
    return consent


@action
def activate_consent(consent: Consent, *, actor: Actor) -> Consent:
    """Put a draft consent in force once every required element is there."""
    _require_recorder(actor, consent.recorded_by_id)
    if consent.status != ConsentStatus.DRAFT:
        raise ActionRefused("Only a draft consent can be put in force.")
    _, terms = clean_values({}, consent)
    _require_complete(terms)
    consent.status = ConsentStatus.ACTIVE
    consent.activated_at = timezone.now()
    consent.save(update_fields=["status", "activated_at", "updated_at"])
    bump_policy_version("consent activated")
    audit(
        actor,
        AuditAction.CONSENT_ACTIVATED,
        obj=consent,
        agency_id=consent.recorded_by_id,
        details=_summary(consent),
    )
    return consent


def _require_revoker(consent: Consent, actor: Actor) -> None:
    if actor.is_system:
        return
    if actor.scopes is not None or not actor.has_role(*CONSENT_ROLES):
        raise PermissionDenied("Only staff who take consents with clients can do this.")
    if actor.agency_id == consent.recorded_by_id:
        return
    if actor.agency_id is not None and consent.disclosers.filter(pk=actor.agency_id).exists():
        return
    raise PermissionDenied("Only the recording agency or a named discloser can record this.")


@action
def revoke_consent(consent: Consent, *, actor: Actor, method: str, note: str = "") -> Consent:
    """Record the client's revocation (42 CFR 2.31(a)(6)). It governs every decision made
    after it, at once; what was disclosed before is not recalled and stays on record."""
    _require_revoker(consent, actor)
    if consent.status not in (ConsentStatus.ACTIVE, ConsentStatus.DRAFT):
        raise ActionRefused("This consent is no longer in force.")
    if not method.strip():
        raise InvalidInput(
            "Say how the client revoked (in writing, orally to staff …).",
            errors=[{"field": "method", "reason": "required"}],
        )
    consent.status = ConsentStatus.REVOKED
    consent.revoked_at = timezone.now()
    consent.revoked_by = actor.label[:150]
    consent.revocation_method = method.strip()[:120]
    consent.revocation_note = note.strip()[:300]
    consent.save(
        update_fields=[
            "status",
            "revoked_at",
            "revoked_by",
            "revocation_method",
            "revocation_note",
            "updated_at",
        ]
    )
    bump_policy_version("consent revoked")
    audit(
        actor,
        AuditAction.CONSENT_REVOKED,
        obj=consent,
        agency_id=consent.recorded_by_id,
        details={"method": consent.revocation_method, "client_key": consent.client_key},
    )
    return consent


@action
def end_consent(consent: Consent, *, actor: Actor, note: str) -> Consent:
    """The consent's expiry event happened (42 CFR 2.31(a)(7)): it ends now."""
    _require_revoker(consent, actor)
    if consent.status != ConsentStatus.ACTIVE:
        raise ActionRefused("Only a consent in force can end.")
    if not note.strip():
        raise InvalidInput("Say what happened.", errors=[{"field": "note", "reason": "required"}])
    consent.status = ConsentStatus.ENDED
    consent.ended_at = timezone.now()
    consent.end_note = note.strip()[:300]
    consent.save(update_fields=["status", "ended_at", "end_note", "updated_at"])
    bump_policy_version("consent ended")
    audit(
        actor,
        AuditAction.CONSENT_ENDED,
        obj=consent,
        agency_id=consent.recorded_by_id,
        details={"note": consent.end_note, "client_key": consent.client_key},
    )
    return consent
