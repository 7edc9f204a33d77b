"""An agreement version's content: the canonical form its hash covers, and the plain-text
rendering people read, diff and sign."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from accord.agreements.models import AgreementVersion
from accord.policy.cedar import ConsentRequirement


def _terms(version: AgreementVersion) -> list[Any]:
    return list(version.terms.select_related("discloser", "recipient").order_by("clause", "pk"))


def canonical(version: AgreementVersion) -> dict[str, Any]:
    """Everything a signature vouches for, in a fixed shape. Changing this shape is a new
    hash format: old signatures keep the hash they signed."""
    agreement = version.agreement
    return {
        "format": 1,
        "reference": agreement.reference,
        "title": agreement.title,
        "kind": agreement.kind,
        "parties": [
            {
                "agency_id": p.agency_id,
                "agency": p.agency.name,
                "role": p.role,
                "signatory": p.signatory.username if p.signatory else None,
            }
            for p in agreement.parties.select_related("agency", "signatory").order_by("agency_id")
        ],
        "version": version.number,
        "body": version.body,
        "effective_on": version.effective_on.isoformat(),
        "expires_on": version.expires_on.isoformat(),
        "review_on": version.review_on.isoformat() if version.review_on else None,
        "terms": [
            {
                "clause": t.clause,
                "discloser_id": t.discloser_id,
                "recipient_id": t.recipient_id,
                "recipient_role": t.recipient_role,
                "categories": sorted(t.categories),
                "purposes": sorted(t.purposes),
                "actions": sorted(t.actions),
                "consent": t.consent,
                "recipient_attributes": sorted(t.recipient_attributes),
                "redisclosure_allowed": t.redisclosure_allowed,
                "retention_days": t.retention_days,
            }
            for t in _terms(version)
        ],
        "obligations": [
            {
                "clause": o.clause,
                "party_id": o.party_id,
                "counterparty_id": o.counterparty_id,
                "description": o.description,
                "measure": o.measure,
                "subject": o.subject,
                "within_hours": o.within_hours,
                "within_days": o.within_days,
                "every_days": o.every_days,
                "target_percent": o.target_percent,
            }
            for o in version.obligations.order_by("clause", "pk")
        ],
        "escalation": [
            {
                "position": s.position,
                "level": s.level,
                "within_days": s.within_days,
                "description": s.description,
            }
            for s in version.escalation_steps.order_by("position")
        ],
    }


def content_hash(version: AgreementVersion) -> str:
    text = json.dumps(canonical(version), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def rendered_text(version: AgreementVersion) -> str:
    """The version as one plain text, for the side-by-side diff and for printing."""
    agreement = version.agreement
    lines = [
        f"{agreement.reference} — {agreement.title}",
        f"{agreement.get_kind_display()}, version {version.number}",
        f"In force from {version.effective_on:%Y-%m-%d} until {version.expires_on:%Y-%m-%d}"
        + (f"; review by {version.review_on:%Y-%m-%d}" if version.review_on else ""),
        "",
        "PARTIES",
    ]
    for party in agreement.parties.select_related("agency", "signatory").order_by("agency__name"):
        signatory = party.signatory.get_full_name() if party.signatory else "(signatory not named)"
        lines.append(f"- {party.agency.name}: {party.get_role_display()}; signs: {signatory}")
    lines += ["", "TEXT", *version.body.splitlines(), "", "SHARING TERMS"]
    for term in _terms(version):
        lines.append(f"- {term.spec().words()}")
        extra = []
        if term.redisclosure_allowed:
            extra.append("recipient may redisclose")
        else:
            extra.append("no redisclosure")
        if term.retention_days:
            extra.append(f"kept at most {term.retention_days} days")
        if term.consent == ConsentRequirement.NONE:
            extra.append("no consent needed")
        lines.append("  " + "; ".join(extra))
    lines += ["", "OBLIGATIONS"]
    for obligation in version.obligations.select_related("party", "counterparty").order_by(
        "clause", "pk"
    ):
        lines.append(
            f"- §{obligation.clause}: {obligation.words()} (target {obligation.target_percent}%)"
        )
    lines += ["", "ESCALATION"]
    for step in version.escalation_steps.order_by("position"):
        within = f" within {step.within_days} days" if step.within_days else ""
        lines.append(f"{step.position}. {step.level}{within}. {step.description}".rstrip(". "))
    return "\n".join(lines)
