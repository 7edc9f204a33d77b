"""Calendar feeds: a secret address per person from which a calendar program reads their
court dates (iCalendar, RFC 5545)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q

from accord.core.access import RestrictedQuerySet
from accord.core.actions import ProtectedModel
from accord.core.actors import Actor


class CalendarFeedQuerySet(RestrictedQuerySet):
    def visible_to(self, actor: Actor, purpose: str = "operations") -> CalendarFeedQuerySet:
        """A person's own feeds (never a token's)."""
        if actor.is_system:
            return self
        if actor.user_id is None or actor.scopes is not None:
            return self.none()
        return self.filter(user_id=actor.user_id)

    def live(self) -> CalendarFeedQuerySet:
        return self.filter(revoked_at__isnull=True)


class CalendarFeed(ProtectedModel):
    """One person's calendar feed. Only a hash of its secret is kept, so the address is
    shown once; revoking it makes the address answer 404."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    secret_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_read_at = models.DateTimeField(null=True, blank=True)

    objects = CalendarFeedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(revoked_at__isnull=True), name="one_live_feed_per_user"
            )
        ]

    def __str__(self) -> str:
        return f"calendar feed #{self.pk}"

    @staticmethod
    def hash(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()
