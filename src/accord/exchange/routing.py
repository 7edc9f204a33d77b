"""Who is told about an event: the active subscriptions for its person or case, each decided
by the policy for the subscriber, their purpose and every data category the event carries."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.db.models import Q

from accord.accounts.identity import actor_for_user
from accord.core.actors import Actor
from accord.exchange.models import Event, Subscription
from accord.policy.engine import Decision, Resource, decide_requests, snapshot
from accord.policy.vocabulary import PolicyAction


def client_key_for(event: Event, recipient_agency_id: int) -> str:
    """The key consents and screens are filed under: the defender's client number when the
    recipient's office holds the person as a client, else the master person."""
    return client_keys_for([event], {recipient_agency_id})[(event.pk, recipient_agency_id)]


def client_keys_for(
    events: Sequence[Event], agency_ids: Iterable[int]
) -> dict[tuple[int, int], str]:
    """:func:`client_key_for` of every (event, agency), with one query for all of them."""
    from accord.cases.models import Client

    agencies = set(agency_ids)
    masters = {e.master_id for e in events if e.master_id is not None}
    numbers: dict[tuple[int, int], str] = {}
    if masters and agencies:
        rows = (
            Client.objects.filter(agency_id__in=agencies, person__link__master_id__in=masters)
            .order_by("pk")
            .values_list("agency_id", "person__link__master_id", "number")
        )
        for agency_id, master_id, number in rows:
            if number:
                numbers.setdefault((agency_id, master_id), str(number))
    keys: dict[tuple[int, int], str] = {}
    for event in events:
        for agency_id in agencies:
            if event.master_id is None:
                keys[(event.pk, agency_id)] = f"case-{event.case_reference}"
            else:
                keys[(event.pk, agency_id)] = numbers.get(
                    (agency_id, event.master_id), f"person-{event.master_id}"
                )
    return keys


def subscriptions_for_many(events: Sequence[Event]) -> dict[int, list[Subscription]]:
    """Per event (by id): the active subscriptions whose person or case is the event's and
    whose types include it, with one query for all the events."""
    masters = {e.master_id for e in events if e.master_id is not None}
    cases = {e.case_reference for e in events if e.case_reference}
    match = Q()
    if masters:
        match |= Q(master_id__in=masters)
    if cases:
        match |= Q(case_reference__in=cases)
    if not match:
        return {e.pk: [] for e in events}
    rows = list(
        Subscription.objects.active().filter(match).select_related("subscriber").order_by("pk")
    )
    return {
        event.pk: [
            s
            for s in rows
            if (
                (event.master_id is not None and s.master_id == event.master_id)
                or (bool(event.case_reference) and s.case_reference == event.case_reference)
            )
            and s.covers(event.event_type.code)
            and s.subscriber.is_active
        ]
        for event in events
    }


@dataclass(frozen=True)
class Route:
    """One subscription's verdict on one event."""

    subscription: Subscription
    recipient: Actor
    decisions: tuple[Decision, ...]

    @property
    def allowed(self) -> bool:
        return bool(self.decisions) and all(d.allowed for d in self.decisions)

    @property
    def explanation(self) -> str:
        allowed = [d for d in self.decisions if d.allowed]
        denied = [d for d in self.decisions if not d.allowed]
        if denied:
            return "; ".join(f"{d.resource.category}: {d.explanation()}" for d in denied)
        return "; ".join(dict.fromkeys(d.explanation() for d in allowed))


class Router:
    """Decides events for their subscriptions. Each subscriber's actor and the policy
    snapshot are built once for all the events routed through one router (a batch); a
    subscriber's later subscriptions are decided only if an earlier one was denied (a
    person is notified at most once per event)."""

    def __init__(self, request_actor: Actor) -> None:
        self.request_actor = request_actor
        self.actors: dict[int, Actor] = {}
        self.snap = snapshot()

    def recipient(self, sub: Subscription) -> Actor:
        found = self.actors.get(sub.subscriber_id)
        if found is None:
            found = actor_for_user(sub.subscriber).within(
                self.request_actor.request_id, self.request_actor.source_ip
            )
            self.actors[sub.subscriber_id] = found
        return found

    def route(
        self,
        event: Event,
        subscriptions: Sequence[Subscription],
        keys: Mapping[tuple[int, int], str],
    ) -> list[Route]:
        """``keys``: the client key of (event id, agency id), from :func:`client_keys_for`."""
        routes: list[Route] = []
        told: set[int] = set()
        for sub in subscriptions:
            if sub.subscriber_id in told:
                continue
            recipient = self.recipient(sub)
            requests = [
                (
                    PolicyAction.NOTIFY,
                    Resource(
                        owner_id=event.source_agency_id,
                        client_key=keys[(event.pk, sub.agency_id)],
                        category=category,
                        ref=f"exchange.event:{event.pk}",
                    ),
                    sub.purpose,
                )
                for category in event.event_type.categories
            ]
            decisions = decide_requests(recipient, requests, snap=self.snap)
            verdict = Route(sub, recipient, tuple(decisions))
            if verdict.allowed:
                told.add(sub.subscriber_id)
            routes.append(verdict)
        return routes
