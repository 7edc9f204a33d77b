"""The exchange API: ``/api/v1/events`` (post, batch, poll) and ``/api/v1/exchange``
(catalogue, subscriptions, notifications, dead letters).

Agency systems post with ``events:write`` and poll with ``events:read``. Polling uses an
ascending ``after`` cursor (the last event id received) rather than the opaque descending
cursor of other lists, because a feed reader wants "what is new since I last asked".
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from accord.core.access import Purpose, access_object
from accord.core.api import ERRORS, AccordCursorPagination, StrictSchema, actor_of, require_scope
from accord.core.errors import AccordError, NotFound, PermissionDenied
from accord.directory.models import Agency
from accord.exchange import actions
from accord.exchange.models import (
    DeliveryStatus,
    EmailMode,
    EventType,
    Notification,
    NotificationPreference,
    Subscription,
    TextMessage,
    WebhookEndpoint,
)
from accord.people.models import PersonRecord

events_router = Router(tags=["exchange"])
router = Router(tags=["exchange"])

MAX_BATCH = 500


# --- schemas ----------------------------------------------------------------------------------


class EventIn(StrictSchema):
    event_type: str = Field(description="A catalogue code, e.g. custody.booked")
    schema_version: int | None = Field(None, description="Default: the latest version")
    idempotency_key: str = Field(description="Unique per sending agency; a retry reuses it")
    occurred_at: datetime = Field(description="When it happened, with a time zone")
    payload: dict[str, Any]


class BatchIn(StrictSchema):
    events: list[EventIn] = Field(max_length=MAX_BATCH)


class Receipt(Schema):
    id: int
    event_type: str
    version: int
    idempotency_key: str
    occurred_at: datetime
    received_at: datetime
    out_of_order: bool
    created: bool = Field(description="False when this was a retry of an earlier post")


class FieldProblem(Schema):
    field: str
    reason: str


class BatchItem(Schema):
    index: int
    status: str = Field(description="created, duplicate or rejected")
    receipt: Receipt | None = None
    detail: str = ""
    errors: list[FieldProblem] = []


class BatchOut(Schema):
    created: int
    duplicates: int
    rejected: int
    items: list[BatchItem]


class FeedEvent(Schema):
    id: int
    source_agency: str
    event_type: str
    version: int
    occurred_at: datetime
    received_at: datetime
    case_reference: str
    out_of_order: bool
    payload: dict[str, Any]
    basis: str = Field(description="The agreement clauses (or own agency) allowing this read")


class FeedOut(Schema):
    items: list[FeedEvent]
    next_after: int = Field(description="Pass as after= next time")


class FeedQuery(Schema):
    after: int = Field(0, ge=0)
    limit: int = Field(100, ge=1, le=500)
    purpose: Purpose = Purpose.OPERATIONS


class EventTypeOut(Schema):
    code: str
    version: int
    title: str
    family: str
    categories: list[str]
    payload_schema: dict[str, Any] = Field(alias="schema")


class SubscriptionIn(StrictSchema):
    person_record: int | None = Field(None, description="A person record your agency may see")
    case_reference: str = ""
    event_types: list[str] = Field(default_factory=list, description="Empty: every type")
    purpose: Purpose | None = Field(
        None,
        description="Default: your agency kind's (a defender: defense_representation; "
        "a service provider: treatment)",
    )


class SubscriptionOut(Schema):
    id: int
    label: str
    person_id: int | None = Field(None, alias="master_id")
    case_reference: str
    event_types: list[str]
    purpose: str
    origin: str
    started_at: datetime
    ended_at: datetime | None
    end_reason: str


class EndIn(StrictSchema):
    reason: str = "ended by the subscriber"


class NotificationOut(Schema):
    id: int
    event_id: int
    event_type: str = Field(alias="event.event_type.code")
    title: str = Field(alias="event.event_type.title")
    occurred_at: datetime = Field(alias="event.occurred_at")
    explanation: str
    status: DeliveryStatus
    attempts: int
    last_error: str
    created_at: datetime
    delivered_at: datetime | None
    read_at: datetime | None


def _receipt(result: actions.Ingested) -> Receipt:
    event = result.event
    return Receipt(
        id=event.pk,
        event_type=event.event_type.code,
        version=event.event_type.version,
        idempotency_key=event.idempotency_key,
        occurred_at=event.occurred_at,
        received_at=event.received_at,
        out_of_order=event.out_of_order,
        created=result.created,
    )


def _sender(request: HttpRequest) -> tuple[Any, Agency]:
    actor = require_scope(request, "events:write")
    if actor.agency_id is None:
        raise PermissionDenied("Only agency systems and staff post events.")
    return actor, Agency.objects.get(pk=actor.agency_id)


def _ingest(actor: Any, agency: Agency, item: EventIn) -> actions.Ingested:
    return actions.ingest_event(
        agency,
        item.event_type,
        item.payload,
        item.idempotency_key,
        item.occurred_at,
        actor=actor,
        schema_version=item.schema_version,
    )


# --- /events ----------------------------------------------------------------------------------


@events_router.post("", response={200: Receipt, 201: Receipt, **ERRORS}, operation_id="post_event")
def post_event(request: HttpRequest, body: EventIn) -> tuple[int, Receipt]:
    """Post one event. 201 when created; 200 with the first receipt when the idempotency key
    was already used for the same event; 409 when it was used for a different one."""
    actor, agency = _sender(request)
    result = _ingest(actor, agency, body)
    return (201 if result.created else 200), _receipt(result)


@events_router.post("/batch", response={200: BatchOut, **ERRORS}, operation_id="post_events")
def post_events(request: HttpRequest, body: BatchIn) -> BatchOut:
    """Post up to 500 events; each is accepted (created, or a duplicate of its key's first
    event) or rejected on its own, in one transaction for the batch."""
    actor, agency = _sender(request)
    posts = [
        actions.Post(
            event_type=item.event_type,
            payload=item.payload,
            idempotency_key=item.idempotency_key,
            occurred_at=item.occurred_at,
            schema_version=item.schema_version,
        )
        for item in body.events
    ]
    items: list[BatchItem] = []
    for index, result in enumerate(actions.ingest_events(agency, posts, actor=actor)):
        if isinstance(result, AccordError):
            errors = [
                FieldProblem(field=e["field"], reason=e["reason"])
                for e in getattr(result, "errors", [])
            ]
            items.append(
                BatchItem(index=index, status="rejected", detail=str(result.detail), errors=errors)
            )
            continue
        status = "created" if result.created else "duplicate"
        items.append(BatchItem(index=index, status=status, receipt=_receipt(result)))
    count = {
        s: sum(1 for i in items if i.status == s) for s in ("created", "duplicate", "rejected")
    }
    return BatchOut(
        created=count["created"],
        duplicates=count["duplicate"],
        rejected=count["rejected"],
        items=items,
    )


@events_router.get("", response={200: FeedOut, **ERRORS}, operation_id="poll_events")
def poll_events(request: HttpRequest, query: Query[FeedQuery]) -> FeedOut:
    """The events the caller's agency is entitled to, after the cursor, oldest first."""
    actor = require_scope(request, "events:read")
    page = actions.read_feed(query.purpose, query.after, query.limit, actor=actor)
    return FeedOut(
        items=[
            FeedEvent(
                id=i.event.pk,
                source_agency=i.event.source_agency.short_name,
                event_type=i.event.event_type.code,
                version=i.event.event_type.version,
                occurred_at=i.event.occurred_at,
                received_at=i.event.received_at,
                case_reference=i.event.case_reference,
                out_of_order=i.event.out_of_order,
                payload=i.event.payload,
                basis=i.basis,
            )
            for i in page.items
        ],
        next_after=page.next_after,
    )


# --- /exchange --------------------------------------------------------------------------------


@router.get("/event-types", response={200: list[EventTypeOut], **ERRORS})
def list_event_types(request: HttpRequest) -> QuerySet[EventType]:
    """The event catalogue: codes, versions, JSON schemas, data categories."""
    actor_of(request)
    return actions.event_types()


def _person_only(request: HttpRequest) -> Any:
    actor = actor_of(request)
    if actor.scopes is not None:
        raise PermissionDenied("Subscriptions and notifications belong to people, not tokens.")
    return actor


@router.get("/subscriptions", response={200: list[SubscriptionOut], **ERRORS})
@paginate(AccordCursorPagination)
def list_subscriptions(request: HttpRequest) -> QuerySet[Subscription]:
    """Your subscriptions (an agency administrator: the agency's)."""
    return Subscription.objects.visible_to(_person_only(request))


@router.post("/subscriptions", response={201: SubscriptionOut, **ERRORS})
def create_subscription(request: HttpRequest, body: SubscriptionIn) -> tuple[int, Subscription]:
    """Subscribe to a person or a case for some event types."""
    actor = _person_only(request)
    record = None
    if body.person_record is not None:
        record = access_object(PersonRecord.objects, actor, body.person_record)
    sub = actions.subscribe(
        actor=actor,
        person_record=record,
        case_reference=body.case_reference,
        event_types=body.event_types,
        purpose=body.purpose or "",
    )
    return 201, sub


@router.post("/subscriptions/{sub_id}/end", response={200: SubscriptionOut, **ERRORS})
def end_subscription(request: HttpRequest, sub_id: int, body: EndIn) -> Subscription:
    """End a subscription."""
    actor = _person_only(request)
    sub = access_object(Subscription.objects, actor, sub_id)
    return actions.end_subscription(sub, body.reason, actor=actor)


@router.get("/notifications", response={200: list[NotificationOut], **ERRORS})
@paginate(AccordCursorPagination)
def list_notifications(request: HttpRequest, unread: bool = False) -> QuerySet[Notification]:
    """Your delivered notifications, newest first."""
    actor = _person_only(request)
    rows = Notification.objects.filter(recipient_id=actor.user_id, delivered_at__isnull=False)
    if unread:
        rows = rows.filter(read_at__isnull=True)
    return rows.select_related("event__event_type")


@router.post("/notifications/{notification_id}/read", response={200: NotificationOut, **ERRORS})
def read_notification(request: HttpRequest, notification_id: int) -> Notification:
    """Mark one of your notifications read."""
    actor = _person_only(request)
    rows = Notification.objects.filter(recipient_id=actor.user_id).select_related(
        "event__event_type"
    )
    notification: Notification = access_object(rows, actor, notification_id)
    actions.mark_read([notification], actor=actor)
    notification.refresh_from_db()
    return notification


@router.get("/dead-letters", response={200: list[NotificationOut], **ERRORS})
@paginate(AccordCursorPagination)
def dead_letters(request: HttpRequest) -> QuerySet[Notification]:
    """Notifications of your agency the worker gave up on (agency administrators)."""
    actor = _person_only(request)
    if not actor.has_role("agency_admin"):
        raise PermissionDenied("Agency administrators see dead letters.")
    return Notification.objects.filter(
        agency_id=actor.agency_id, status=DeliveryStatus.DEAD
    ).select_related("event__event_type")


@router.post("/notifications/{notification_id}/replay", response={200: NotificationOut, **ERRORS})
def replay(request: HttpRequest, notification_id: int) -> Notification:
    """Send a dead letter again (agency administrators)."""
    actor = _person_only(request)
    rows = Notification.objects.filter(agency_id=actor.agency_id).select_related(
        "event__event_type"
    )
    notification: Notification = access_object(rows, actor, notification_id)
    return actions.replay(notification, actor=actor)


class TextMessageOut(Schema):
    id: int
    notification_id: int
    to: str = Field(alias="to_masked", description="The number's last four digits")
    status: DeliveryStatus
    attempts: int
    last_error: str = Field(alias="error")
    claimed_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None


def _admin_texts(request: HttpRequest) -> tuple[Any, QuerySet[TextMessage]]:
    actor = _person_only(request)
    if not actor.has_role("agency_admin"):
        raise PermissionDenied("Agency administrators see dead letters.")
    return actor, TextMessage.objects.of_own_agency(actor).select_related("notification")


@router.get("/dead-letters/texts", response={200: list[TextMessageOut], **ERRORS})
@paginate(AccordCursorPagination)
def dead_texts(request: HttpRequest) -> QuerySet[TextMessage]:
    """Custody texts to your agency's staff the gateway refused after every retry (agency
    administrators)."""
    _, rows = _admin_texts(request)
    return rows.filter(status=DeliveryStatus.DEAD)


@router.post("/texts/{text_id}/replay", response={200: TextMessageOut, **ERRORS})
def replay_text(request: HttpRequest, text_id: int) -> TextMessage:
    """Send a dead text message again (agency administrators); never one already sent."""
    actor, rows = _admin_texts(request)
    text: TextMessage = access_object(rows, actor, text_id)
    return actions.replay_text(text, actor=actor)


# --- webhooks ---------------------------------------------------------------------------------


class WebhookIn(StrictSchema):
    url: str = Field(max_length=500, description="https address of the agency's receiver")
    purpose: Purpose
    event_types: list[str] = Field(default_factory=list, description="Empty: every type")


class WebhookOut(Schema):
    id: int
    url: str
    purpose: str
    event_types: list[str]
    created_at: datetime
    disabled_at: datetime | None
    previous_valid_until: datetime | None


class WebhookSecretOut(Schema):
    endpoint: WebhookOut
    secret: str = Field(description="Shown once: store it in the receiving system")


def _admin(request: HttpRequest) -> Any:
    actor = _person_only(request)
    if not actor.has_role("agency_admin") or actor.agency_id is None:
        raise PermissionDenied("Agency administrators manage webhooks.")
    return actor


def _endpoints(actor: Any) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(agency_id=actor.agency_id)


@router.get("/webhooks", response={200: list[WebhookOut], **ERRORS})
@paginate(AccordCursorPagination)
def list_webhooks(request: HttpRequest) -> QuerySet[WebhookEndpoint]:
    """Your agency's webhook endpoints (agency administrators)."""
    return _endpoints(_admin(request))


@router.post("/webhooks", response={201: WebhookSecretOut, **ERRORS})
def create_webhook(request: HttpRequest, body: WebhookIn) -> tuple[int, WebhookSecretOut]:
    """Register an endpoint; the signing secret is in this answer only."""
    actor = _admin(request)
    agency = Agency.objects.get(pk=actor.agency_id)
    endpoint, secret = actions.create_webhook(
        agency, body.url, body.purpose, body.event_types, actor=actor
    )
    return 201, WebhookSecretOut(endpoint=WebhookOut.from_orm(endpoint), secret=secret)


@router.post("/webhooks/{endpoint_id}/rotate", response={200: WebhookSecretOut, **ERRORS})
def rotate_webhook(request: HttpRequest, endpoint_id: int) -> WebhookSecretOut:
    """A new secret; the previous one still signs (as a second v1) for 24 hours."""
    actor = _admin(request)
    endpoint = _endpoints(actor).filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound(f"No webhook {endpoint_id}.")
    secret = actions.rotate_webhook_secret(endpoint, actor=actor)
    return WebhookSecretOut(endpoint=WebhookOut.from_orm(endpoint), secret=secret)


@router.post("/webhooks/{endpoint_id}/disable", response={200: WebhookOut, **ERRORS})
def disable_webhook(request: HttpRequest, endpoint_id: int) -> WebhookEndpoint:
    """Stop sending to an endpoint."""
    actor = _admin(request)
    endpoint = _endpoints(actor).filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound(f"No webhook {endpoint_id}.")
    return actions.disable_webhook(endpoint, actor=actor)


# --- notification preferences -----------------------------------------------------------------


class NotificationPreferencesIn(StrictSchema):
    email_mode: EmailMode = Field(
        EmailMode.NONE, description="none, immediate (one e-mail each) or digest (daily)"
    )
    digest_hour: int | None = Field(
        None, ge=0, le=23, description="Hour of the daily digest, in the office's time zone"
    )
    quiet_from: time | None = None
    quiet_until: time | None = None
    phone: str = Field("", max_length=16, description="E.164, e.g. +13125550123")
    sms_custody: bool = Field(False, description="Text me (content-free) for custody events")


class NotificationPreferencesOut(Schema):
    email_mode: str
    digest_hour: int | None
    quiet_from: time | None
    quiet_until: time | None
    phone: str
    sms_custody: bool
    time_zone: str = Field(description="The office's time zone the digest hour is in")


def _preferences_out(pref: NotificationPreference | None) -> NotificationPreferencesOut:
    return NotificationPreferencesOut(
        email_mode=pref.email_mode if pref else EmailMode.NONE,
        digest_hour=pref.digest_hour if pref else None,
        quiet_from=pref.quiet_from if pref else None,
        quiet_until=pref.quiet_until if pref else None,
        phone=pref.phone if pref else "",
        sms_custody=pref.sms_custody if pref else False,
        time_zone=settings.TIME_ZONE,
    )


@router.get("/preferences", response={200: NotificationPreferencesOut, **ERRORS})
def get_preferences(request: HttpRequest) -> NotificationPreferencesOut:
    """How you are told: e-mail mode, digest hour, quiet hours, custody texts."""
    actor = _person_only(request)
    pref = NotificationPreference.objects.filter(user_id=actor.user_id).first()
    return _preferences_out(pref)


@router.put("/preferences", response={200: NotificationPreferencesOut, **ERRORS})
def put_preferences(
    request: HttpRequest, body: NotificationPreferencesIn
) -> NotificationPreferencesOut:
    """Set how you are told (every field; in-app notifications always arrive)."""
    actor = _person_only(request)
    pref = actions.set_preferences(
        actor=actor,
        email_mode=body.email_mode,
        digest_hour=body.digest_hour,
        quiet_from=body.quiet_from,
        quiet_until=body.quiet_until,
        phone=body.phone,
        sms_custody=body.sms_custody,
    )
    return _preferences_out(pref)
