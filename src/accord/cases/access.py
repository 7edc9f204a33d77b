"""Who may see and change the defender's cases: the one place the rules live, read by the
querysets (``visible_to``), the actions and the pages.

* Case records (clients, cases, charges, court events, parties, custody, assignments,
  ticklers) are the defender's own: visible to its case staff (attorneys, investigators,
  social workers, supervisors) — the whole office is one firm (ABA Model Rule 1.10) and
  colleagues cover each other's hearings — except to anyone under an ethical screen from
  the client (``policy.EthicalScreen``, keyed by the client number). An agency system sees
  them with a token holding ``cases:read`` and writes them with ``cases:write``.
* Privileged notes and work product (notes, documents) are visible only to the case's
  assigned team and the office's supervisors, people only: never to a token, never to
  another agency, never searchable (ABA Model Rule 1.6; work-product doctrine).
* Changing a case is for its assigned team and supervisors (and ``cases:write`` tokens,
  except for privileged material); opening one is for attorneys and supervisors.

Cross-agency reads come later through the policy decision point; until then nothing here
is visible outside the defender's agency.
"""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

from django.db.models import Q, QuerySet
from django.utils import timezone

from accord.core.actors import Actor

CASES_READ_SCOPE = "cases:read"
CASES_WRITE_SCOPE = "cases:write"
DEFENDER_KIND = "public_defender"
CASE_STAFF_ROLES = frozenset({"attorney", "investigator", "social_worker", "supervisor"})
OPENER_ROLES = frozenset({"attorney", "supervisor"})
RULE_MANAGER_ROLES = frozenset({"supervisor", "agency_admin"})
SUPERVISOR_ROLE = "supervisor"

Q_ = TypeVar("Q_", bound=QuerySet[Any])


def _defender_member(actor: Actor) -> bool:
    return (
        actor.agency_id is not None
        and not actor.attributes.get("agency_suspended")
        and actor.attributes.get("agency_kind") == DEFENDER_KIND
    )


def reads_cases_of(actor: Actor) -> int | None:
    """The defender agency whose case records ``actor`` reads (None: none)."""
    if not _defender_member(actor):
        return None
    if actor.scopes is not None:
        return actor.agency_id if CASES_READ_SCOPE in actor.scopes else None
    return actor.agency_id if actor.roles & CASE_STAFF_ROLES else None


def writes_cases_of(actor: Actor) -> int | None:
    """The defender agency whose case records ``actor`` may change (on cases they may
    change: see :func:`may_change_case`)."""
    if not _defender_member(actor):
        return None
    if actor.scopes is not None:
        return actor.agency_id if CASES_WRITE_SCOPE in actor.scopes else None
    return actor.agency_id if actor.roles & CASE_STAFF_ROLES else None


def opens_cases_of(actor: Actor) -> int | None:
    """The agency in which ``actor`` opens cases and takes on clients."""
    if writes_cases_of(actor) is None:
        return None
    if actor.scopes is not None or actor.roles & OPENER_ROLES:
        return actor.agency_id
    return None


def is_supervisor(actor: Actor) -> bool:
    return actor.scopes is None and SUPERVISOR_ROLE in actor.roles


def reads_privileged(actor: Actor) -> bool:
    """Whether ``actor`` is the kind of reader privileged material can ever reach: a
    person on the defender's case staff (which cases: :func:`privileged_q`)."""
    return actor.scopes is None and reads_cases_of(actor) is not None


def manages_rules_of(actor: Actor) -> int | None:
    """The agency whose tickler rules ``actor`` configures (supervisors, administrators)."""
    if not _defender_member(actor) or actor.scopes is not None:
        return None
    return actor.agency_id if actor.roles & RULE_MANAGER_ROLES else None


def active_on(day: date | None = None, prefix: str = "") -> Q:
    """Assignments in force on ``day`` (default today)."""
    day = day or timezone.localdate()
    return Q(**{f"{prefix}starts_on__lte": day}) & (
        Q(**{f"{prefix}ends_on__isnull": True}) | Q(**{f"{prefix}ends_on__gte": day})
    )


def screened_keys(actor: Actor) -> QuerySet[Any]:
    """The client numbers ``actor`` is screened from (ABA Model Rule 1.10(a)(2))."""
    from accord.policy.models import EthicalScreen

    return EthicalScreen.objects.in_force().filter(staff_id=actor.user_id).values("client_key")


def restrict_to_cases(queryset: Q_, actor: Actor, *, agency: str, client_number: str) -> Q_:
    """Rows of case records ``actor`` may read: their defender agency's, minus the clients
    they are screened from. ``agency`` and ``client_number`` are the rows' paths to them."""
    if actor.is_system:
        return queryset
    agency_id = reads_cases_of(actor)
    if agency_id is None:
        return queryset.none()
    queryset = queryset.filter(**{agency: agency_id})
    if actor.scopes is None:
        queryset = queryset.exclude(**{f"{client_number}__in": screened_keys(actor)})
    return queryset


def restrict_privileged(queryset: Q_, actor: Actor, *, case: str = "case") -> Q_:
    """Privileged rows (notes, documents) ``actor`` may read: those of cases they may read
    where they are on the assigned team, or any such case if they are a supervisor."""
    if actor.is_system:
        return queryset
    if not reads_privileged(actor):
        return queryset.none()
    queryset = restrict_to_cases(
        queryset, actor, agency=f"{case}__agency_id", client_number=f"{case}__client__number"
    )
    if is_supervisor(actor):
        return queryset
    from accord.cases.models import Assignment

    # An IN list read once, rather than a per-row EXISTS (see CaseQuerySet.assigned_to).
    return queryset.filter(
        **{
            f"{case}_id__in": Assignment.objects.filter(
                active_on(), staff__user_id=actor.user_id or 0
            ).values("case_id")
        }
    )


def may_change_case(actor: Actor, case_agency_id: int, assigned: bool) -> bool:
    """The single rule behind every change of a case and every "Edit" button: its agency's
    systems (``cases:write``), its supervisors, and its assigned team."""
    if actor.is_system:
        return True
    if writes_cases_of(actor) != case_agency_id:
        return False
    return actor.scopes is not None or is_supervisor(actor) or assigned


def may_write_privileged(actor: Actor, case_agency_id: int, assigned: bool) -> bool:
    """Notes and documents: the assigned team and supervisors, people only."""
    if actor.is_system:
        return True
    return (
        reads_privileged(actor)
        and actor.agency_id == case_agency_id
        and (assigned or is_supervisor(actor))
    )
