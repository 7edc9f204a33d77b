"""The checks every action on a case makes before it writes: can the actor see the case,
and may they change it (``access.may_change_case``)?"""

from __future__ import annotations

from accord.cases.access import active_on, may_change_case, may_write_privileged
from accord.cases.models import Assignment, Case, CaseStatus, Client
from accord.core.actors import Actor
from accord.core.errors import NotFound, PermissionDenied


def is_assigned(case: Case, actor: Actor) -> bool:
    """Whether ``actor`` is on the case's team today."""
    if actor.user_id is None:
        return False
    return Assignment.objects.filter(
        active_on(), case_id=case.pk, staff__user_id=actor.user_id
    ).exists()


def require_visible(case: Case, actor: Actor) -> None:
    """404 unless ``actor`` may read the case (the same answer as for no such case)."""
    if actor.is_system:
        return
    if not Case.objects.visible_to(actor).filter(pk=case.pk).exists():
        raise NotFound(f"No case {case.pk}.")


def require_change(case: Case, actor: Actor) -> None:
    """The case's team, its supervisors and ``cases:write`` systems change it."""
    require_visible(case, actor)
    if not may_change_case(actor, case.agency_id, is_assigned(case, actor)):
        raise PermissionDenied("Only the case's team and the office's supervisors change it.")


def require_privileged_change(case: Case, actor: Actor) -> None:
    """Notes and documents: the case's team and supervisors, people only."""
    require_visible(case, actor)
    if not may_write_privileged(actor, case.agency_id, is_assigned(case, actor)):
        raise PermissionDenied(
            "Only the case's team and the office's supervisors write privileged material."
        )


def may_change_client(client: Client, actor: Actor) -> bool:
    """A client's details and custody: the team of any of their open cases, the office's
    supervisors and ``cases:write`` systems (one query)."""
    assigned = (
        actor.user_id is not None
        and Assignment.objects.filter(
            active_on(),
            case__client=client,
            case__status=CaseStatus.OPEN,
            staff__user_id=actor.user_id,
        ).exists()
    )
    return may_change_case(actor, client.agency_id, assigned)
