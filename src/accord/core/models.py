"""The one table of the shared machinery: when each periodic job was last enqueued."""

from __future__ import annotations

from django.db import models

from accord.core.actions import ProtectedModel, ProtectedQuerySet


class ScheduledJob(ProtectedModel):
    """A periodic job (see accord.core.schedule); the row is locked while deciding whether
    it is due, so several workers never enqueue the same run twice."""

    name = models.CharField(max_length=100, unique=True)
    last_enqueued_at = models.DateTimeField(null=True, blank=True)

    objects = ProtectedQuerySet.as_manager()

    def __str__(self) -> str:
        return self.name
