"""The counts on the home page: real numbers from the database, each through access.

Later apps add their cards to ``CARDS``; a card is a label, a function counting what the
actor may see, and where it links.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from accord.core.actors import Actor


@dataclass(frozen=True)
class Card:
    label: str
    count: Callable[[Actor], int | None]
    url_name: str


@dataclass(frozen=True)
class ShownCard:
    label: str
    value: int
    url_name: str


def _agencies(actor: Actor) -> int:
    from accord.directory.models import Agency

    return Agency.objects.visible_to(actor).count()


def _staff(actor: Actor) -> int:
    from accord.directory.models import StaffProfile

    return StaffProfile.objects.visible_to(actor).filter(agency_id=actor.agency_id).count()


def _audit_today(actor: Actor) -> int | None:
    from accord.audit.models import AuditEvent

    if not actor.has_role("auditor"):
        return None
    since = timezone.now() - timedelta(days=1)
    return AuditEvent.objects.visible_to(actor).filter(occurred_at__gte=since).count()


def _my_sessions(actor: Actor) -> int:
    from accord.accounts.models import UserSession

    return UserSession.objects.visible_to(actor).live().count()


CARDS: list[Card] = [
    Card("Partner agencies", _agencies, "directory:agency-list"),
    Card("Staff in your agency", _staff, "directory:staff-list"),
    Card("Audit events in the last 24 hours", _audit_today, "audit:event-list"),
    Card("Your open sessions", _my_sessions, "accounts:security"),
]


def home_cards(actor: Actor) -> list[ShownCard]:
    shown = []
    for card in CARDS:
        value = card.count(actor)
        if value is not None:
            shown.append(ShownCard(card.label, value, card.url_name))
    return shown
