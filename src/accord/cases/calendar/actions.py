"""Calendar feeds: a person's secret address for their own court dates (iCalendar).

The address carries 256 random bits; only their SHA-256 is stored, so it is shown once and
cannot be recovered from the database. Creating a new address revokes the old one;
revoking makes it answer 404. Each read is audited, as the feed's owner.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import timedelta

from django.utils import timezone

from accord.audit.chain import append as audit
from accord.audit.codes import AuditAction
from accord.cases.access import reads_cases_of
from accord.cases.models import CalendarFeed, CourtEvent
from accord.core.actions import action
from accord.core.actors import Actor
from accord.core.errors import ActionRefused, NotFound, PermissionDenied

# What a feed holds: a month back (to see what just happened) and a year ahead.
FEED_PAST = timedelta(days=31)
FEED_FUTURE = timedelta(days=366)


def feed_events(owner: Actor) -> list[CourtEvent]:
    """The owner's own cases' settings (those they are assigned to), read through access.
    Continued and cancelled settings stay in the feed, marked cancelled, so a calendar
    program that already holds them replaces them rather than keeping a stale court date."""
    if owner.user_id is None:
        return []
    now = timezone.now()
    return list(
        CourtEvent.objects.visible_to(owner)
        .filter(
            case__in=_own_cases(owner),
            starts_at__gte=now - FEED_PAST,
            starts_at__lte=now + FEED_FUTURE,
        )
        .select_related("case__court", "continued_to")
        .order_by("starts_at", "pk")
    )


def _own_cases(owner: Actor) -> object:
    from accord.cases.models import Case

    assert owner.user_id is not None  # checked by the caller
    return Case.objects.visible_to(owner).assigned_to(owner.user_id).values("pk")


@action
def create_calendar_feed(*, actor: Actor) -> tuple[CalendarFeed, str]:
    """A new feed address for the actor (a person on the defender's case staff); the old
    one, if any, stops working. Returns the feed and its secret, shown once."""
    if actor.user_id is None or actor.scopes is not None or reads_cases_of(actor) is None:
        raise PermissionDenied("Calendar feeds are for the defender's case staff.")
    now = timezone.now()
    for old in CalendarFeed.objects.filter(user_id=actor.user_id, revoked_at__isnull=True):
        old.revoked_at = now
        old.save(update_fields=["revoked_at"])
        audit(actor, AuditAction.CALENDAR_FEED_REVOKED, obj=old, details={"replaced": True})
    secret = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(
        user_id=actor.user_id, secret_sha256=CalendarFeed.hash(secret)
    )
    audit(actor, AuditAction.CALENDAR_FEED_CREATED, obj=feed)
    return feed, secret


@action
def revoke_calendar_feed(feed: CalendarFeed, *, actor: Actor) -> CalendarFeed:
    """Stop a feed address: from now on it answers 404."""
    if (
        not actor.is_system
        and not CalendarFeed.objects.visible_to(actor).filter(pk=feed.pk).exists()
    ):
        raise NotFound(f"No calendar feed {feed.pk}.")
    if feed.revoked_at is not None:
        raise ActionRefused("This feed address is already revoked.")
    feed.revoked_at = timezone.now()
    feed.save(update_fields=["revoked_at"])
    audit(actor, AuditAction.CALENDAR_FEED_REVOKED, obj=feed)
    return feed


@action
def read_calendar_feed(secret: str, *, actor: Actor) -> tuple[Actor, list[CourtEvent]] | None:
    """The owner and events of the live feed with this secret; None (a 404) for an unknown
    or revoked secret, or an owner who may no longer read cases (disabled, locked, moved)."""
    from accord.accounts.identity import actor_for_user

    if not secret or len(secret) > 100:
        return None
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(secret_sha256=CalendarFeed.hash(secret), revoked_at__isnull=True)
        .first()
    )
    if feed is None or not feed.user.is_active or feed.user.locked_at is not None:
        return None
    owner = actor_for_user(feed.user)
    if reads_cases_of(owner) is None:
        return None
    owner = replace(
        owner,
        label=f"calendar feed of {owner.label}"[:150],
        request_id=actor.request_id,
        source_ip=actor.source_ip,
    )
    events = feed_events(owner)
    feed.last_read_at = timezone.now()
    feed.save(update_fields=["last_read_at"])
    audit(owner, AuditAction.CALENDAR_FEED_READ, obj=feed, details={"events": len(events)})
    return owner, events
