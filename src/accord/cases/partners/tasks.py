"""Background work of the cases app for partner agencies' events: applying each routed event
to the offices' records, in the worker, after the exchange committed its routing."""

from __future__ import annotations

from django_tasks import task

from accord.core.actors import SYSTEM


@task()
def apply_event_effects(event_id: int) -> int:
    """Apply one event (enqueued by ``exchange.actions.ingest_event`` in its transaction, so
    the task exists exactly when the event and its notifications do). Safe to run again:
    returns how many client records it changed or noted this time."""
    from accord.cases.partners.actions import apply_partner_event
    from accord.exchange.models import Event

    event = Event.objects.select_related("event_type", "source_agency").filter(pk=event_id).first()
    if event is None:
        return 0
    return len(apply_partner_event(event, actor=SYSTEM))
