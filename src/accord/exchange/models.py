"""Events agencies send, who subscribed to them, and the notifications that carry them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accord.core.access import Purpose, RestrictedQuerySet
from accord.core.actions import ProtectedModel
from accord.core.actors import Actor


class EventType(ProtectedModel):
    """One version of one kind of event, with the schema its payload must meet and the data
    categories it carries (the policy decides on those)."""

    code = models.CharField(max_length=64)
    version = models.PositiveSmallIntegerField(default=1)
    title = models.CharField(max_length=120)
    family = models.CharField(max_length=32)
    schema = models.JSONField()
    categories = models.JSONField(default=list)
    retired = models.BooleanField(default=False)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="event_type_code_version")
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"


class EventQuerySet(RestrictedQuerySet):
    def visible_to(self, actor: Actor, purpose: str = Purpose.OPERATIONS) -> EventQuerySet:
        """The sending agency sees its own events; others see an event only through a
        notification to them (the policy decided at routing time); coordinators see the
        catalogue of traffic for oversight but not payloads (the views never show them)."""
        if actor.is_system:
            return self
        if actor.agency_id is None:
            return self.none()
        own = Q(source_agency_id=actor.agency_id)
        if actor.user_id is not None:
            notified = Q(notifications__recipient_id=actor.user_id)
            return self.filter(own | notified).distinct()
        return self.filter(own)


class Event(ProtectedModel):
    """Something that happened to a person or a case, as one agency reported it. The
    idempotency key is the sender's: a retried post finds this row instead of a new one."""

    source_agency = models.ForeignKey(
        "directory.Agency", on_delete=models.PROTECT, related_name="+"
    )
    event_type = models.ForeignKey(EventType, on_delete=models.PROTECT, related_name="events")
    idempotency_key = models.CharField(max_length=128)
    payload = models.JSONField()
    payload_sha256 = models.CharField(max_length=64)
    occurred_at = models.DateTimeField(db_index=True)
    received_at = models.DateTimeField(auto_now_add=True)
    subject_record = models.ForeignKey(
        "people.PersonRecord", on_delete=models.PROTECT, null=True, related_name="+"
    )
    master = models.ForeignKey(
        "people.MasterPerson", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    case_reference = models.CharField(max_length=80, blank=True, default="", db_index=True)
    # A later event of the same family about the same person had already arrived: this one
    # is history and does not change the current state (e.g. a booking after a release).
    out_of_order = models.BooleanField(default=False)
    received_by = models.CharField(max_length=150)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_agency", "idempotency_key"], name="event_idempotency_key"
            )
        ]

    def __str__(self) -> str:
        return f"event {self.pk} ({self.event_type.code})"


class SubscriptionQuerySet(RestrictedQuerySet):
    def visible_to(self, actor: Actor, purpose: str = Purpose.OPERATIONS) -> SubscriptionQuerySet:
        """Your own subscriptions; an agency administrator's, those of the agency."""
        if actor.is_system:
            return self
        if actor.user_id is None:
            return self.none()
        if actor.scopes is None and actor.has_role("agency_admin"):
            return self.filter(Q(subscriber_id=actor.user_id) | Q(agency_id=actor.agency_id))
        return self.filter(subscriber_id=actor.user_id)

    def active(self) -> SubscriptionQuerySet:
        return self.filter(ended_at__isnull=True)


class SubscriptionOrigin(models.TextChoices):
    EXPLICIT = "explicit", "Subscribed by hand"
    ASSIGNMENT = "assignment", "While assigned to the case"


class Subscription(ProtectedModel):
    """A staff member asks to be told about a person or a case, for some event types and a
    stated purpose. It carries no entitlement: every event is still decided by the policy."""

    subscriber = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    agency = models.ForeignKey("directory.Agency", on_delete=models.PROTECT, related_name="+")
    master = models.ForeignKey(
        "people.MasterPerson", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    case_reference = models.CharField(max_length=80, blank=True, default="")
    event_types = models.JSONField(default=list, blank=True, help_text="codes; empty: all")
    purpose = models.CharField(max_length=40, choices=Purpose.choices)
    origin = models.CharField(
        max_length=16, choices=SubscriptionOrigin.choices, default=SubscriptionOrigin.EXPLICIT
    )
    label = models.CharField(max_length=200, blank=True, default="")
    started_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=200, blank=True, default="")

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["master", "ended_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(master__isnull=False) | ~Q(case_reference=""),
                name="subscription_has_subject",
            )
        ]

    def __str__(self) -> str:
        return f"subscription {self.pk}"

    def covers(self, code: str) -> bool:
        return not self.event_types or code in self.event_types


def backoff(attempts: int) -> timedelta:
    """The wait before retrying after ``attempts`` failed attempts (notifications, webhook
    deliveries, texts): 30 s, 1 min, 2 min, 4 min, … capped at one hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the worker"
    RETRYING = "retrying", "Failed; will retry"
    DELIVERED = "delivered", "Delivered"
    DEAD = "dead", "Gave up (dead letter)"


class NotificationQuerySet(RestrictedQuerySet):
    def visible_to(self, actor: Actor, purpose: str = Purpose.OPERATIONS) -> NotificationQuerySet:
        """Your own inbox; agency administrators also see their agency's dead letters and
        delivery states (never their content beyond the event type)."""
        if actor.is_system:
            return self
        if actor.user_id is None:
            return self.none()
        if actor.scopes is None and actor.has_role("agency_admin"):
            return self.filter(Q(recipient_id=actor.user_id) | Q(agency_id=actor.agency_id))
        return self.filter(recipient_id=actor.user_id)


class Notification(ProtectedModel):
    """One event told to one person, written in the ingest transaction (the outbox row) and
    delivered by the worker. At most one per event and person, whatever the retries."""

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="notifications")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    agency = models.ForeignKey("directory.Agency", on_delete=models.PROTECT, related_name="+")
    subscription = models.ForeignKey(
        Subscription, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    purpose = models.CharField(max_length=40)
    explanation = models.TextField(help_text="the agreement clauses that allowed it")
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["event", "recipient"], name="notification_once")
        ]
        indexes = [models.Index(fields=["recipient", "status", "read_at"])]

    def __str__(self) -> str:
        return f"notification {self.pk}"

    def backoff(self) -> timedelta:
        return backoff(self.attempts)


class EmailMode(models.TextChoices):
    """How a person's notifications reach their mailbox (stable codes)."""

    NONE = "none", "No e-mail (in the app only)"
    IMMEDIATE = "immediate", "An e-mail for each notification"
    DIGEST = "digest", "One daily digest e-mail"


# E.164: a plus, a country code that does not start with 0, at most 15 digits in all.
E164 = r"^\+[1-9][0-9]{6,14}$"


class NotificationPreference(ProtectedModel):
    """How a person wants to be told: always in the app; by e-mail for each notification,
    in one daily digest, or not at all; e-mails are held during their quiet hours (the
    in-app notice still arrives at once); optionally a content-free text message for
    custody events, where time matters most (a client booked into jail)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    email_mode = models.CharField(max_length=16, choices=EmailMode.choices, default=EmailMode.NONE)
    # The hour of the daily digest, in the office's time zone (settings.TIME_ZONE).
    digest_hour = models.PositiveSmallIntegerField(null=True, blank=True)
    quiet_from = models.TimeField(null=True, blank=True)
    quiet_until = models.TimeField(null=True, blank=True)
    phone = models.CharField(max_length=16, blank=True, default="", help_text="E.164")
    sms_custody = models.BooleanField(default=False)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(email_mode=EmailMode.DIGEST)
                | Q(digest_hour__isnull=False, digest_hour__lte=23),
                name="digest_has_an_hour",
            ),
            models.CheckConstraint(
                condition=Q(sms_custody=False) | ~Q(phone=""), name="sms_needs_a_phone"
            ),
        ]

    def __str__(self) -> str:
        return f"preferences of user {self.user_id}"

    @property
    def email(self) -> bool:
        """Whether each notification is e-mailed as it is delivered (the digest and the
        in-app-only modes say no): what the delivery worker asks."""
        return self.email_mode == EmailMode.IMMEDIATE

    def quiet_ends_at(self, now: Any = None) -> Any:
        """When the current quiet hours end (the next ``quiet_until`` after now)."""
        moment = timezone.localtime(now)
        assert self.quiet_until is not None
        end = moment.replace(
            hour=self.quiet_until.hour,
            minute=self.quiet_until.minute,
            second=self.quiet_until.second,
            microsecond=0,
        )
        return end if end > moment else end + timedelta(days=1)

    def quiet_now(self, now: Any = None) -> bool:
        if self.quiet_from is None or self.quiet_until is None:
            return False
        t = timezone.localtime(now).time()
        if self.quiet_from <= self.quiet_until:
            return self.quiet_from <= t < self.quiet_until
        return t >= self.quiet_from or t < self.quiet_until

    def digest_due_at(self, now: Any = None) -> Any:
        """The latest digest moment at or before now: today at ``digest_hour`` in the
        office's time zone, or yesterday's if that hour has not come yet."""
        assert self.digest_hour is not None
        moment = timezone.localtime(now)
        due = moment.replace(hour=self.digest_hour, minute=0, second=0, microsecond=0)
        if due > moment:
            due -= timedelta(days=1)  # wall-clock arithmetic: the same hour the day before
        return due


class Digest(ProtectedModel):
    """One daily digest e-mail to one person. Claiming it is the decision to send: the
    unique (recipient, due_at) row and the notifications it covers (marked e-mailed) are
    written in one transaction, so a job run twice, or by two workers, sends it once and
    no notification is in two digests."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    due_at = models.DateTimeField()
    items = models.ManyToManyField(Notification, related_name="+", blank=True)
    count = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-due_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "due_at"], name="digest_once_per_due")
        ]

    def __str__(self) -> str:
        return f"digest {self.pk}"


class TextMessageQuerySet(RestrictedQuerySet):
    def visible_to(self, actor: Actor, purpose: str = Purpose.OPERATIONS) -> TextMessageQuerySet:
        """Texts to you; an agency administrator's, those to the agency's staff (the page
        shows their state and the number's last digits, never what the event was)."""
        if actor.is_system:
            return self
        if actor.user_id is None:
            return self.none()
        mine = Q(notification__recipient_id=actor.user_id)
        if actor.scopes is None and actor.has_role("agency_admin"):
            return self.filter(mine | Q(notification__agency_id=actor.agency_id))
        return self.filter(mine)

    def of_own_agency(self, actor: Actor) -> TextMessageQuerySet:
        """The texts to the staff of ``actor``'s agency that ``actor`` may see (an
        administrator's dead-letter list)."""
        return self.visible_to(actor).filter(notification__agency_id=actor.agency_id or 0)


class TextMessage(ProtectedModel):
    """A content-free text message about one notification (custody events, for those who
    opted in). Claimed before sending, so there is at most one per notification; a failed
    send is retried with backoff up to ``TEXT_MAX_ATTEMPTS`` and then dead-lettered for an
    administrator to replay. Once ``sent_at`` is set it is never sent again."""

    notification = models.OneToOneField("Notification", on_delete=models.CASCADE, related_name="+")
    to = models.CharField(max_length=16)
    claimed_at = models.DateTimeField()
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    # While an attempt runs: the end of its lease (another worker may not start one before);
    # while retrying: when the next attempt is due.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True, default="", help_text="the last one")

    objects = TextMessageQuerySet.as_manager()

    class Meta:
        ordering = ["-claimed_at", "-pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"text message {self.pk}"

    @property
    def to_masked(self) -> str:
        """The number as administrators see it: its last four digits."""
        return f"…{self.to[-4:]}" if self.to else ""

    def backoff(self) -> timedelta:
        return backoff(self.attempts)


class WebhookEndpoint(ProtectedModel):
    """Where an agency's system receives the events it is entitled to, signed with a secret
    of this endpoint (HMAC-SHA256). Rotation keeps the previous secret valid for a day, and
    both signatures are sent meanwhile."""

    uid = models.UUIDField(unique=True, editable=False)
    agency = models.ForeignKey("directory.Agency", on_delete=models.PROTECT, related_name="+")
    url = models.URLField(max_length=500)
    purpose = models.CharField(max_length=40, choices=Purpose.choices)
    event_types = models.JSONField(default=list, blank=True, help_text="codes; empty: all")
    secret_sealed = models.BinaryField()
    previous_secret_sealed = models.BinaryField(null=True, blank=True)
    previous_valid_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    disabled_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"webhook {self.pk}"

    def covers(self, code: str) -> bool:
        return not self.event_types or code in self.event_types


class WebhookDelivery(ProtectedModel):
    """One event sent to one endpoint (the outbox row); at most one per event and endpoint.
    Receivers deduplicate on the ``Accord-Delivery`` header: a retry carries the same id."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="webhook_deliveries")
    explanation = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_delivery_once")
        ]

    def __str__(self) -> str:
        return f"webhook delivery {self.pk}"

    def backoff(self) -> timedelta:
        return backoff(self.attempts)
