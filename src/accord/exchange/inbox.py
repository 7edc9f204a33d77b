"""What the navigation bar counts for the exchange: the signed-in person's unread
notifications (delivered to the inbox, not yet opened)."""

from __future__ import annotations

from accord.core.actors import Actor
from accord.exchange.models import Notification


def unread_count(actor: Actor) -> int:
    """One indexed count (recipient, read_at); people only, tokens have no inbox."""
    if actor.user_id is None or actor.scopes is not None:
        return 0
    return Notification.objects.filter(
        recipient_id=actor.user_id, delivered_at__isnull=False, read_at__isnull=True
    ).count()
