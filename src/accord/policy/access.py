"""Who may see which records, disclosures and screens, as SQL filters.

``restrict_records`` is the queryset form of ``engine.decide`` for the view action: it is
derived from the same live sharing terms, screens and base rules held in the snapshot,
so the list filter and the per-record decision cannot drift apart (a property test
checks that they agree on generated cases).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.db.models import Exists, Q, QuerySet
from django.utils import timezone

from accord.core.actors import Actor
from accord.policy import codesets
from accord.policy.cedar import ConsentRequirement
from accord.policy.engine import principal_key, snapshot
from accord.policy.vocabulary import (
    PROCEEDINGS_PURPOSES,
    ConsentKind,
    DataCategory,
    PolicyAction,
    SensitivityLabel,
)

# (kind, recipient agency id, recipient agency kind, purpose, today) -> an Exists over the
# consents of the outer row's client that cover its owner and category.
ConsentExists = Callable[[str, int, str, str, date], Exists]


class _ConsentSQL:
    source: ConsentExists | None = None


def register_consent_sql(source: ConsentExists) -> None:
    """The consent app gives the SQL form of "a matching consent of this kind exists"."""
    _ConsentSQL.source = source


NOTHING = Q(pk__in=[])


def _labelled(label: str, category: str | None = None) -> Q:
    q = codesets.has("labels", label)
    return q | Q(category=category) if category else q


def _consent(kind: str, recipient_id: int, recipient_kind: str, purpose: str, today: date) -> Q:
    if _ConsentSQL.source is None:
        return NOTHING
    return Q(_ConsentSQL.source(kind, recipient_id, recipient_kind, purpose, today))


def restrict_records(
    queryset: QuerySet[Any], actor: Actor, purpose: str, *, today: date | None = None
) -> QuerySet[Any]:
    """Records ``actor`` may view for ``purpose``: its own agency's, and others' under a
    term in force, minus what a base rule forbids; never a screened client's."""
    if actor.is_system:
        return queryset
    if actor.agency_id is None:
        return queryset.none()
    snap = snapshot()
    today = today or timezone.localdate()
    agency_id = int(actor.agency_id)
    own = Q(owner_id=agency_id)
    agency = snap.agencies.get(agency_id)
    cross = NOTHING
    if agency is not None and not agency.suspended:
        _, roles, attributes = principal_key(actor)
        for term in snap.live_terms_for(agency_id, today):
            if PolicyAction.VIEW not in term.actions or purpose not in term.purposes:
                continue
            if term.recipient_role and term.recipient_role not in roles:
                continue
            if not set(term.recipient_attributes) <= set(attributes):
                continue
            allowed = Q(owner_id=term.discloser_id, category__in=term.categories)
            if not term.covers_juvenile:
                allowed &= ~_labelled(SensitivityLabel.JUVENILE, DataCategory.JUVENILE)
            if term.consent == ConsentRequirement.CLIENT:
                allowed &= _consent(
                    ConsentKind.GENERAL, agency_id, agency.kind, purpose, today
                ) | _consent(ConsentKind.PART2, agency_id, agency.kind, purpose, today)
            elif term.consent == ConsentRequirement.PART2:
                allowed &= _consent(
                    ConsentKind.PART2, agency_id, agency.kind, purpose, today
                ) | _consent(ConsentKind.PROCEEDINGS, agency_id, agency.kind, purpose, today)
            cross |= allowed
        if cross is not NOTHING:
            # The base forbids, for records leaving their agency.
            part2_kind = (
                ConsentKind.PROCEEDINGS if purpose in PROCEEDINGS_PURPOSES else ConsentKind.PART2
            )
            cross &= ~_labelled(SensitivityLabel.PRIVILEGED, DataCategory.PRIVILEGED)
            cross &= ~_labelled(SensitivityLabel.SEALED, DataCategory.SEALED)
            cross &= ~_labelled(SensitivityLabel.NO_REDISCLOSURE)
            cross &= ~(
                _labelled(SensitivityLabel.PART2, DataCategory.SUBSTANCE_USE_PART2)
                & ~_consent(part2_kind, agency_id, agency.kind, purpose, today)
            )
            cross &= ~Q(owner_id=agency_id)
    visible = own | cross
    screened = snap.screens.get(actor.user_id or 0)
    if screened:
        visible &= ~Q(client_key__in=sorted(screened))
    return queryset.filter(visible)


def restrict_disclosures(queryset: QuerySet[Any], actor: Actor) -> QuerySet[Any]:
    """The accounting of disclosures: a coordinating council's auditors see all; an
    agency's auditors and administrators see what it disclosed or received; a defender's
    staff see every disclosure about a client their office holds records of (they print
    the accounting for the client); anyone sees what they received themselves."""
    if actor.is_system:
        return queryset
    if actor.agency_id is None or actor.scopes is not None:
        return queryset.none()
    kind = actor.attributes.get("agency_kind")
    if actor.has_role("auditor") and kind == "coordinating_council":
        return queryset
    visible = Q(recipient_user_id=actor.user_id)
    if actor.has_role("auditor", "agency_admin"):
        visible |= Q(discloser_id=actor.agency_id) | Q(recipient_id=actor.agency_id)
    if kind == "public_defender" and actor.has_role(
        "attorney", "supervisor", "social_worker", "agency_admin", "auditor"
    ):
        from accord.policy.models import ClientRecord

        clients = ClientRecord.objects.filter(owner_id=actor.agency_id).values("client_key")
        visible |= Q(client_key__in=clients)
    return queryset.filter(visible)
