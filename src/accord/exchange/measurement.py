"""Where "event X delivered to party Y within N hours" obligations get their timestamps.

Registered with :func:`accord.agreements.measurement.register_source`: an occurrence is an
event of the obligation's type (its code, or its family such as ``custody``) sent by the
obligated party and routed to the counterparty's staff; its clock starts when the event
occurred and stops at the first in-app delivery to the counterparty.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Min, Q

from accord.agreements.measurement import Occurrence
from accord.agreements.models import Obligation
from accord.exchange.models import Event


def delivered_events(
    obligation: Obligation, since: datetime, until: datetime
) -> Iterable[Occurrence]:
    subject = obligation.subject.strip()
    events = Event.objects.filter(
        source_agency_id=obligation.party_id, occurred_at__gte=since, occurred_at__lt=until
    )
    if subject:
        events = events.filter(Q(event_type__code=subject) | Q(event_type__family=subject))
    told = Q(notifications__isnull=False)
    if obligation.counterparty_id is not None:
        told = Q(notifications__agency_id=obligation.counterparty_id)
    rows = (
        events.filter(told)
        .annotate(first_delivery=Min("notifications__delivered_at", filter=told))
        .values_list("pk", "occurred_at", "first_delivery")
        .order_by("occurred_at")
        .distinct()
    )
    for pk, occurred_at, delivered_at in rows:
        yield Occurrence(
            started_at=occurred_at, completed_at=delivered_at, ref=f"exchange.event:{pk}"
        )
