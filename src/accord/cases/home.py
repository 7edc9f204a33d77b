"""The home page's cards of a person on the defender's case staff: their open cases, their
deadlines and their court dates of the coming week (each ``None`` for anyone else)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.utils import timezone

from accord.cases.access import reads_cases_of
from accord.cases.models import Case, CaseStatus, CourtEvent, EventStatus, Tickler, TicklerStatus
from accord.core.actors import Actor

WEEK = timedelta(days=7)


def _own(actor: Actor) -> bool:
    return actor.user_id is not None and reads_cases_of(actor) is not None


def _own_cases(actor: Actor) -> object:
    assert actor.user_id is not None  # checked by _own
    return Case.objects.visible_to(actor).assigned_to(actor.user_id).values("pk")


def open_cases(actor: Actor) -> int | None:
    if not _own(actor):
        return None
    assert actor.user_id is not None  # checked by _own
    return (
        Case.objects.visible_to(actor)
        .assigned_to(actor.user_id)
        .filter(status=CaseStatus.OPEN)
        .count()
    )


def ticklers_due(actor: Actor) -> int | None:
    """Open deadlines of the actor's cases due within a week (overdue ones included)."""
    if not _own(actor):
        return None
    return Tickler.objects.filter(
        case__in=_own_cases(actor),
        status=TicklerStatus.OPEN,
        due_on__lte=timezone.localdate() + WEEK,
    ).count()


def court_dates(actor: Actor) -> int | None:
    if not _own(actor):
        return None
    start = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    return CourtEvent.objects.filter(
        case__in=_own_cases(actor),
        status=EventStatus.SCHEDULED,
        starts_at__gte=start,
        starts_at__lt=start + WEEK,
    ).count()
