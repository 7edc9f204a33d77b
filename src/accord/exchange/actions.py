"""Every change the exchange makes: ingesting events, subscribing, delivering, replaying.

:func:`ingest_event` is the transactional outbox: the event, its routing decisions, the
notifications, the disclosures, the refusals and the delivery tasks are written in one
transaction, so either all of them exist or none does.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Any

import jsonschema
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from accord.audit.chain import append as audit
from accord.audit.codes import AuditAction, Outcome
from accord.core.access import Purpose
from accord.core.actions import action
from accord.core.actors import SYSTEM, Actor
from accord.core.errors import ActionRefused, InvalidInput, NotFound, PermissionDenied
from accord.directory.models import Agency
from accord.exchange.feed import FeedPage, entitled_events
from accord.exchange.models import (
    DeliveryStatus,
    Event,
    EventType,
    Notification,
    NotificationPreference,
    Subscription,
    SubscriptionOrigin,
    WebhookDelivery,
    WebhookEndpoint,
)
from accord.exchange.routing import client_key_for, route, subscriptions_for
from accord.exchange.webhooks import new_secret, seal
from accord.people.access import PEOPLE_WRITE_SCOPE
from accord.people.models import MasterPerson, PersonLink, PersonRecord
from accord.policy.actions import record_disclosures
from accord.policy.engine import Resource, decide_many
from accord.policy.vocabulary import PolicyAction

MAX_ATTEMPTS = 6
SUBSCRIBER_ROLES = frozenset(
    {"attorney", "investigator", "social_worker", "supervisor", "case_worker", "officer", "clerk"}
)
_CHECKER = jsonschema.Draft202012Validator


@dataclass(frozen=True)
class Ingested:
    """What a post returned: the event and whether this call created it (False: a retry)."""

    event: Event
    created: bool


@action
def sync_catalogue(*, actor: Actor) -> int:
    """Add the catalogue's codes and versions missing from the database (the migration
    loads them; this repairs a flushed or partial table). Never changes a shipped schema."""
    from accord.exchange.catalogue import CATALOGUE

    added = 0
    for spec in CATALOGUE:
        _, created = EventType.objects.get_or_create(
            code=spec.code,
            version=spec.version,
            defaults={
                "title": spec.title,
                "family": spec.family,
                "schema": spec.schema(),
                "categories": list(spec.categories),
            },
        )
        added += created
    return added


def event_types() -> QuerySet[EventType]:
    """The catalogue in force (loaded on first use if the table was emptied)."""
    rows: QuerySet[EventType] = EventType.objects.filter(retired=False)
    if not rows.exists():
        sync_catalogue(actor=SYSTEM)
    return rows


def event_type_for(code: str, version: int | None = None) -> EventType:
    rows = event_types().filter(code=code)
    if version is not None:
        rows = rows.filter(version=version)
    found: EventType | None = rows.order_by("-version").first()
    if found is None:
        raise InvalidInput(
            f"Unknown event type {code!r}.",
            errors=[{"field": "event_type", "reason": "not in the event catalogue"}],
        )
    return found


def validate_payload(event_type: EventType, payload: Any) -> None:
    """422 naming every failing field, e.g. ``payload.subject.last_name``."""
    checker = _CHECKER(event_type.schema, format_checker=_CHECKER.FORMAT_CHECKER)
    problems = sorted(checker.iter_errors(payload), key=lambda e: list(e.absolute_path))
    if not problems:
        return
    errors = []
    for problem in problems:
        path = ".".join(str(p) for p in problem.absolute_path)
        if problem.validator == "required" and isinstance(problem.validator_value, list):
            missing = [f for f in problem.validator_value if f not in (problem.instance or {})]
            for name in missing:
                errors.append(
                    {"field": ".".join(filter(None, ["payload", path, name])), "reason": "required"}
                )
            continue
        if problem.validator == "additionalProperties":
            errors.append(
                {"field": ".".join(filter(None, ["payload", path])), "reason": problem.message}
            )
            continue
        errors.append(
            {"field": ".".join(filter(None, ["payload", path])), "reason": problem.message}
        )
    raise InvalidInput(f"The payload does not meet the {event_type} schema.", errors=errors)


def _digest(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _may_send(actor: Actor, agency: Agency) -> None:
    if actor.is_system:
        return
    if not actor.has_scope("events:write") or actor.agency_id != agency.pk:
        raise PermissionDenied("Only the agency's own systems and staff post its events.")
    if actor.scopes is None and not actor.roles & (SUBSCRIBER_ROLES | {"agency_admin"}):
        raise PermissionDenied("Your role does not post events.")


def _subject(
    agency: Agency, payload: dict[str, Any], actor: Actor
) -> tuple[PersonRecord, int | None]:
    """Record the subject as the sending agency knows them and find the master person."""
    from accord.people.actions import record_person

    subject = dict(payload["subject"])
    source_id = subject.pop("source_id")
    aliases = subject.pop("aliases", None)
    if aliases:
        subject["aliases"] = "; ".join(aliases)
    # Posting an event under events:write includes recording who it is about.
    writer = (
        actor
        if actor.scopes is None
        else replace(actor, scopes=actor.scopes | {PEOPLE_WRITE_SCOPE})
    )
    try:
        record = record_person(agency, source_id, actor=writer, **subject)
    except InvalidInput as exc:
        errors = [{**e, "field": f"payload.subject.{e['field']}"} for e in exc.errors]
        raise InvalidInput("The subject of the event is not valid.", errors=errors) from exc
    master_id = PersonLink.objects.filter(record=record).values_list("master_id", flat=True).first()
    return record, master_id


def _out_of_order(event: Event) -> bool:
    later = Event.objects.filter(
        event_type__family=event.event_type.family,
        occurred_at__gt=event.occurred_at,
    ).exclude(pk=event.pk)
    if event.master_id is not None:
        later = later.filter(master_id=event.master_id)
    elif event.case_reference:
        later = later.filter(case_reference=event.case_reference)
    else:
        return False
    return later.exists()


@action
def ingest_event(
    source_agency: Agency,
    event_type: str,
    payload: Any,
    idempotency_key: str,
    occurred_at: datetime,
    *,
    actor: Actor,
    schema_version: int | None = None,
) -> Ingested:
    """Accept one event from an agency, resolve who it is about, and route it to every
    subscriber the agreements allow (notification, disclosure and delivery task in this
    transaction); refusals are audited. A repeated idempotency key returns the first event."""
    _may_send(actor, source_agency)
    key = (idempotency_key or "").strip()
    if not key or len(key) > 128:
        raise InvalidInput(
            "An idempotency key is needed.",
            errors=[{"field": "idempotency_key", "reason": "1 to 128 characters"}],
        )
    kind = event_type_for(event_type, schema_version)
    digest = _digest(payload)
    first = Event.objects.filter(source_agency=source_agency, idempotency_key=key).first()
    if first is not None:
        return _replayed(first, digest)
    if timezone.is_naive(occurred_at):
        raise InvalidInput(
            "The occurrence time needs a time zone.",
            errors=[{"field": "occurred_at", "reason": "include an offset, e.g. Z or -05:00"}],
        )
    if occurred_at > timezone.now() + timedelta(minutes=5):
        raise InvalidInput(
            "The event is in the future.",
            errors=[{"field": "occurred_at", "reason": "later than now"}],
        )
    validate_payload(kind, payload)
    record, master_id = _subject(source_agency, payload, actor)
    event = Event(
        source_agency=source_agency,
        event_type=kind,
        idempotency_key=key,
        payload=payload,
        payload_sha256=digest,
        occurred_at=occurred_at,
        subject_record=record,
        master_id=master_id,
        case_reference=str(payload.get("case_reference") or ""),
        received_by=actor.label[:150],
    )
    try:
        # A savepoint: a concurrent post of the same key loses the race on the unique
        # constraint and returns the winner's event instead of failing.
        with transaction.atomic():
            event.save()
    except IntegrityError:
        winner = Event.objects.get(source_agency=source_agency, idempotency_key=key)
        return _replayed(winner, digest)
    if _out_of_order(event):
        event.out_of_order = True
        event.save(update_fields=["out_of_order"])
    audit(
        actor,
        AuditAction.EXCHANGE_EVENT_INGESTED,
        obj=event,
        agency_id=source_agency.pk,
        details={
            "event_type": kind.code,
            "version": kind.version,
            "idempotency_key": key,
            "occurred_at": occurred_at.isoformat(),
            "out_of_order": event.out_of_order,
        },
    )
    _route(event, actor)
    return Ingested(event, created=True)


def _replayed(first: Event, digest: str) -> Ingested:
    if first.payload_sha256 != digest:
        raise ActionRefused(
            "This idempotency key was already used for a different event; use a new key."
        )
    return Ingested(first, created=False)


def _route(event: Event, actor: Actor) -> None:
    from accord.exchange.tasks import deliver_notification

    told: set[int] = set()
    refused = []
    for verdict in route(event, subscriptions_for(event), actor):
        sub = verdict.subscription
        if sub.subscriber_id in told:
            continue
        if not verdict.allowed:
            refused.append(verdict)
            continue
        notification = Notification.objects.create(
            event=event,
            recipient_id=sub.subscriber_id,
            agency_id=sub.agency_id,
            subscription=sub,
            purpose=sub.purpose,
            explanation=verdict.explanation[:2000],
        )
        told.add(sub.subscriber_id)
        record_disclosures(list(verdict.decisions), actor=verdict.recipient)
        deliver_notification.enqueue(notification.pk)
        audit(
            actor,
            AuditAction.EXCHANGE_EVENT_ROUTED,
            obj=notification,
            agency_id=event.source_agency_id,
            details={
                "event": event.pk,
                "recipient": sub.subscriber_id,
                "basis": verdict.explanation[:500],
            },
        )
    _route_webhooks(event, actor)
    for verdict in refused:
        if verdict.subscription.subscriber_id in told:
            continue
        audit(
            actor,
            AuditAction.EXCHANGE_EVENT_REFUSED,
            obj=event,
            outcome=Outcome.DENIED,
            agency_id=event.source_agency_id,
            details={
                "subscription": verdict.subscription.pk,
                "recipient": verdict.subscription.subscriber_id,
                "recipient_agency": verdict.subscription.agency_id,
                "purpose": verdict.subscription.purpose,
                "reason": verdict.explanation[:500],
            },
        )


# --- subscriptions ----------------------------------------------------------------------------


def _check_types(codes: list[str]) -> list[str]:
    known = set(event_types().values_list("code", flat=True))
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise InvalidInput(
            "Unknown event types.",
            errors=[
                {"field": "event_types", "reason": f"not in the catalogue: {c}"} for c in unknown
            ],
        )
    return sorted(set(codes))


@action
def subscribe(
    *,
    actor: Actor,
    person_record: PersonRecord | None = None,
    case_reference: str = "",
    event_types: list[str] | None = None,
    purpose: str = Purpose.DEFENSE,
    origin: str = SubscriptionOrigin.EXPLICIT,
) -> Subscription:
    """Ask to be told about a person (one of the records your agency may see) or a case.
    Whether each event is told is still decided by the policy, event by event."""
    if actor.user_id is None or actor.agency_id is None or actor.scopes is not None:
        raise PermissionDenied("Only staff members subscribe, for themselves.")
    if not actor.roles & SUBSCRIBER_ROLES:
        raise PermissionDenied("Your role does not receive event notifications.")
    if purpose not in Purpose.values:
        raise InvalidInput("Unknown purpose.", errors=[{"field": "purpose", "reason": "unknown"}])
    case_reference = case_reference.strip()
    if person_record is None and not case_reference:
        raise InvalidInput(
            "Name a person or a case.",
            errors=[{"field": "person_record", "reason": "a person or a case reference is needed"}],
        )
    master: MasterPerson | None = None
    label = case_reference and f"case {case_reference}"
    if person_record is not None:
        if not PersonRecord.objects.visible_to(actor).filter(pk=person_record.pk).exists():
            raise NotFound(f"No person record {person_record.pk}.")
        link = PersonLink.objects.filter(record=person_record).select_related("master").first()
        if link is None:
            raise ActionRefused("This record is not linked to a person yet; try again shortly.")
        master = link.master
        label = person_record.full_name
    codes = _check_types(event_types or [])
    sub = Subscription.objects.create(
        subscriber_id=actor.user_id,
        agency_id=actor.agency_id,
        master=master,
        case_reference=case_reference,
        event_types=codes,
        purpose=purpose,
        origin=origin,
        label=label[:200],
    )
    audit(
        actor,
        AuditAction.EXCHANGE_SUBSCRIBED,
        obj=sub,
        agency_id=actor.agency_id,
        details={
            "master": master.pk if master else None,
            "case": case_reference,
            "types": codes,
            "purpose": purpose,
        },
    )
    return sub


@action
def end_subscription(sub: Subscription, reason: str, *, actor: Actor) -> Subscription:
    """End a subscription (by its owner, an administrator, or when the representation ends)."""
    if (
        not actor.is_system
        and sub.subscriber_id != actor.user_id
        and not (
            actor.scopes is None
            and actor.has_role("agency_admin")
            and actor.agency_id == sub.agency_id
        )
    ):
        raise NotFound(f"No subscription {sub.pk}.")
    if sub.ended_at is not None:
        return sub
    sub.ended_at = timezone.now()
    sub.end_reason = (reason or "ended")[:200]
    sub.save(update_fields=["ended_at", "end_reason"])
    audit(
        actor,
        AuditAction.EXCHANGE_UNSUBSCRIBED,
        obj=sub,
        agency_id=sub.agency_id,
        details={"reason": sub.end_reason},
    )
    return sub


# --- delivery ---------------------------------------------------------------------------------


@action
def put_in_inbox(notification_id: int, *, actor: Actor) -> Notification | None:
    """Put a notification in its recipient's inbox. Idempotent: a second delivery of the same
    notification (a worker killed after delivering, then retried) changes nothing."""
    notification: Notification | None = (
        Notification.objects.select_for_update()
        .select_related("event")
        .filter(pk=notification_id)
        .first()
    )
    if notification is None or notification.delivered_at is not None:
        return None
    notification.delivered_at = timezone.now()
    notification.save(update_fields=["delivered_at"])
    latency = notification.delivered_at - notification.event.occurred_at
    audit(
        actor,
        AuditAction.EXCHANGE_DELIVERED,
        obj=notification,
        agency_id=notification.agency_id,
        details={
            "event": notification.event_id,
            "channel": "in_app",
            "latency_seconds": round(latency.total_seconds(), 3),
        },
    )
    return notification


@action
def mark_emailed(notification_id: int, *, actor: Actor) -> None:
    """Note that the e-mail copy went out, so a retry does not send it again."""
    Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).update(
        emailed_at=timezone.now()
    )


@action
def defer_email(notification_id: int, until: datetime, *, actor: Actor) -> None:
    """The e-mail copy waits for the end of the recipient's quiet hours."""
    Notification.objects.filter(pk=notification_id).update(next_attempt_at=until)


@action
def complete_delivery(notification_id: int, *, actor: Actor) -> None:
    """Every channel the recipient asked for is done."""
    Notification.objects.filter(pk=notification_id).exclude(status=DeliveryStatus.DELIVERED).update(
        status=DeliveryStatus.DELIVERED, attempts=F("attempts") + 1, last_error=""
    )


@action
def record_failure(notification_id: int, error: str, *, actor: Actor) -> Notification | None:
    """Count a failed attempt: retry later with exponential backoff, or dead-letter it."""
    notification: Notification | None = (
        Notification.objects.select_for_update().filter(pk=notification_id).first()
    )
    if notification is None or notification.status == DeliveryStatus.DELIVERED:
        return None
    notification.attempts += 1
    notification.last_error = error[:300]
    if notification.attempts >= MAX_ATTEMPTS:
        notification.status = DeliveryStatus.DEAD
        notification.next_attempt_at = None
        audit(
            actor,
            AuditAction.EXCHANGE_DEAD_LETTERED,
            obj=notification,
            outcome=Outcome.FAILURE,
            agency_id=notification.agency_id,
            details={"attempts": notification.attempts, "error": notification.last_error},
        )
    else:
        notification.status = DeliveryStatus.RETRYING
        notification.next_attempt_at = timezone.now() + notification.backoff()
    notification.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
    return notification


@action
def replay(notification: Notification, *, actor: Actor) -> Notification:
    """An administrator sends a dead letter again (after fixing what made it fail)."""
    if actor.scopes is not None or not (
        actor.is_system
        or (actor.has_role("agency_admin") and actor.agency_id == notification.agency_id)
    ):
        raise NotFound(f"No notification {notification.pk}.")
    if notification.status != DeliveryStatus.DEAD:
        raise ActionRefused("Only dead letters are replayed.")
    from accord.exchange.tasks import deliver_notification

    notification.status = DeliveryStatus.PENDING
    notification.attempts = 0
    notification.next_attempt_at = None
    notification.save(update_fields=["status", "attempts", "next_attempt_at"])
    deliver_notification.enqueue(notification.pk)
    audit(actor, AuditAction.EXCHANGE_REPLAYED, obj=notification, agency_id=notification.agency_id)
    return notification


@action
def mark_read(notifications: list[Notification], *, actor: Actor) -> int:
    """Mark your own notifications read (not audited: reading one's inbox changes no data
    anyone else relies on)."""
    ids = [n.pk for n in notifications if n.recipient_id == actor.user_id and n.read_at is None]
    return Notification.objects.filter(pk__in=ids).update(read_at=timezone.now())


@action
def set_preferences(
    *, actor: Actor, email: bool, quiet_from: time | None, quiet_until: time | None
) -> NotificationPreference:
    """Your own notification preferences."""
    if actor.user_id is None or actor.scopes is not None:
        raise PermissionDenied("Only people have notification preferences.")
    if (quiet_from is None) != (quiet_until is None):
        raise InvalidInput(
            "Quiet hours need a start and an end.",
            errors=[
                {
                    "field": "quiet_until" if quiet_until is None else "quiet_from",
                    "reason": "required with the other",
                }
            ],
        )
    pref, _ = NotificationPreference.objects.update_or_create(
        user_id=actor.user_id,
        defaults={"email": email, "quiet_from": quiet_from, "quiet_until": quiet_until},
    )
    return pref


@action
def read_feed(purpose: str, after: int, limit: int, *, actor: Actor) -> FeedPage:
    """Read the event feed after a cursor. The disclosures of what is returned and one audit
    row are written in the same transaction (the accounting of disclosures)."""
    if not actor.has_scope("events:read"):
        raise PermissionDenied("This token lacks the scope events:read.")
    if purpose not in Purpose.values:
        raise InvalidInput("Unknown purpose.", errors=[{"field": "purpose", "reason": "unknown"}])
    page = entitled_events(actor, purpose, after, limit)
    decisions = [d for item in page.items for d in item.decisions]
    record_disclosures(decisions, actor=actor)
    audit(
        actor,
        AuditAction.EXCHANGE_FEED_READ,
        object_type="exchange.event",
        agency_id=actor.agency_id,
        details={
            "after": after,
            "returned": [item.event.pk for item in page.items][:200],
            "purpose": purpose,
        },
    )
    return page


@action
def revalidate_subscriptions(*, actor: Actor) -> dict[str, int]:
    """Bring subscriptions in line with the representation: subscribe staff assigned to open
    cases, end subscriptions whose assignment ended or case closed, and end those of staff
    who left the agency or were deactivated."""
    from accord.exchange.representation import assignment_changes, departed

    to_create, to_end, to_fill = assignment_changes()
    for sub in to_fill:
        sub.save(update_fields=["master"])
    ended = 0
    for sub in to_end:
        end_subscription(sub, "assignment ended or case closed", actor=actor)
        ended += 1
    for sub in departed():
        end_subscription(sub, "subscriber no longer with the agency", actor=actor)
        ended += 1
    for sub in to_create:
        sub.save()
        audit(
            actor,
            AuditAction.EXCHANGE_SUBSCRIBED,
            obj=sub,
            agency_id=sub.agency_id,
            details={"origin": "assignment", "case": sub.case_reference, "master": sub.master_id},
        )
    return {"created": len(to_create), "ended": ended}


# --- webhooks ---------------------------------------------------------------------------------


def endpoint_actor(endpoint: WebhookEndpoint) -> Actor:
    """The receiving system as the policy sees it: its agency, no roles, read scope only."""
    agency = endpoint.agency
    return Actor(
        label=f"webhook:{endpoint.pk}",
        agency_id=agency.pk,
        attributes={"agency_kind": agency.kind, "agency_suspended": agency.is_suspended},
        scopes=frozenset({"events:read"}),
    )


def _route_webhooks(event: Event, actor: Actor) -> None:
    from accord.exchange.tasks import deliver_webhook

    endpoints = WebhookEndpoint.objects.filter(disabled_at__isnull=True).select_related("agency")
    for endpoint in endpoints:
        if not endpoint.covers(event.event_type.code):
            continue
        receiver = endpoint_actor(endpoint).within(actor.request_id, actor.source_ip)
        if endpoint.agency_id == event.source_agency_id:
            delivery = WebhookDelivery.objects.create(
                endpoint=endpoint, event=event, explanation="the agency's own event"
            )
            deliver_webhook.enqueue(delivery.pk)
            continue
        key = client_key_for(event, endpoint.agency_id)
        resources = [
            Resource(event.source_agency_id, key, c, ref=f"exchange.event:{event.pk}")
            for c in event.event_type.categories
        ]
        decisions = decide_many(receiver, PolicyAction.RECEIVE_COPY, resources, endpoint.purpose)
        if not decisions or not all(d.allowed for d in decisions):
            audit(
                actor,
                AuditAction.EXCHANGE_EVENT_REFUSED,
                obj=event,
                outcome=Outcome.DENIED,
                agency_id=event.source_agency_id,
                details={
                    "webhook": endpoint.pk,
                    "recipient_agency": endpoint.agency_id,
                    "purpose": endpoint.purpose,
                    "reason": "; ".join(d.explanation() for d in decisions if not d.allowed)[:500],
                },
            )
            continue
        basis = "; ".join(dict.fromkeys(d.explanation() for d in decisions))[:2000]
        delivery = WebhookDelivery.objects.create(endpoint=endpoint, event=event, explanation=basis)
        record_disclosures(decisions, actor=receiver)
        deliver_webhook.enqueue(delivery.pk)


def _require_agency_admin(actor: Actor, agency_id: int) -> None:
    if actor.is_system:
        return
    if (
        actor.scopes is not None
        or not actor.has_role("agency_admin")
        or actor.agency_id != agency_id
    ):
        raise PermissionDenied("Only an administrator of the agency manages its webhooks.")


@action
def create_webhook(
    agency: Agency, url: str, purpose: str, event_types: list[str], *, actor: Actor
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint of the agency's system; the secret is returned once."""
    _require_agency_admin(actor, agency.pk)
    if purpose not in Purpose.values:
        raise InvalidInput("Unknown purpose.", errors=[{"field": "purpose", "reason": "unknown"}])
    from accord.exchange.webhooks import plain_http_allowed

    schemes = ("https://", "http://") if plain_http_allowed() else ("https://",)
    if not url.startswith(schemes) or len(url) > 500:
        raise InvalidInput(
            "An http(s) address is needed.",
            errors=[{"field": "url", "reason": "an https address"}],
        )
    codes = _check_types(event_types)
    secret = new_secret()
    endpoint = WebhookEndpoint(
        agency=agency, url=url, purpose=purpose, event_types=codes, uid=uuid.uuid4()
    )
    endpoint.secret_sealed = seal(secret, str(endpoint.uid))
    endpoint.save()
    audit(
        actor,
        AuditAction.EXCHANGE_WEBHOOK_CHANGED,
        obj=endpoint,
        agency_id=agency.pk,
        details={"created": url, "purpose": purpose, "types": codes},
    )
    return endpoint, secret


@action
def rotate_webhook_secret(
    endpoint: WebhookEndpoint, *, actor: Actor, overlap_hours: int = 24
) -> str:
    """A new secret; the previous one keeps signing alongside for ``overlap_hours``."""
    _require_agency_admin(actor, endpoint.agency_id)
    secret = new_secret()
    endpoint.previous_secret_sealed = endpoint.secret_sealed
    endpoint.previous_valid_until = timezone.now() + timedelta(hours=overlap_hours)
    endpoint.secret_sealed = seal(secret, str(endpoint.uid))
    endpoint.save(update_fields=["previous_secret_sealed", "previous_valid_until", "secret_sealed"])
    audit(
        actor,
        AuditAction.EXCHANGE_WEBHOOK_CHANGED,
        obj=endpoint,
        agency_id=endpoint.agency_id,
        details={"rotated": True},
    )
    return secret


@action
def disable_webhook(endpoint: WebhookEndpoint, *, actor: Actor) -> WebhookEndpoint:
    """Stop sending to an endpoint (deliveries already queued are not sent)."""
    _require_agency_admin(actor, endpoint.agency_id)
    if endpoint.disabled_at is None:
        endpoint.disabled_at = timezone.now()
        endpoint.save(update_fields=["disabled_at"])
        audit(
            actor,
            AuditAction.EXCHANGE_WEBHOOK_CHANGED,
            obj=endpoint,
            agency_id=endpoint.agency_id,
            details={"disabled": True},
        )
    return endpoint


@action
def webhook_attempted(delivery_id: int, error: str, *, actor: Actor) -> WebhookDelivery | None:
    """Record one attempt: delivered (error empty), retry later, or dead-letter."""
    delivery: WebhookDelivery | None = (
        WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
    )
    if delivery is None or delivery.status == DeliveryStatus.DELIVERED:
        return None
    delivery.attempts += 1
    delivery.last_error = error[:300]
    if not error:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = timezone.now()
        delivery.next_attempt_at = None
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.DEAD
        delivery.next_attempt_at = None
        audit(
            actor,
            AuditAction.EXCHANGE_DEAD_LETTERED,
            obj=delivery,
            outcome=Outcome.FAILURE,
            details={"attempts": delivery.attempts, "error": delivery.last_error},
        )
    else:
        delivery.status = DeliveryStatus.RETRYING
        delivery.next_attempt_at = timezone.now() + delivery.backoff()
    delivery.save(
        update_fields=["attempts", "last_error", "status", "delivered_at", "next_attempt_at"]
    )
    return delivery


@action
def replay_webhook(delivery: WebhookDelivery, *, actor: Actor) -> WebhookDelivery:
    """An administrator of the receiving agency sends a dead webhook delivery again."""
    _require_agency_admin(actor, delivery.endpoint.agency_id)
    if delivery.status != DeliveryStatus.DEAD:
        raise ActionRefused("Only dead letters are replayed.")
    from accord.exchange.tasks import deliver_webhook

    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = None
    delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
    deliver_webhook.enqueue(delivery.pk)
    audit(
        actor,
        AuditAction.EXCHANGE_REPLAYED,
        obj=delivery,
        agency_id=delivery.endpoint.agency_id,
    )
    return delivery
