"""Background work of agreements: the daily upkeep (statuses and reminders)."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from accord.agreements.actions import activate_due, send_due_reminders
from accord.core.actors import SYSTEM
from accord.core.schedule import every


@every(timedelta(days=1))
@task()
def agreement_upkeep() -> dict[str, int]:
    """Bring signed versions into force on their effective date, mark expired ones, and
    send the review and expiry reminders that are due. Decisions never wait for this:
    they check dates themselves, so a late run changes labels and reminders, not flows."""
    changed = activate_due(actor=SYSTEM)
    reminded = send_due_reminders(actor=SYSTEM)
    return {"versions_changed": changed, "reminders_sent": reminded}
