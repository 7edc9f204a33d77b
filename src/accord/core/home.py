"""The home page: who you are acting as, real counts from the database (each through
access), and what you can do here, derived from the same navigation entries as the menu.

Later apps add their cards to ``CARDS``; a card is a label, a function counting what the
actor may see (``None``: the card is not for this actor), and where it links. They add the
places people go to ``navigation.NAV`` and, optionally, a line about each to ``PURPOSES``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accord.core.actors import Actor
from accord.core.navigation import navigation_for


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
    url: str | None  # None while the page it links to is not installed


@dataclass(frozen=True)
class Place:
    """One thing the actor can do, from the navigation entries they may use."""

    label: str
    url: str
    purpose: str


def _agencies(actor: Actor) -> int:
    from accord.directory.models import Agency

    return Agency.objects.visible_to(actor).count()


def _staff(actor: Actor) -> int | None:
    from accord.directory.models import StaffProfile

    if actor.agency_id is None:
        return None
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
    Card("Agreements in force", lambda actor: _count("agreements", actor), "agreements:list"),
    Card("Consents in force", lambda actor: _count("consent", actor), "consent:list"),
    Card("Your open cases", lambda actor: _cases("open_cases", actor), "cases:case-list"),
    Card(
        "Your deadlines due within 7 days",
        lambda actor: _cases("ticklers_due", actor),
        "cases:tickler-list",
    ),
    Card(
        "Your court dates in the next 7 days",
        lambda actor: _cases("court_dates", actor),
        "cases:calendar",
    ),
]


def _cases(counter: str, actor: Actor) -> int | None:
    from accord.cases import home

    found: int | None = getattr(home, counter)(actor)
    return found


def _count(app: str, actor: Actor) -> int | None:
    from importlib import import_module

    counter: Callable[[Actor], int | None] = import_module(f"accord.{app}.home").in_force
    return counter(actor)


# One line about each navigation entry, shown under "What you can do".
PURPOSES: dict[str, str] = {
    "directory:agency-list": "Find partner agencies, their units and their staff.",
    "audit:event-list": "Read who saw and changed what, and verify the record is intact.",
    "accounts:token-list": "Issue and revoke the API tokens of your agency's systems.",
    "accounts:security": "Your password, authenticator, recovery codes and open sessions.",
    "agreements:list": "Draft, negotiate, sign and review the agreements data flows under.",
    "consent:list": "Record clients' consents (42 CFR Part 2 included) and their revocations.",
    "policy:record-list": "Client information you may see, why, and every disclosure made.",
    "cases:case-list": "Your clients and cases, court dates, deadlines and conflict checks.",
}


def _url(url_name: str) -> str | None:
    try:
        return reverse(url_name)
    except NoReverseMatch:
        return None


def home_cards(actor: Actor) -> list[ShownCard]:
    shown = []
    for card in CARDS:
        value = card.count(actor)
        if value is not None:
            shown.append(ShownCard(card.label, value, card.url_name, _url(card.url_name)))
    return shown


def what_you_can_do(actor: Actor) -> list[Place]:
    """The navigation entries open to ``actor`` (home itself aside), each with its purpose."""
    from accord.core.navigation import NAV

    purposes = {_url(entry.url_name): PURPOSES.get(entry.url_name, "") for entry in NAV}
    home = _url("core:home")
    return [
        Place(item.label, item.url, purposes.get(item.url, ""))
        for item in navigation_for(actor, "")
        if item.url != home
    ]


def home_context(actor: Actor) -> dict[str, Any]:
    """Everything the home page shows, in a fixed number of queries (one per card, one for
    the agency's name)."""
    from accord.directory.models import Agency, Role

    agency = None
    if actor.agency_id is not None:
        agency = Agency.objects.visible_to(actor).filter(pk=actor.agency_id).first()
    roles = [Role(r).label for r in sorted(actor.roles) if r in Role.values]
    return {
        "cards": home_cards(actor),
        "agency": agency,
        "role_labels": roles,
        "places": what_you_can_do(actor),
        "since": timezone.now() - timedelta(days=1),
    }
