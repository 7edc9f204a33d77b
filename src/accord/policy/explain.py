"""Explaining decisions: for a staff member, a purpose and an action, the decision about
each category of a client's information held by one agency (or about one record), with
the clause or rule behind it and, for a denial, what each nearby term lacks.

Who may ask: anyone about themselves; a coordinator about anyone; an agency's
administrators, supervisors and auditors about their own agency's staff. Explaining
reveals nothing of a record's content, only what the rules would decide.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone

from accord.accounts.identity import actor_for_user
from accord.accounts.models import User
from accord.core.actors import Actor
from accord.core.errors import NotFound, PermissionDenied
from accord.directory.models import StaffProfile
from accord.policy.engine import (
    Decision,
    Resource,
    decide_requests,
    explain_denial_terms,
    snapshot,
)
from accord.policy.models import ClientRecord
from accord.policy.vocabulary import DataCategory, category_label

EXPLAINER_ROLES = ("agency_admin", "supervisor", "auditor")


@dataclass
class ExplainedRow:
    category: str
    decision: Decision
    near_misses: list[tuple[str, list[str]]] = field(default_factory=list)

    @property
    def category_words(self) -> str:
        return category_label(self.category)


def explainable_staff(actor: Actor) -> list[StaffProfile]:
    """Whose decisions ``actor`` may have explained."""
    profiles = StaffProfile.objects.select_related("user", "agency").order_by(
        "agency__short_name", "user__last_name", "user__first_name"
    )
    if actor.is_system or (actor.has_role("coordinator") and actor.scopes is None):
        return list(profiles)
    if actor.has_role(*EXPLAINER_ROLES) and actor.agency_id is not None:
        return list(profiles.filter(agency_id=actor.agency_id))
    return list(profiles.filter(user_id=actor.user_id))


def subject_actor(actor: Actor, user_id: int) -> Actor:
    if user_id == actor.user_id:
        return actor
    if not any(p.user_id == user_id for p in explainable_staff(actor)):
        raise PermissionDenied("You may explain only your own access, or your agency's staff's.")
    return actor_for_user(User.objects.get(pk=user_id))


def explain_client(
    subject: Actor, *, owner_id: int, client_key: str, purpose: str, action: str
) -> list[ExplainedRow]:
    """One decision per data category, as if ``owner_id`` held unlabelled records of each
    (labels on real records can only narrow these)."""
    resources = [Resource(owner_id, client_key, code) for code in DataCategory.values]
    return _rows(subject, [(action, r, purpose) for r in resources])


def explain_record(
    actor: Actor, subject: Actor, *, record_id: int, purpose: str, action: str
) -> list[ExplainedRow]:
    """The decision about one record the asker may see (their agency's, or shown to them)."""
    record = ClientRecord.objects.visible_to(actor, purpose).filter(pk=record_id).first()
    if record is None:
        record = ClientRecord.objects.filter(pk=record_id, owner_id=actor.agency_id).first()
    if record is None:
        raise NotFound(f"No record {record_id}.")
    return _rows(subject, [(action, Resource.of(record), purpose)])


def _rows(subject: Actor, requests: list[tuple[str, Resource, str]]) -> list[ExplainedRow]:
    snap = snapshot()
    today = timezone.localdate()
    decisions = decide_requests(subject, requests, today=today, snap=snap)
    rows = []
    for request, decision in zip(requests, decisions, strict=True):
        misses = []
        if not decision.allowed and subject.agency_id is not None:
            for term, lacks in explain_denial_terms(snap, subject, request, today):
                if lacks:
                    misses.append((term.words(), lacks))
        rows.append(ExplainedRow(request[1].category, decision, misses))
    return rows
