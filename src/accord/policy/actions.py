"""Every change the decision point owns: client records registered, ethical screens set
and lifted, disclosures written."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F
from django.utils import timezone

from accord.accounts.models import User
from accord.audit.chain import append as audit
from accord.audit.codes import AuditAction
from accord.core.actions import action
from accord.core.actors import Actor
from accord.core.errors import ActionRefused, InvalidInput, PermissionDenied
from accord.directory.models import Agency, StaffProfile
from accord.policy import codesets, engine
from accord.policy.engine import Decision
from accord.policy.models import ClientRecord, Disclosure, EthicalScreen, PolicyVersion
from accord.policy.notices import PART2_NOTICE
from accord.policy.vocabulary import DataCategory, SensitivityLabel

CLIENT_KEY_MAX = 64


def bump_policy_version(reason: str) -> None:
    """Mark every process's policy set stale (a new random token in ``PolicyVersion``).
    Called inside the action that changes an agreement, a consent, a screen or an agency,
    so the new token commits, or rolls back, with the change itself."""
    token = uuid.uuid4().hex
    updated = PolicyVersion.objects.filter(pk=1).update(
        counter=F("counter") + 1, token=token, reason=reason[:120]
    )
    if not updated:
        PolicyVersion.objects.update_or_create(
            pk=1, defaults={"counter": 1, "token": token, "reason": reason[:120]}
        )


def clean_client_key(value: str, field: str = "client_key") -> str:
    key = (value or "").strip()
    if not key:
        raise InvalidInput("Name the client.", errors=[{"field": field, "reason": "required"}])
    if len(key) > CLIENT_KEY_MAX or any(c.isspace() and c != " " for c in key):
        raise InvalidInput(
            "The client identifier is not valid.",
            errors=[{"field": field, "reason": f"at most {CLIENT_KEY_MAX} characters, one line"}],
        )
    return key


@action
def register_record(
    owner: Agency,
    *,
    actor: Actor,
    client_key: str,
    category: str,
    summary: str,
    labels: Iterable[str] = (),
    source_ref: str = "",
    recorded_at: datetime | None = None,
) -> ClientRecord:
    """Make one item of client information known to the decision point (its owner's staff
    or Accord itself; later apps call this when they store a record)."""
    if not actor.is_system and actor.agency_id != owner.pk:
        raise PermissionDenied("Only the owning agency registers its records.")
    errors = []
    if category not in DataCategory.values:
        errors.append({"field": "category", "reason": "not a known data category"})
    wanted = set(labels)
    unknown = sorted(wanted - set(SensitivityLabel.values))
    if unknown:
        errors.append({"field": "labels", "reason": "unknown: " + ", ".join(unknown)})
    if not summary.strip():
        errors.append({"field": "summary", "reason": "required"})
    if errors:
        raise InvalidInput("The record cannot be registered.", errors=errors)
    record = ClientRecord.objects.create(
        owner=owner,
        client_key=clean_client_key(client_key),
        category=category,
        labels=codesets.encode(wanted),
        summary=summary.strip()[:300],
        source_ref=source_ref[:120],
        recorded_at=recorded_at or timezone.now(),
    )
    audit(
        actor,
        AuditAction.RECORD_REGISTERED,
        obj=record,
        agency_id=owner.pk,
        details={"category": category, "labels": sorted(wanted)},
    )
    return record


def _require_screen_manager(agency_id: int, actor: Actor) -> None:
    if actor.is_system:
        return
    if actor.agency_id == agency_id and actor.has_role("supervisor", "agency_admin"):
        return
    raise PermissionDenied("Only a supervisor or administrator of this agency manages screens.")


@action
def screen_staff(staff: User, *, actor: Actor, client_key: str, reason: str) -> EthicalScreen:
    """Wall a staff member off from a client (ABA Model Rule 1.10(a)(2) screening). Every
    later decision about that client's records denies them, at once."""
    profile = StaffProfile.objects.filter(user=staff).select_related("agency").first()
    if profile is None:
        raise InvalidInput("Not a staff member.", errors=[{"field": "staff", "reason": "unknown"}])
    _require_screen_manager(profile.agency_id, actor)
    key = clean_client_key(client_key)
    if not reason.strip():
        raise InvalidInput("Give the reason.", errors=[{"field": "reason", "reason": "required"}])
    if EthicalScreen.objects.in_force().filter(staff=staff, client_key=key).exists():
        raise ActionRefused("This staff member is already screened from this client.")
    screen = EthicalScreen.objects.create(
        agency=profile.agency,
        staff=staff,
        client_key=key,
        reason=reason.strip()[:300],
        created_by=actor.label[:150],
    )
    bump_policy_version("screen created")
    audit(
        actor,
        AuditAction.SCREEN_CREATED,
        obj=screen,
        agency_id=profile.agency_id,
        details={"staff": staff.username, "client_key": key},
    )
    return screen


@action
def lift_screen(screen: EthicalScreen, *, actor: Actor, reason: str) -> EthicalScreen:
    """End a screen (the conflict is gone); the record of it stays."""
    _require_screen_manager(screen.agency_id, actor)
    if not screen.in_force:
        raise ActionRefused("This screen was already lifted.")
    if not reason.strip():
        raise InvalidInput("Give the reason.", errors=[{"field": "reason", "reason": "required"}])
    screen.lifted_at = timezone.now()
    screen.lifted_by = actor.label[:150]
    screen.lift_reason = reason.strip()[:300]
    screen.save(update_fields=["lifted_at", "lifted_by", "lift_reason"])
    bump_policy_version("screen lifted")
    audit(actor, AuditAction.SCREEN_LIFTED, obj=screen, agency_id=screen.agency_id)
    return screen


def _basis(
    decision: Decision, snap: engine.Snapshot
) -> tuple[list[dict[str, Any]], bool, int | None]:
    terms = {t.term_id: t for t in snap.terms}
    basis = []
    redisclosure = True
    retention: int | None = None
    for reason in decision.reasons:
        entry: dict[str, Any] = {"policy_id": reason.policy_id, "words": reason.words}
        if reason.term_id is not None:
            entry.update(
                agreement_id=reason.agreement_id,
                term_id=reason.term_id,
                reference=reason.reference,
                clause=reason.clause,
            )
            term = terms.get(reason.term_id)
            if term is not None:
                redisclosure = redisclosure and term.redisclosure_allowed
                if term.retention_days is not None:
                    retention = min(retention or term.retention_days, term.retention_days)
        basis.append(entry)
    return basis, redisclosure and bool(decision.terms), retention


@action
def record_disclosures(decisions: Sequence[Decision], *, actor: Actor) -> list[Disclosure]:
    """Write a Disclosure for every allowed cross-agency decision in ``decisions`` (one row
    per client, owner, action and purpose, listing the categories), with the legal basis
    and, for Part 2 records, the 42 CFR 2.32 notice. Call when the data is actually shown
    or sent, in the same transaction."""
    flows = [d for d in decisions if d.allowed and d.cross_agency]
    if not flows or actor.agency_id is None:
        return []
    snap = engine.snapshot()
    now = timezone.now()
    grouped: dict[tuple[str, int, str, str], list[Decision]] = {}
    for decision in flows:
        key = (
            decision.resource.client_key,
            decision.resource.owner_id,
            decision.action,
            decision.purpose,
        )
        grouped.setdefault(key, []).append(decision)
    rows = []
    for (client_key, owner_id, act, purpose), group in grouped.items():
        basis: list[dict[str, Any]] = []
        redisclosure = True
        retention: int | None = None
        for decision in group:
            entries, allowed, days = _basis(decision, snap)
            for entry in entries:
                if entry not in basis:
                    basis.append(entry)
            redisclosure = redisclosure and allowed
            if days is not None:
                retention = min(retention or days, days)
        rows.append(
            Disclosure(
                occurred_at=now,
                action=act,
                purpose=purpose,
                discloser_id=owner_id,
                recipient_id=actor.agency_id,
                recipient_label=actor.label[:150],
                recipient_user_id=actor.user_id,
                recipient_token_id=actor.token_id,
                client_key=client_key,
                categories=sorted({d.resource.category for d in group}),
                record_refs=[d.resource.ref for d in group if d.resource.ref],
                basis=basis,
                consent_ids=sorted({i for d in group for i in d.consent_ids}),
                redisclosure_allowed=redisclosure,
                retain_until=(now + timedelta(days=retention)).date() if retention else None,
                notice=PART2_NOTICE if any(d.resource.is_part2 for d in group) else "",
                request_id=actor.request_id[:64],
            )
        )
    created = Disclosure.objects.bulk_create(rows)
    audit(
        actor,
        AuditAction.DISCLOSED,
        object_type="policy.disclosure",
        object_id=",".join(str(r.pk) for r in created)[:64],
        details={
            "disclosures": len(created),
            "clients": sorted({r.client_key for r in created}),
            "discloser_ids": sorted({r.discloser_id for r in created}),
        },
    )
    return created


@action
def note_explanation(*, actor: Actor, subject: str, purpose: str) -> None:
    """Record that someone asked the decision point to explain (it reveals what exists)."""
    audit(actor, AuditAction.DECISION_EXPLAINED, details={"subject": subject, "purpose": purpose})


@action
def note_accounting_viewed(*, actor: Actor, client_key: str, printed: bool = False) -> None:
    """Reading a client's accounting of disclosures is itself audited."""
    audit(
        actor,
        AuditAction.ACCOUNTING_VIEWED,
        details={"client_key": client_key, "printed": printed},
    )
