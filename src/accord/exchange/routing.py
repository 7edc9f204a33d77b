"""Who is told about an event: the active subscriptions for its person or case, each decided
by the policy for the subscriber, their purpose and every data category the event carries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Q

from accord.accounts.identity import actor_for_user
from accord.core.actors import Actor
from accord.exchange.models import Event, Subscription
from accord.policy.engine import Decision, Resource, decide_many
from accord.policy.vocabulary import PolicyAction


def client_key_for(event: Event, recipient_agency_id: int) -> str:
    """The key consents and screens are filed under: the defender's client number when the
    recipient's office holds the person as a client, else the master person."""
    if event.master_id is not None:
        from accord.cases.models import Client

        number = (
            Client.objects.filter(
                agency_id=recipient_agency_id, person__link__master_id=event.master_id
            )
            .values_list("number", flat=True)
            .first()
        )
        if number:
            return str(number)
        return f"person-{event.master_id}"
    return f"case-{event.case_reference}"


def subscriptions_for(event: Event) -> list[Subscription]:
    """Active subscriptions whose person or case is this event's and whose types include it."""
    match = Q()
    if event.master_id is not None:
        match |= Q(master_id=event.master_id)
    if event.case_reference:
        match |= Q(case_reference=event.case_reference)
    if not match:
        return []
    rows = Subscription.objects.active().filter(match).select_related("subscriber").order_by("pk")
    return [s for s in rows if s.covers(event.event_type.code) and s.subscriber.is_active]


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


def route(event: Event, subscriptions: Sequence[Subscription], request_actor: Actor) -> list[Route]:
    """Decide for each subscription. Actors and client keys are built once per subscriber
    and agency; a subscriber's later subscriptions are decided only if an earlier one was
    denied (a person is notified at most once per event)."""
    routes: list[Route] = []
    actors: dict[int, Actor] = {}
    keys: dict[int, str] = {}
    told: set[int] = set()
    for sub in subscriptions:
        if sub.subscriber_id in told:
            continue
        recipient = actors.get(sub.subscriber_id)
        if recipient is None:
            recipient = actor_for_user(sub.subscriber).within(
                request_actor.request_id, request_actor.source_ip
            )
            actors[sub.subscriber_id] = recipient
        if sub.agency_id not in keys:
            keys[sub.agency_id] = client_key_for(event, sub.agency_id)
        resources = [
            Resource(
                owner_id=event.source_agency_id,
                client_key=keys[sub.agency_id],
                category=category,
                ref=f"exchange.event:{event.pk}",
            )
            for category in event.event_type.categories
        ]
        decisions = decide_many(recipient, PolicyAction.NOTIFY, resources, sub.purpose)
        verdict = Route(sub, recipient, tuple(decisions))
        if verdict.allowed:
            told.add(sub.subscriber_id)
        routes.append(verdict)
    return routes
