"""Background work of people: linking records a bulk import left without a person."""

from __future__ import annotations

from django_tasks import task

from accord.core.actors import SYSTEM


@task()
def link_pending_records(agency_id: int | None = None, limit: int = 5000) -> int:
    """Link records that have no master person yet; re-enqueues itself while more wait.
    Returns how many records it linked."""
    from accord.directory.models import Agency
    from accord.people.actions import link_pending
    from accord.people.models import PersonRecord

    agency = Agency.objects.filter(pk=agency_id).first() if agency_id else None
    summary = link_pending(actor=SYSTEM, agency=agency, limit=limit)
    done = summary.linked + summary.new_persons
    waiting = PersonRecord.objects.filter(link__isnull=True)
    if agency is not None:
        waiting = waiting.filter(agency=agency)
    if done and waiting.exists():
        link_pending_records.enqueue(agency_id, limit)
    return done
