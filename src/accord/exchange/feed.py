"""What an agency (or a person) may read from the event feed: its own agency's events, and
other agencies' events each of whose data categories the policy lets it receive a copy of
for the stated purpose. A polling agency system reads with ``after=<last id>``."""

from __future__ import annotations

from dataclasses import dataclass

from accord.core.actors import Actor
from accord.exchange.models import Event
from accord.exchange.routing import client_key_for
from accord.policy.engine import Decision, Resource, decide_requests
from accord.policy.vocabulary import PolicyAction

SCAN_FACTOR = 5


@dataclass(frozen=True)
class FeedItem:
    event: Event
    decisions: tuple[Decision, ...]

    @property
    def basis(self) -> str:
        if not self.decisions:
            return "Your agency's own event"
        return "; ".join(dict.fromkeys(d.explanation() for d in self.decisions))


@dataclass(frozen=True)
class FeedPage:
    items: list[FeedItem]
    next_after: int


def entitled_events(actor: Actor, purpose: str, after: int, limit: int) -> FeedPage:
    """The next ``limit`` events after id ``after`` the actor may read. Events it may not
    read are skipped silently (their existence is not disclosed); ``next_after`` moves past
    every scanned row so a poller never scans them again."""
    scanned = list(
        Event.objects.filter(pk__gt=after)
        .select_related("event_type", "source_agency")
        .order_by("pk")[: limit * SCAN_FACTOR]
    )
    if actor.agency_id is None or not scanned:
        return FeedPage([], after)
    requests: list[tuple[str, Resource, str]] = []
    spans: dict[int, tuple[int, int]] = {}
    for event in scanned:
        if event.source_agency_id == actor.agency_id:
            continue
        key = client_key_for(event, actor.agency_id)
        start = len(requests)
        for category in event.event_type.categories:
            resource = Resource(
                event.source_agency_id, key, category, ref=f"exchange.event:{event.pk}"
            )
            requests.append((PolicyAction.RECEIVE_COPY, resource, purpose))
        spans[event.pk] = (start, len(requests))
    decisions = decide_requests(actor, requests) if requests else []
    items: list[FeedItem] = []
    last = after
    for event in scanned:
        last = event.pk
        if event.pk in spans:
            start, end = spans[event.pk]
            mine = tuple(decisions[start:end])
            if not mine or not all(d.allowed for d in mine):
                continue
            items.append(FeedItem(event, mine))
        else:
            items.append(FeedItem(event, ()))
        if len(items) >= limit:
            break
    return FeedPage(items, last)
