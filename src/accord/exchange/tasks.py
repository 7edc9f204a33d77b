"""Delivery in the worker: one task per notification, enqueued in the ingest transaction.

Delivery is at-least-once with an idempotent receiver: the inbox is written once per
notification whatever the retries (a worker killed mid-delivery is retried by the next
one, and the second attempt finds the inbox already written). E-mail is at-least-once: a
worker killed between sending and recording it can send one duplicate e-mail. Daily
digests are claimed before they are sent (one per person and day, whatever the runs), and
custody texts at most once per notification (retried with backoff, then dead-lettered).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from accord.core.actors import SYSTEM
from accord.core.schedule import every
from accord.exchange import sms
from accord.exchange.actions import (
    DIGEST_STALE_AFTER,
    begin_text_attempt,
    claim_digest,
    claim_text,
    complete_delivery,
    defer_email,
    deliver_in_app,
    mark_digest_sent,
    mark_emailed,
    mark_text_sent,
    put_in_inbox,
    reclaim_stale_digest,
    record_failure,
)
from accord.exchange.models import (
    DeliveryStatus,
    Digest,
    EmailMode,
    Notification,
    NotificationPreference,
    TextMessage,
    WebhookDelivery,
)

logger = logging.getLogger("accord.exchange")

# A digest lists at most this many notifications one by one (then a count of the rest).
DIGEST_LINES = 50

# The inbox is the work someone waits for: delivery tasks go before the rest of the queue
# (case effects, webhooks, periodic jobs), so a burst of events does not delay the notices.
DELIVERY_PRIORITY = 10


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


def _digest_email(digest: Digest) -> EmailMessage:
    """The daily digest under the same rule as the single e-mail: what kind of event from
    which agency, when, and where to read it; never names, charges or custody details."""
    items = list(
        digest.items.select_related("event__event_type", "event__source_agency").order_by(
            "delivered_at", "pk"
        )
    )
    kinds = Counter((n.event.event_type.title, n.event.source_agency.name) for n in items)
    summary = "\n".join(
        f"- {title}, from {agency}: {count}" for (title, agency), count in sorted(kinds.items())
    )
    lines = "\n".join(
        f"- {timezone.localtime(n.event.occurred_at):%Y-%m-%d %H:%M} {n.event.event_type.title} "
        f"({n.event.source_agency.short_name}): /exchange/notifications/{n.pk}"
        for n in items[:DIGEST_LINES]
    )
    more = f"\n… and {len(items) - DIGEST_LINES} more.\n" if len(items) > DIGEST_LINES else "\n"
    body = (
        f"{len(items)} notification(s) arrived for you in Accord since your last digest:\n\n"
        f"{summary}\n\nRead them in your Accord notifications (/exchange/):\n{lines}{more}"
    )
    subject = f"Accord: your daily digest ({len(items)} notification(s))"
    return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [digest.recipient.email])


def send_digest(digest_id: int) -> bool:
    """Send one claimed digest and record it sent. At-least-once like every e-mail: a
    worker killed between sending and recording leaves it to be sent again."""
    digest = Digest.objects.select_related("recipient").filter(pk=digest_id).first()
    if digest is None or digest.sent_at is not None:
        return False
    get_connection().send_messages([_digest_email(digest)])
    mark_digest_sent(digest_id, actor=SYSTEM)
    return True


def send_digests(now: datetime | None = None) -> dict[str, int]:
    """Send each daily digest that is due (its hour has come in the office's time zone and
    the person's quiet hours are over), once; and send again those whose worker died after
    claiming them."""
    now = now or timezone.now()
    sent = failed = 0
    due: list[int] = []
    prefs = NotificationPreference.objects.filter(email_mode=EmailMode.DIGEST)
    for pref_id in prefs.values_list("pk", flat=True):
        digest = claim_digest(pref_id, actor=SYSTEM, now=now)
        if digest is not None and digest.sent_at is None:
            due.append(digest.pk)
    stale = Digest.objects.filter(
        sent_at__isnull=True, claimed_at__lt=now - DIGEST_STALE_AFTER
    ).values_list("pk", flat=True)
    due += [pk for pk in stale if reclaim_stale_digest(pk, actor=SYSTEM, now=now)]
    for digest_id in due:
        try:
            sent += send_digest(digest_id)
        except Exception as exc:  # one bad mailbox must not stop the others
            logger.warning("digest %s not sent: %r", digest_id, exc)
            failed += 1
    return {"sent": sent, "failed": failed}


@every(timedelta(minutes=15))
@task()
def send_due_digests() -> dict[str, int]:
    """The periodic digest run (every 15 minutes, so a digest leaves within a quarter of an
    hour of its hour)."""
    return send_digests()


def text_custody_event(notification: Notification, pref: NotificationPreference | None) -> str:
    """Text those who opted in that a custody event arrived: a content-free nudge (the
    agency, never the person), at most once per notification, not during quiet hours,
    and only when an SMS backend is configured. A failed send is retried by the worker."""
    if pref is None or not pref.sms_custody or not pref.phone:
        return "not wanted"
    if notification.event.event_type.family != "custody" or pref.quiet_now():
        return "not texted"
    if sms.get_backend() is None:
        return "no SMS backend"
    text = claim_text(notification.pk, pref.phone, actor=SYSTEM)
    if text is None:
        return "already texted"
    return send_text(text.pk)


def send_text(text_id: int, now: datetime | None = None) -> str:
    """One attempt at sending a claimed text: sent, retrying (a task is queued for when the
    backoff ends), dead (after ``TEXT_MAX_ATTEMPTS``), or nothing to do (sent already, dead,
    not due yet, or another worker is sending it). A worker killed between the gateway's
    answer and the record can send one duplicate after the lease, as with e-mail."""
    text = begin_text_attempt(text_id, actor=SYSTEM, now=now)
    if text is None:
        return "nothing to do"
    agency = (
        Notification.objects.filter(pk=text.notification_id)
        .values_list("event__source_agency__short_name", flat=True)
        .first()
    )
    body = f"Accord: a custody event from {agency} arrived for you. Sign in to read it."
    error = ""
    try:
        if sms.send_sms(text.to, body) < 1:
            error = "the SMS backend sent nothing"
    except Exception as exc:
        logger.warning("text %s for notification %s failed: %r", text_id, text.notification_id, exc)
        error = repr(exc) or "failed"
    done = mark_text_sent(text_id, error, actor=SYSTEM)
    if done is None:
        return "nothing to do"
    if done.status == DeliveryStatus.RETRYING:
        send_text_message.using(run_after=done.next_attempt_at).enqueue(text_id)
        return "text retrying"
    return "text dead" if done.status == DeliveryStatus.DEAD else "texted"


@task(priority=DELIVERY_PRIORITY)
def send_text_message(text_id: int) -> str:
    """Try a text again (its backoff has ended) or after an administrator's replay."""
    return send_text(text_id)


@every(timedelta(hours=1))
@task()
def retry_stalled_texts() -> int:
    """Safety net: texts whose retry is ten minutes overdue (their task lost with a wiped
    queue, or a worker killed mid-send), and texts claimed ten minutes ago but never tried
    (a worker killed between the claim and the first send: the notification's own retry
    finds the text claimed and leaves it), are queued again. An attempt is taken once, so a
    duplicate task sends nothing twice."""
    cutoff = timezone.now() - timedelta(minutes=10)
    stalled = list(
        TextMessage.objects.filter(
            Q(next_attempt_at__lt=cutoff) | Q(next_attempt_at__isnull=True, claimed_at__lt=cutoff),
            status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING],
            sent_at__isnull=True,
        ).values_list("pk", flat=True)[:1000]
    )
    for pk in stalled:
        send_text_message.enqueue(pk)
    return len(stalled)


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
        text_custody_event(notification, pref)
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


# A delivery task also puts in their inboxes the in-app-only notifications routed just
# after its own (up to this many ids on), so a burst of single posts reaches the inboxes
# in a few tasks instead of waiting for a task each; their own tasks then find nothing to
# do. A primary-key range, so the look-up stays cheap however long the table.
SWEEP_AHEAD = 500


@task(priority=DELIVERY_PRIORITY)
def deliver_notification(notification_id: int) -> str:
    """Deliver one notification (in-app, and e-mail if the recipient asked for it), and the
    in-app-only ones that follow it (see ``SWEEP_AHEAD``)."""
    outcome = deliver(notification_id)
    following = list(
        Notification.objects.filter(
            pk__gt=notification_id,
            pk__lte=notification_id + SWEEP_AHEAD,
            status=DeliveryStatus.PENDING,
            delivered_at__isnull=True,
        )
        .exclude(recipient_id__in=NotificationPreference.objects.values("user_id"))
        .values_list("pk", flat=True)
    )
    if following:
        try:
            deliver_in_app(following, actor=SYSTEM)
        except Exception as exc:  # they have tasks of their own; this one is done
            logger.warning("delivering the notifications after %s failed: %r", notification_id, exc)
    return outcome


def deliver_many(notification_ids: Sequence[int]) -> dict[str, int]:
    """Deliver a batch's notifications: those of recipients without preferences (in-app
    only) in one transaction, the others one by one through :func:`deliver` (e-mail and
    the rest). Idempotent like :func:`deliver`: what is delivered stays delivered."""
    rows = list(
        Notification.objects.filter(pk__in=notification_ids)
        .exclude(status__in=[DeliveryStatus.DELIVERED, DeliveryStatus.DEAD])
        .values_list("pk", "recipient_id")
    )
    chose = set(
        NotificationPreference.objects.filter(
            user_id__in={recipient for _, recipient in rows}
        ).values_list("user_id", flat=True)
    )
    plain = [pk for pk, recipient in rows if recipient not in chose]
    done = {"in_app": 0, "one_by_one": 0}
    try:
        done["in_app"] = deliver_in_app(plain, actor=SYSTEM)
    except Exception as exc:
        logger.warning("batch delivery failed (%r); delivering one by one", exc)
        chose = {recipient for _, recipient in rows}
    for pk, recipient in rows:
        if recipient in chose:
            deliver(pk)
            done["one_by_one"] += 1
    return done


@task(priority=DELIVERY_PRIORITY)
def deliver_notifications(notification_ids: list[int]) -> dict[str, int]:
    """Deliver the notifications one ingest call routed (a batch): one task, not one each."""
    return deliver_many(notification_ids)


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


@task()
def deliver_notification_batch(notification_ids: list[int]) -> dict[str, int]:
    """Deliver the notifications of a bulk feed, one task per few hundred (a task row per
    notification would double the writes of a million-row feed). Each is delivered as
    :func:`deliver` delivers one, with its own retries."""
    outcomes: dict[str, int] = {}
    for notification_id in notification_ids:
        outcome = deliver(notification_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


@task()
def deliver_webhook_batch(delivery_ids: list[int]) -> dict[str, int]:
    """POST a bulk feed's webhook deliveries, each as :func:`send_webhook` sends one."""
    outcomes: dict[str, int] = {}
    for delivery_id in delivery_ids:
        outcome = send_webhook(delivery_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes
