"""Who may see and change people, links, reviews and conflict checks: the one place the
rules live, read by the querysets (``visible_to``), the actions and the pages.

Until the policy issue adds sharing under agreements, a person record is visible only to
its source agency; a conflict check only to the agency that ran it (ABA Model Rule 1.10:
the whole office is one firm, and nobody outside it).
"""

from __future__ import annotations

from accord.core.actors import Actor

PEOPLE_READ_SCOPE = "people:read"
PEOPLE_WRITE_SCOPE = "people:write"
CONFLICTS_SCOPE = "conflicts:check"

# Who decides whether two records of their agency are one person, and may undo a merge.
REVIEWER_ROLES = frozenset({"supervisor", "agency_admin"})
# Who may clear a conflict hit or confirm it as a conflict (a lawyer's judgment, ABA 1.7 and
# 1.9); anyone who may run the check may flag a hit for a supervisor.
HIT_DECIDER_ROLES = frozenset({"attorney", "supervisor"})
SUPERVISOR_ROLE = "supervisor"


def _active_member(actor: Actor) -> bool:
    return actor.agency_id is not None and not actor.attributes.get("agency_suspended")


def reads_people_of(actor: Actor) -> int | None:
    """The agency whose person records ``actor`` reads (None: none)."""
    if not _active_member(actor):
        return None
    if actor.scopes is not None and PEOPLE_READ_SCOPE not in actor.scopes:
        return None
    return actor.agency_id


def writes_people_of(actor: Actor) -> int | None:
    """The agency whose person records ``actor`` may record (None: none)."""
    if not _active_member(actor):
        return None
    if actor.scopes is not None and PEOPLE_WRITE_SCOPE not in actor.scopes:
        return None
    return actor.agency_id


def reviews_for(actor: Actor) -> int | None:
    """The agency whose match reviews ``actor`` decides: its supervisors and administrators
    (people only; a token never decides who is who)."""
    if not _active_member(actor) or actor.scopes is not None:
        return None
    return actor.agency_id if actor.roles & REVIEWER_ROLES else None


def checks_conflicts_of(actor: Actor) -> int | None:
    """The agency whose conflict checks ``actor`` runs and reads (None: none)."""
    if not _active_member(actor):
        return None
    if actor.scopes is not None and CONFLICTS_SCOPE not in actor.scopes:
        return None
    return actor.agency_id


def may_clear_or_confirm(actor: Actor, *, flagged: bool) -> bool:
    """A lawyer clears or confirms a hit; one flagged for a supervisor waits for one."""
    if actor.is_system:
        return True
    if actor.scopes is not None:
        return False
    if flagged:
        return SUPERVISOR_ROLE in actor.roles
    return bool(actor.roles & HIT_DECIDER_ROLES)


def may_flag(actor: Actor) -> bool:
    return actor.is_system or actor.scopes is None
