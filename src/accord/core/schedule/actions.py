"""Enqueueing the periodic jobs that are due."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from accord.core.actions import action
from accord.core.actors import Actor
from accord.core.models import ScheduledJob
from accord.core.schedule import discover


@action
def enqueue_due_jobs(*, actor: Actor, now: datetime | None = None) -> list[str]:
    """Enqueue each registered job whose interval has passed; returns their names. The job
    rows are locked (PostgreSQL; SQLite serializes writers), so two workers checking at
    the same moment enqueue a run once."""
    now = now or timezone.now()
    enqueued = []
    for job in discover().values():
        row, _ = ScheduledJob.objects.get_or_create(name=job.name)
        row = ScheduledJob.objects.select_for_update().get(pk=row.pk)
        if row.last_enqueued_at is not None and now - row.last_enqueued_at < job.every:
            continue
        job.task.enqueue()
        row.last_enqueued_at = now
        row.save(update_fields=["last_enqueued_at"])
        enqueued.append(job.name)
    return enqueued
