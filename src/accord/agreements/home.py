"""The home page's count of agreements in force that the reader may see."""

from __future__ import annotations

from accord.agreements.models import IN_FORCE_STATUSES, Agreement
from accord.core.actors import Actor


def in_force(actor: Actor) -> int | None:
    if actor.agency_id is None:
        return None
    return Agreement.objects.visible_to(actor).filter(status__in=IN_FORCE_STATUSES).count()
