"""What partner agencies shared about a client, as the client page lists it: their events
about the person or about the client's cases, and the client records they hold — each
decided for the reader by the policy (action ``view``, purpose defense representation) at
the moment of reading, so a lapsed agreement or a revoked consent hides an item at once.
The page records a disclosure for exactly the items it shows (``policy.record_disclosures``),
like every other cross-agency read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accord.cases.models import Case, Client
from accord.core.access import Purpose
from accord.core.actors import Actor
from accord.policy.engine import Decision, Resource, decide_many
from accord.policy.vocabulary import PolicyAction

# How far back the page looks, per source: a client's partner history is tens of items;
# the cap bounds a pathological one.
LIMIT = 500
# Payload fields worth a line on the page, in this order (never the subject, notes or
# free-text charges: the page names the event; the partner's system holds the rest).
FIELDS = (
    ("booking_number", "booking"),
    ("facility", "facility"),
    ("from_facility", "from"),
    ("to_facility", "to"),
    ("release_reason", "reason"),
    ("case_reference", "case"),
    ("hearing_type", "setting"),
    ("continued_from", "was"),
    ("hearing_at", "at"),
    ("courtroom", "courtroom"),
    ("reason", "reason"),
    ("outcome", "outcome"),
    ("disposition", "disposition"),
    ("sentence", "sentence"),
    ("warrant_number", "warrant"),
    ("warrant_type", "type"),
    ("violation", "violation"),
    ("officer", "officer"),
    ("ends_on", "ends"),
    ("referral_reference", "referral"),
    ("program", "program"),
    ("status", "status"),
)
MOMENTS = frozenset({"hearing_at", "continued_from"})


@dataclass(frozen=True)
class SharedItem:
    """One thing a partner agency shared, with the clauses that let the reader see it."""

    occurred_at: datetime
    agency: str
    title: str
    summary: str
    basis: str
    late: bool
    decisions: tuple[Decision, ...]


def _value(name: str, value: Any) -> str:
    if name in MOMENTS:
        moment = parse_datetime(str(value))
        if moment is not None:
            local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
            return f"{local:%Y-%m-%d %H:%M}"
    return str(value)


def summary_of(payload: dict[str, Any]) -> str:
    """ "booking B-1 · facility Main jail" from an event's payload."""
    return " · ".join(
        f"{label} {_value(name, payload[name])}"
        for name, label in FIELDS
        if payload.get(name) not in (None, "")
    )


def _events(client: Client, cases: Sequence[Case], actor: Actor) -> list[Any]:
    from accord.exchange.models import Event
    from accord.people.models import PersonLink

    # About the person (identity resolution's master person of the client's record)…
    match = Q(
        master_id__in=PersonLink.objects.filter(record_id=client.person_id).values("master_id")
    )
    for case in cases:
        # …or about one of their cases: a court's event names it by its number there.
        match |= Q(case_reference=case.number, source_agency_id=case.court_id)
    return list(
        Event.objects.filter(match)
        .exclude(source_agency_id=actor.agency_id)
        .select_related("event_type", "source_agency")
        .order_by("-occurred_at", "-pk")[:LIMIT]
    )


def shared_about(client: Client, cases: Sequence[Case], actor: Actor) -> list[SharedItem]:
    """Everything partner agencies shared about ``client`` (whose ``cases`` the caller has
    read) that ``actor`` may view now, newest first. Decides but does not disclose: the
    caller discloses what it shows."""
    from accord.policy.models import ClientRecord

    purpose = Purpose.DEFENSE
    events = _events(client, cases, actor)
    records = list(
        ClientRecord.objects.visible_to(actor, purpose)
        .filter(client_key=client.number)
        .exclude(owner_id=actor.agency_id)
        .select_related("owner")
        .order_by("-recorded_at", "-pk")[:LIMIT]
    )
    wanted: list[tuple[Any, list[Resource]]] = [
        (
            event,
            [
                Resource(
                    event.source_agency_id,
                    client.number,
                    category,
                    ref=f"exchange.event:{event.pk}",
                )
                for category in event.event_type.categories
            ],
        )
        for event in events
    ]
    wanted += [(record, [Resource.of(record)]) for record in records]
    decisions = iter(
        decide_many(actor, PolicyAction.VIEW, [r for _, rs in wanted for r in rs], purpose)
    )
    items = []
    for row, resources in wanted:
        verdicts = tuple(next(decisions) for _ in resources)
        if not verdicts or not all(d.allowed for d in verdicts):
            continue
        basis = "; ".join(dict.fromkeys(d.explanation() for d in verdicts))
        if isinstance(row, ClientRecord):
            items.append(
                SharedItem(
                    row.recorded_at,
                    row.owner.name,
                    row.get_category_display(),
                    row.summary,
                    basis,
                    False,
                    verdicts,
                )
            )
        else:
            items.append(
                SharedItem(
                    row.occurred_at,
                    row.source_agency.name,
                    row.event_type.title,
                    summary_of(row.payload),
                    basis,
                    row.out_of_order,
                    verdicts,
                )
            )
    items.sort(key=lambda item: item.occurred_at, reverse=True)
    return items
