"""Helpers for tests of the cases app: running the partner-event tasks the exchange queued,
as the worker would."""

from __future__ import annotations

from django_tasks_db.models import DBTaskResult

from accord.cases.partners.tasks import apply_event_effects


def run_event_effects() -> int:
    """Run every queued ``apply_event_effects`` task once, oldest first (the worker's order);
    returns how many client records they changed or noted."""
    done = 0
    rows = DBTaskResult.objects.filter(task_path__endswith="apply_event_effects").order_by(
        "enqueued_at", "pk"
    )
    for row in rows:
        done += apply_event_effects.call(*row.args_kwargs["args"])
    return done
