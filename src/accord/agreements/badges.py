"""The navigation's count next to "Compliance": breach alerts still waiting for an
administrator's acknowledgement, among those the reader may see."""

from __future__ import annotations

from accord.agreements.models import BreachAlert
from accord.core.actors import Actor


def open_breach_alerts(actor: Actor) -> int:
    """One count through access; people only (a token has no menu)."""
    if actor.user_id is None or actor.scopes is not None:
        return 0
    return BreachAlert.objects.visible_to(actor).filter(acknowledged_at__isnull=True).count()
