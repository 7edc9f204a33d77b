"""Delivery in the worker: one task per notification, enqueued in the ingest transaction.

Delivery is at-least-once with an idempotent receiver: the inbox is written once per
notification whatever the retries (a worker killed mid-delivery is retried by the next
one, and the second attempt finds the inbox already written). E-mail is at-least-once: a
worker killed between sending and recording it can send one duplicate e-mail.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils import timezone
from django_tasks import task

from accord.core.actors import SYSTEM
from accord.core.schedule import every
from accord.exchange.actions import (
    complete_delivery,
    defer_email,
    mark_emailed,
    put_in_inbox,
    record_failure,
)
from accord.exchange.models import (
    DeliveryStatus,
    Notification,
    NotificationPreference,
    WebhookDelivery,
)

logger = logging.getLogger("accord.exchange")


def _email(notification: Notification) -> None:
    """A short e-mail without client details: the e-mail says where to look, the content
    stays behind the sign-in (mail is not a safe channel for charges or custody)."""
    event = notification.event
    subject = f"Accord: {event.event_type.title} ({event.source_agency.short_name})"
    when = timezone.localtime(event.occurred_at)
    body = (
        f"A new event arrived for you in Accord: {event.event_type.title}, "
        f"from {event.source_agency.name}, at {when:%Y-%m-%d %H:%M %Z}.\n\n"
        f"Read it in your Accord notifications: /exchange/notifications/{notification.pk}\n"
    )
    message = EmailMessage(
        subject, body, settings.DEFAULT_FROM_EMAIL, [notification.recipient.email]
    )
    get_connection().send_messages([message])


def deliver(notification_id: int) -> str:
    """One delivery attempt; returns what happened (for the task result and the tests)."""
    notification = (
        Notification.objects.select_related(
            "event__event_type", "event__source_agency", "recipient"
        )
        .filter(pk=notification_id)
        .first()
    )
    if notification is None or notification.status in (
        DeliveryStatus.DELIVERED,
        DeliveryStatus.DEAD,
    ):
        return "nothing to do"
    try:
        put_in_inbox(notification_id, actor=SYSTEM)
        pref = NotificationPreference.objects.filter(user_id=notification.recipient_id).first()
        wants_email = pref is not None and pref.email and bool(notification.recipient.email)
        if wants_email and notification.emailed_at is None and pref is not None:
            if pref.quiet_now():
                # In the inbox now; the e-mail waits for the end of the quiet hours.
                later = pref.quiet_ends_at()
                defer_email(notification_id, later, actor=SYSTEM)
                deliver_notification.using(run_after=later).enqueue(notification_id)
                return "e-mail after quiet hours"
            _email(notification)
            mark_emailed(notification_id, actor=SYSTEM)
        complete_delivery(notification_id, actor=SYSTEM)
    except Exception as exc:
        logger.warning("delivery of notification %s failed: %r", notification_id, exc)
        failed = record_failure(notification_id, repr(exc), actor=SYSTEM)
        if failed is not None and failed.status == DeliveryStatus.RETRYING:
            deliver_notification.using(run_after=failed.next_attempt_at).enqueue(notification_id)
            return "retrying"
        return "dead"
    return "delivered"


@task()
def deliver_notification(notification_id: int) -> str:
    """Deliver one notification (in-app, and e-mail if the recipient asked for it)."""
    return deliver(notification_id)


def send_webhook(delivery_id: int) -> str:
    """One attempt to POST an event to an endpoint, signed; retried with backoff."""
    from accord.exchange import webhooks
    from accord.exchange.actions import webhook_attempted

    delivery = (
        WebhookDelivery.objects.select_related(
            "endpoint__agency", "event__event_type", "event__source_agency"
        )
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None or delivery.status in (DeliveryStatus.DELIVERED, DeliveryStatus.DEAD):
        return "nothing to do"
    endpoint = delivery.endpoint
    if endpoint.disabled_at is not None:
        return "endpoint disabled"
    error = ""
    try:
        keys = [webhooks.unseal(endpoint.secret_sealed, str(endpoint.uid))]
        previous = endpoint.previous_secret_sealed
        until = endpoint.previous_valid_until
        if previous and until and until > timezone.now():
            keys.append(webhooks.unseal(previous, str(endpoint.uid)))
        body = webhooks.body_of(delivery.event, delivery.explanation)
        stamp = webhooks.now_seconds(timezone.now())
        webhooks.post(
            endpoint.url,
            body,
            {
                "Accord-Delivery": str(delivery.pk),
                "Accord-Event": str(delivery.event_id),
                "Accord-Signature": webhooks.sign(keys, stamp, body),
            },
        )
    except Exception as exc:
        error = repr(exc) or "failed"
    done = webhook_attempted(delivery_id, error, actor=SYSTEM)
    if done is not None and done.status == DeliveryStatus.RETRYING:
        deliver_webhook.using(run_after=done.next_attempt_at).enqueue(delivery_id)
        return "retrying"
    return "delivered" if not error else "dead"


@task()
def deliver_webhook(delivery_id: int) -> str:
    """POST one event to one agency endpoint."""
    return send_webhook(delivery_id)


@every(timedelta(hours=1))
@task()
def redeliver_stalled() -> int:
    """Safety net for the outbox: notifications still pending ten minutes after they were
    written (their task lost with a wiped queue) are enqueued again. Delivery is idempotent,
    so a duplicate task is harmless."""
    cutoff = timezone.now() - timedelta(minutes=10)
    stalled = list(
        Notification.objects.filter(
            status=DeliveryStatus.PENDING, created_at__lt=cutoff
        ).values_list("pk", flat=True)[:1000]
    )
    for pk in stalled:
        deliver_notification.enqueue(pk)
    return len(stalled)


@every(timedelta(hours=1))
@task()
def revalidate_subscriptions() -> dict[str, int]:
    """Keep subscriptions tied to the representation (assignments, open cases, staff)."""
    from accord.exchange.actions import revalidate_subscriptions as revalidate

    return revalidate(actor=SYSTEM)
