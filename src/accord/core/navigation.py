"""The main navigation: each role sees only the places it can use.

Later apps add their entries to ``NAV``; an entry lists the roles that may use it and,
where it matters, the kinds of agency whose staff may (``None``: every signed-in person).
An entry may name a badge: the dotted path of a function counting something waiting for
the actor (unread notifications), shown next to the label. It is counted only when the
menu is drawn, one query per page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, partial

from django.urls import NoReverseMatch, reverse
from django.utils.module_loading import import_string

from accord.core.actors import Actor


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    roles: frozenset[str] | None = None
    agency_kinds: frozenset[str] | None = None
    badge: str | None = None  # dotted path of a function (actor) -> int


NAV: list[NavEntry] = [
    NavEntry("Home", "core:home"),
    NavEntry("Directory", "directory:agency-list"),
    NavEntry("Audit log", "audit:event-list", frozenset({"auditor"})),
    NavEntry("Accounts", "accounts:user-list", frozenset({"agency_admin", "coordinator"})),
    NavEntry("API tokens", "accounts:token-list", frozenset({"agency_admin", "coordinator"})),
    NavEntry("Agreements", "agreements:list"),
    NavEntry(
        "Compliance",
        "agreements:compliance",
        frozenset({"coordinator", "agency_admin", "auditor"}),
        badge="accord.agreements.badges.open_breach_alerts",
    ),
    NavEntry(
        "Consents",
        "consent:list",
        frozenset(
            {"attorney", "social_worker", "case_worker", "supervisor", "agency_admin", "auditor"}
        ),
    ),
    NavEntry("Client records", "policy:record-list"),
    NavEntry("People and conflicts", "people:record-list"),
    NavEntry(
        "Cases",
        "cases:case-list",
        frozenset({"attorney", "investigator", "social_worker", "supervisor"}),
        frozenset({"public_defender"}),
    ),
    NavEntry("Notifications", "exchange:inbox", badge="accord.exchange.inbox.unread_count"),
]


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    current: bool
    count: Callable[[], int] | None = None

    @cached_property
    def badge(self) -> int:
        """The number next to the label (0: none); counted when the template asks."""
        return self.count() if self.count is not None else 0


def navigation_for(actor: Actor, path: str) -> list[NavItem]:
    if actor.user_id is None:
        return []
    items = []
    for entry in NAV:
        if entry.roles is not None and not actor.roles.intersection(entry.roles):
            continue
        if entry.agency_kinds is not None and (
            actor.attributes.get("agency_kind") not in entry.agency_kinds
        ):
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        current = path == url if url == "/" else path.startswith(url)
        count = None
        if entry.badge is not None:
            counter = import_string(entry.badge)
            count = partial(counter, actor)
        items.append(NavItem(entry.label, url, current, count))
    return items
