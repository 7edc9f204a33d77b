"""Every change the exchange makes: ingesting events, subscribing, delivering, replaying.

:func:`ingest_event` is the transactional outbox: the event, its routing decisions, the
notifications, the disclosures, the refusals and the delivery tasks are written in one
transaction, so either all of them exist or none does.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Any

import jsonschema
from django.db import IntegrityError, transaction
from django.db.models import F, Max, QuerySet
from django.utils import timezone
from django_tasks.base import Task

from accord.audit.chain import Entry, append_many
from accord.audit.chain import append as audit
from accord.audit.codes import AuditAction, Outcome
from accord.cases.partners.tasks import apply_event_effects
from accord.core.access import Purpose, default_purpose
from accord.core.actions import action, insert_many
from accord.core.actors import SYSTEM, Actor
from accord.core.errors import (
    AccordError,
    ActionRefused,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from accord.directory.models import Agency
from accord.exchange.bulk import (
    Accepted,
    BulkResult,
    BulkRow,
    Catalogue,
    Verdict,
    check_rows,
    mark_out_of_order,
    route_chunk,
    route_webhooks,
)
from accord.exchange.feed import FeedPage, entitled_events
from accord.exchange.models import (
    E164,
    DeliveryStatus,
    Digest,
    EmailMode,
    Event,
    EventType,
    Notification,
    NotificationPreference,
    Subscription,
    SubscriptionOrigin,
    TextMessage,
    WebhookDelivery,
    WebhookEndpoint,
)
from accord.exchange.webhooks import new_secret, seal
from accord.people.access import PEOPLE_WRITE_SCOPE
from accord.people.bulk_linkage import LinkageIndex
from accord.people.models import MasterPerson, PersonLink, PersonRecord
from accord.policy.actions import record_disclosures

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
    """The type in force with this code: the version asked for, else the latest. One query
    (the emptied-catalogue check of :func:`event_types` only when nothing is found)."""
    rows = EventType.objects.filter(retired=False, code=code)
    if version is not None:
        rows = rows.filter(version=version)
    found: EventType | None = rows.order_by("-version").first()
    if found is None and event_types().filter(code=code).exists():
        found = rows.order_by("-version").first()  # the catalogue was just reloaded
    if found is None:
        raise InvalidInput(
            f"Unknown event type {code!r}.",
            errors=[{"field": "event_type", "reason": "not in the event catalogue"}],
        )
    return found


_checkers: dict[tuple[int, str, int], jsonschema.protocols.Validator] = {}


def _checker_for(event_type: EventType) -> jsonschema.protocols.Validator:
    """One validator per type row, built once per process: a shipped schema never changes
    (a changed one is a new row with the next version)."""
    key = (event_type.pk, event_type.code, event_type.version)
    checker = _checkers.get(key)
    if checker is None:
        checker = _checkers[key] = _CHECKER(
            event_type.schema, format_checker=_CHECKER.FORMAT_CHECKER
        )
    return checker


def validate_payload(event_type: EventType, payload: Any) -> None:
    """422 naming every failing field, e.g. ``payload.subject.last_name``."""
    checker = _checker_for(event_type)
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

    subject = _subject_values(payload)
    source_id = subject.pop("source_id")
    try:
        record = record_person(agency, source_id, actor=_people_writer(actor), **subject)
    except InvalidInput as exc:
        raise _subject_refused(exc) from exc
    master_id = PersonLink.objects.filter(record=record).values_list("master_id", flat=True).first()
    return record, master_id


def _subject_values(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload's subject as the people app records it (aliases as "A B; C D")."""
    subject = dict(payload["subject"])
    aliases = subject.pop("aliases", None)
    if aliases:
        subject["aliases"] = "; ".join(aliases)
    return subject


def _people_writer(actor: Actor) -> Actor:
    """Posting an event under events:write includes recording who it is about."""
    if actor.scopes is None:
        return actor
    return replace(actor, scopes=actor.scopes | {PEOPLE_WRITE_SCOPE})


def _subject_refused(exc: InvalidInput) -> InvalidInput:
    errors = [{**e, "field": f"payload.subject.{e['field']}"} for e in exc.errors]
    return InvalidInput("The subject of the event is not valid.", errors=errors)


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
    key = _key_of(idempotency_key)
    kind = event_type_for(event_type, schema_version)
    digest = _digest(payload)
    first = Event.objects.filter(source_agency=source_agency, idempotency_key=key).first()
    if first is not None:
        return _replayed(first, digest)
    _check_time(occurred_at)
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
    apply_event_effects.enqueue(event.pk)
    return Ingested(event, created=True)


@dataclass(frozen=True)
class Post:
    """One event as an agency system posts it: an item of :func:`ingest_events`."""

    event_type: str
    payload: Any
    idempotency_key: str
    occurred_at: datetime
    schema_version: int | None = None


@action
def ingest_events(
    source_agency: Agency, posts: Sequence[Post], *, actor: Actor
) -> list[Ingested | AccordError]:
    """Accept a batch of events as :func:`ingest_event` accepts each, in one transaction:
    per item the event (created, or the first one for a repeated key) or why it was
    refused, the good items accepted whatever the bad ones. The work is done once per
    batch: one idempotency query, the subjects recorded together (new ones linked in one
    scoring call), one subscription query, one policy snapshot, the notifications,
    disclosures and audit rows written together and one delivery task."""
    from accord.people.actions import record_people

    _may_send(actor, source_agency)
    results: dict[int, Ingested | AccordError] = {}
    fresh, repeats = _screen(source_agency, posts, results)
    recorded = record_people(
        source_agency,
        [_subject_values(posts[index].payload) for index, _, _, _ in fresh],
        actor=_people_writer(actor),
    )
    subjects: list[tuple[int, str, EventType, str, PersonRecord]] = []
    for (index, key, kind, digest), record in zip(fresh, recorded, strict=True):
        if isinstance(record, InvalidInput):
            results[index] = _subject_refused(record)
        else:
            subjects.append((index, key, kind, digest, record))
    masters = dict(
        PersonLink.objects.filter(record_id__in=[s[4].pk for s in subjects]).values_list(
            "record_id", "master_id"
        )
    )
    events = [
        Event(
            source_agency=source_agency,
            event_type=kind,
            idempotency_key=key,
            payload=posts[index].payload,
            payload_sha256=digest,
            occurred_at=posts[index].occurred_at,
            subject_record=record,
            master_id=masters.get(record.pk),
            case_reference=str(posts[index].payload.get("case_reference") or ""),
            received_by=actor.label[:150],
        )
        for index, key, kind, digest, record in subjects
    ]
    _mark_out_of_order(events)
    created = _insert(events)
    entries = []
    for (index, _key, _kind, digest, _record), event in zip(subjects, events, strict=True):
        if event.pk is None:  # a concurrent post of the same key won the race
            winner = Event.objects.get(
                source_agency=source_agency, idempotency_key=event.idempotency_key
            )
            results[index] = _replay_result(winner, digest)
            continue
        results[index] = Ingested(event, created=True)
        entries.append(_ingested_entry(event, actor))
    append_many(entries)
    _route_many(created, actor)
    _enqueue_each(apply_event_effects, [event.pk for event in created])  # as ingest_event
    if repeats:
        # Decided now, as they would be had they come after the batch: a duplicate of the
        # event just created, a conflicting reuse of its key, or new if it was refused.
        again = ingest_events(source_agency, [posts[i] for i in repeats], actor=actor)
        results.update(zip(repeats, again, strict=True))
    return [results[index] for index in range(len(posts))]


def _screen(
    source_agency: Agency, posts: Sequence[Post], results: dict[int, Ingested | AccordError]
) -> tuple[list[tuple[int, str, EventType, str]], list[int]]:
    """Check a batch in :func:`ingest_event`'s order (key, type, first use of the key,
    time, payload), putting the refusals and repeated keys' first events in ``results``.
    Returns the new items (index, key, type, digest) and the items repeating a key an
    earlier new item of the batch is creating."""
    checked: list[tuple[int, str, EventType, str]] = []
    kinds: dict[tuple[str, int | None], EventType] = {}
    for index, post in enumerate(posts):
        try:
            key = _key_of(post.idempotency_key)
            asked = (post.event_type, post.schema_version)
            kind = kinds.get(asked) or kinds.setdefault(asked, event_type_for(*asked))
        except AccordError as exc:
            results[index] = exc
            continue
        checked.append((index, key, kind, _digest(post.payload)))
    firsts = {
        e.idempotency_key: e
        for e in Event.objects.filter(
            source_agency=source_agency, idempotency_key__in=[key for _, key, _, _ in checked]
        ).select_related("event_type")
    }
    fresh: list[tuple[int, str, EventType, str]] = []
    creating: set[str] = set()
    repeats: list[int] = []
    for index, key, kind, digest in checked:
        if key in firsts:
            results[index] = _replay_result(firsts[key], digest)
            continue
        if key in creating:
            repeats.append(index)
            continue
        try:
            _check_time(posts[index].occurred_at)
            validate_payload(kind, posts[index].payload)
        except AccordError as exc:
            results[index] = exc
            continue
        creating.add(key)
        fresh.append((index, key, kind, digest))
    return fresh, repeats


def _enqueue_each(task: Task[[int], Any], arguments: Sequence[int]) -> None:
    """Enqueue ``task`` once per argument, as ``task.enqueue`` would, in one INSERT on the
    database backend (other backends: one by one). A batch's per-event tasks would
    otherwise cost a round trip each (a third of a batch's time on PostgreSQL, measured)."""
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult, get_date_max

    backend = task.get_backend()
    if not isinstance(backend, DatabaseBackend):
        for argument in arguments:
            task.enqueue(argument)
        return
    backend.validate_task(task)
    DBTaskResult.objects.bulk_create(
        [
            DBTaskResult(
                args_kwargs={"args": [argument], "kwargs": {}},
                priority=task.priority,
                task_path=task.module_path,
                queue_name=task.queue_name,
                # What the backend's pre_save handler sets, which bulk_create does not send.
                run_after=task.run_after or get_date_max(),
                backend_name=backend.alias,
            )
            for argument in arguments
        ]
    )


def _replay_result(first: Event, digest: str) -> Ingested | AccordError:
    try:
        return _replayed(first, digest)
    except ActionRefused as exc:
        return exc


def _ingested_entry(event: Event, actor: Actor) -> Entry:
    kind = event.event_type
    return Entry(
        actor,
        AuditAction.EXCHANGE_EVENT_INGESTED,
        obj=event,
        agency_id=event.source_agency_id,
        details={
            "event_type": kind.code,
            "version": kind.version,
            "idempotency_key": event.idempotency_key,
            "occurred_at": event.occurred_at.isoformat(),
            "out_of_order": event.out_of_order,
        },
    )


def _mark_out_of_order(events: Sequence[Event]) -> None:
    """Set ``out_of_order`` on each new event as :func:`_out_of_order` would, had they been
    posted one after the other: older than an event of its family already stored, or
    earlier in the batch, for the same person (or, without one, the same case)."""
    families = {e.event_type.family for e in events}
    masters = {e.master_id for e in events if e.master_id is not None}
    cases = {e.case_reference for e in events if e.master_id is None and e.case_reference}
    latest: dict[tuple[str, str, Any], datetime] = {}
    stored = Event.objects.filter(event_type__family__in=families)
    if masters:
        for family, master, when in (
            stored.filter(master_id__in=masters)
            .values("event_type__family", "master_id")
            .annotate(last=Max("occurred_at"))
            .values_list("event_type__family", "master_id", "last")
        ):
            latest[(family, "person", master)] = when
    if cases:
        for family, case, when in (
            stored.filter(case_reference__in=cases)
            .values("event_type__family", "case_reference")
            .annotate(last=Max("occurred_at"))
            .values_list("event_type__family", "case_reference", "last")
        ):
            latest[(family, "case", case)] = when
    for event in events:
        family = event.event_type.family
        mine: tuple[str, str, Any]
        if event.master_id is not None:
            mine = (family, "person", event.master_id)
        elif event.case_reference:
            mine = (family, "case", event.case_reference)
        else:
            continue
        event.out_of_order = latest.get(mine, event.occurred_at) > event.occurred_at
        stored_as: tuple[tuple[str, str, Any], ...] = (
            (family, "person", event.master_id),
            (family, "case", event.case_reference),
        )
        for key in stored_as:
            if key[2] and (key not in latest or latest[key] < event.occurred_at):
                latest[key] = event.occurred_at


def _insert(events: list[Event]) -> list[Event]:
    """Insert the events at once; if a concurrent post took one of their keys (the unique
    constraint), one by one in savepoints, leaving the losers unsaved (``pk`` None)."""
    try:
        with transaction.atomic():
            return Event.objects.bulk_create(events)
    except IntegrityError:
        pass
    saved = []
    for event in events:
        event.pk = None
        event._state.adding = True
        try:
            with transaction.atomic():
                event.save()
        except IntegrityError:
            event.pk = None
            continue
        saved.append(event)
    return saved


def _key_of(idempotency_key: str) -> str:
    key = (idempotency_key or "").strip()
    if not key or len(key) > 128:
        raise InvalidInput(
            "An idempotency key is needed.",
            errors=[{"field": "idempotency_key", "reason": "1 to 128 characters"}],
        )
    return key


def _check_time(occurred_at: datetime) -> None:
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


def _replayed(first: Event, digest: str) -> Ingested:
    if first.payload_sha256 != digest:
        raise ActionRefused(
            "This idempotency key was already used for a different event; use a new key."
        )
    return Ingested(first, created=False)


def _route(event: Event, actor: Actor) -> None:
    _route_many([event], actor)


def _route_many(events: Sequence[Event], actor: Actor) -> None:
    """Route events to their subscribers and webhook endpoints, in the caller's transaction:
    the notifications, their disclosures (one row per recipient and client, naming every
    event), the delivery task (one per call) and the audit rows (routed and refused) — the
    bulk path's set-wise routing, for one event or a batch."""
    from accord.exchange.tasks import deliver_notification, deliver_notifications, deliver_webhook

    if not events:
        return
    agency = events[0].source_agency
    notifications, routed = _bulk_notify(events, agency, actor)
    deliveries, hooked = _bulk_webhooks(events, agency, actor)
    ids = [n.pk for n in notifications]
    if len(ids) == 1:
        deliver_notification.enqueue(ids[0])
    elif ids:
        deliver_notifications.enqueue(ids)
    append_many(routed + hooked)
    _enqueue_each(deliver_webhook, [d.pk for d in deliveries])


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
    purpose: str = "",
    origin: str = SubscriptionOrigin.EXPLICIT,
) -> Subscription:
    """Ask to be told about a person (one of the records your agency may see) or a case.
    Whether each event is told is still decided by the policy, event by event: a provider's
    case worker following a client's court dates is told of a hearing only under a court
    term for the purpose given, with the client's consent where the term needs it. Without
    a purpose, the one of the agency's kind (a defender: defense representation)."""
    if actor.user_id is None or actor.agency_id is None or actor.scopes is not None:
        raise PermissionDenied("Only staff members subscribe, for themselves.")
    if not actor.roles & SUBSCRIBER_ROLES:
        raise PermissionDenied("Your role does not receive event notifications.")
    purpose = purpose or default_purpose(actor)
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
def deliver_in_app(notification_ids: Sequence[int], *, actor: Actor) -> int:
    """Deliver notifications whose recipients want them in the inbox only (no preferences
    set): each put in the inbox (once, as :func:`put_in_inbox` does) and completed, all in
    one transaction with their audit rows. Returns how many reached an inbox now."""
    rows = list(
        Notification.objects.select_for_update()
        .select_related("event")
        .filter(pk__in=notification_ids)
        .exclude(status__in=[DeliveryStatus.DELIVERED, DeliveryStatus.DEAD])
        .order_by("pk")
    )
    now = timezone.now()
    fresh = [n for n in rows if n.delivered_at is None]
    for notification in fresh:
        notification.delivered_at = now
    Notification.objects.bulk_update(fresh, ["delivered_at"])
    Notification.objects.filter(pk__in=[n.pk for n in rows]).update(
        status=DeliveryStatus.DELIVERED, attempts=F("attempts") + 1, last_error=""
    )
    append_many(
        [
            Entry(
                actor,
                AuditAction.EXCHANGE_DELIVERED,
                obj=n,
                agency_id=n.agency_id,
                details={
                    "event": n.event_id,
                    "channel": "in_app",
                    "latency_seconds": round((now - n.event.occurred_at).total_seconds(), 3),
                },
            )
            for n in fresh
        ]
    )
    return len(fresh)


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


def _failed_attempt(item: Notification | WebhookDelivery | TextMessage, limit: int) -> bool:
    """After a failed attempt (already counted): retry once the backoff ends, or, at
    ``limit`` attempts, a dead letter (True; the caller audits it)."""
    if item.attempts >= limit:
        item.status = DeliveryStatus.DEAD
        item.next_attempt_at = None
        return True
    item.status = DeliveryStatus.RETRYING
    item.next_attempt_at = timezone.now() + item.backoff()
    return False


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
    if _failed_attempt(notification, MAX_ATTEMPTS):
        audit(
            actor,
            AuditAction.EXCHANGE_DEAD_LETTERED,
            obj=notification,
            outcome=Outcome.FAILURE,
            agency_id=notification.agency_id,
            details={"attempts": notification.attempts, "error": notification.last_error},
        )
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
    *,
    actor: Actor,
    quiet_from: time | None,
    quiet_until: time | None,
    email: bool = False,
    email_mode: str | None = None,
    digest_hour: int | None = None,
    phone: str = "",
    sms_custody: bool = False,
) -> NotificationPreference:
    """Your own notification preferences. ``email=True`` is shorthand for the
    per-notification e-mail mode; ``email_mode`` says it in full (none, immediate, digest)."""
    if actor.user_id is None or actor.scopes is not None:
        raise PermissionDenied("Only people have notification preferences.")
    mode = email_mode or (EmailMode.IMMEDIATE if email else EmailMode.NONE)
    problems: list[dict[str, str]] = []
    if mode not in EmailMode.values:
        problems.append({"field": "email_mode", "reason": "unknown"})
    if (quiet_from is None) != (quiet_until is None):
        field = "quiet_until" if quiet_until is None else "quiet_from"
        problems.append({"field": field, "reason": "required with the other"})
    if mode == EmailMode.DIGEST and digest_hour is None:
        problems.append({"field": "digest_hour", "reason": "required for a daily digest"})
    if digest_hour is not None and not 0 <= digest_hour <= 23:
        problems.append({"field": "digest_hour", "reason": "an hour from 0 to 23"})
    phone = phone.strip()
    if phone and not re.fullmatch(E164, phone):
        problems.append({"field": "phone", "reason": "an international number, e.g. +13125550123"})
    if sms_custody and not phone:
        problems.append({"field": "phone", "reason": "required for text messages"})
    if problems:
        raise InvalidInput(
            "Quiet hours need a start and an end."
            if problems[0]["reason"] == "required with the other"
            else "Check the notification preferences.",
            errors=problems,
        )
    pref, _ = NotificationPreference.objects.update_or_create(
        user_id=actor.user_id,
        defaults={
            "email_mode": mode,
            "digest_hour": digest_hour if mode == EmailMode.DIGEST else None,
            "quiet_from": quiet_from,
            "quiet_until": quiet_until,
            "phone": phone,
            "sms_custody": sms_custody,
        },
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
    elif _failed_attempt(delivery, MAX_ATTEMPTS):
        audit(
            actor,
            AuditAction.EXCHANGE_DEAD_LETTERED,
            obj=delivery,
            outcome=Outcome.FAILURE,
            details={"attempts": delivery.attempts, "error": delivery.last_error},
        )
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


# --- digests and text messages ----------------------------------------------------------------

# A claimed digest still unsent after this long lost its worker: the next run sends it.
DIGEST_STALE_AFTER = timedelta(minutes=15)


@action
def claim_digest(preference_id: int, *, actor: Actor, now: datetime | None = None) -> Digest | None:
    """Decide to send a person's due daily digest, once. Under a lock on their preference
    row, write the ``Digest`` for the due moment and mark the notifications it covers as
    e-mailed, in this one transaction: a second run finds the row and sends nothing, and a
    notification is never in two digests. None when nothing is due (another mode, quiet
    hours, no e-mail address, or already claimed). A digest of nothing is recorded as sent
    without an e-mail."""
    now = now or timezone.now()
    pref: NotificationPreference | None = (
        NotificationPreference.objects.select_for_update()
        .select_related("user")
        .filter(pk=preference_id)
        .first()
    )
    if pref is None or pref.email_mode != EmailMode.DIGEST or pref.digest_hour is None:
        return None
    if not (pref.user.is_active and pref.user.email) or pref.quiet_now(now):
        return None
    due = pref.digest_due_at(now)
    if Digest.objects.filter(recipient_id=pref.user_id, due_at=due).exists():
        return None
    previous = Digest.objects.filter(recipient_id=pref.user_id).order_by("-due_at").first()
    # A day's overlap with the previous digest catches a notification whose delivery
    # committed just after that claim; the e-mailed mark keeps it out of two digests.
    floor = (previous.claimed_at if previous else due) - timedelta(days=1)
    items = list(
        Notification.objects.filter(
            recipient_id=pref.user_id,
            delivered_at__gte=floor,
            delivered_at__lt=now,
            emailed_at__isnull=True,
        ).values_list("pk", flat=True)
    )
    digest = Digest.objects.create(
        recipient_id=pref.user_id,
        due_at=due,
        count=len(items),
        claimed_at=now,
        sent_at=None if items else now,
    )
    if items:
        digest.items.set(items)
        Notification.objects.filter(pk__in=items).update(emailed_at=now)
    return digest


@action
def reclaim_stale_digest(digest_id: int, *, actor: Actor, now: datetime | None = None) -> bool:
    """Take over a digest claimed by a worker that died before sending it. A conditional
    update, so of two runs at the same moment only one wins."""
    now = now or timezone.now()
    return (
        Digest.objects.filter(
            pk=digest_id, sent_at__isnull=True, claimed_at__lt=now - DIGEST_STALE_AFTER
        ).update(claimed_at=now)
        == 1
    )


@action
def mark_digest_sent(digest_id: int, *, actor: Actor) -> None:
    """The digest e-mail went out."""
    Digest.objects.filter(pk=digest_id, sent_at__isnull=True).update(sent_at=timezone.now())


# A text is tried this many times (the first send and four retries), then dead-lettered.
TEXT_MAX_ATTEMPTS = 5
# How long one attempt may run before another worker may take the text over (a gateway
# call is seconds; a worker killed mid-send must not hold the text for ever).
TEXT_LEASE = timedelta(minutes=5)


@action
def claim_text(notification_id: int, to: str, *, actor: Actor) -> TextMessage | None:
    """Decide to text about one notification, once (the one-to-one row settles a race):
    at most one text per notification, even if delivery is retried."""
    if TextMessage.objects.filter(notification_id=notification_id).exists():
        return None
    try:
        with transaction.atomic():
            return TextMessage.objects.create(
                notification_id=notification_id, to=to, claimed_at=timezone.now()
            )
    except IntegrityError:
        return None


@action
def begin_text_attempt(
    text_id: int, *, actor: Actor, now: datetime | None = None
) -> TextMessage | None:
    """Take one attempt at sending a text: a conditional update, so of two workers only one
    sends it, and never once it was sent or dead-lettered. None: nothing to send now."""
    now = now or timezone.now()
    taken = (
        TextMessage.objects.filter(
            pk=text_id,
            sent_at__isnull=True,
            status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING],
        )
        .exclude(next_attempt_at__gt=now)
        .update(next_attempt_at=now + TEXT_LEASE)
    )
    if taken != 1:
        return None
    text: TextMessage = TextMessage.objects.select_related("notification").get(pk=text_id)
    return text


@action
def mark_text_sent(text_id: int, error: str, *, actor: Actor) -> TextMessage | None:
    """Record one attempt's outcome: sent (``error`` empty), retry later with exponential
    backoff, or, after ``TEXT_MAX_ATTEMPTS``, a dead letter (audited) for an administrator
    to replay. A text already sent stays sent."""
    text: TextMessage | None = (
        TextMessage.objects.select_for_update()
        .select_related("notification")
        .filter(pk=text_id)
        .first()
    )
    if text is None or text.sent_at is not None or text.status == DeliveryStatus.DEAD:
        return None
    text.attempts += 1
    text.error = error[:300]
    if not error:
        text.status = DeliveryStatus.DELIVERED
        text.sent_at = timezone.now()
        text.next_attempt_at = None
    elif _failed_attempt(text, TEXT_MAX_ATTEMPTS):
        audit(
            actor,
            AuditAction.EXCHANGE_DEAD_LETTERED,
            obj=text,
            outcome=Outcome.FAILURE,
            agency_id=text.notification.agency_id,
            details={
                "channel": "sms",
                "notification": text.notification_id,
                "attempts": text.attempts,
                "error": text.error,
            },
        )
    text.save(update_fields=["attempts", "error", "status", "sent_at", "next_attempt_at"])
    return text


@action
def replay_text(text: TextMessage, *, actor: Actor) -> TextMessage:
    """An administrator of the recipient's agency sends a dead text again (after fixing the
    gateway or the number); it gets ``TEXT_MAX_ATTEMPTS`` new attempts."""
    agency_id = text.notification.agency_id
    if actor.scopes is not None or not (
        actor.is_system or (actor.has_role("agency_admin") and actor.agency_id == agency_id)
    ):
        raise NotFound(f"No text message {text.pk}.")
    if text.sent_at is not None:
        raise ActionRefused("This text was sent; it is never sent twice.")
    if text.status != DeliveryStatus.DEAD:
        raise ActionRefused("Only dead letters are replayed.")
    from accord.exchange.tasks import send_text_message

    text.status = DeliveryStatus.PENDING
    text.attempts = 0
    text.next_attempt_at = None
    text.save(update_fields=["status", "attempts", "next_attempt_at"])
    send_text_message.enqueue(text.pk)
    audit(
        actor,
        AuditAction.EXCHANGE_REPLAYED,
        obj=text,
        agency_id=agency_id,
        details={"channel": "sms", "notification": text.notification_id},
    )
    return text


# --- bulk feeds ---------------------------------------------------------------------------------

DELIVERY_BATCH = 500


@action
def ingest_bulk(
    rows: Sequence[BulkRow],
    source_agency: Agency,
    *,
    actor: Actor,
    index: LinkageIndex | None = None,
) -> BulkResult:
    """Ingest one chunk of a feed in one transaction: what :func:`ingest_event` does to
    each row, done for all of them at once (one idempotency query, the subjects recorded
    as one people batch and linked in one Splink prediction against ``index`` — or one by
    one without an index — events, notifications, disclosures, audit rows and delivery
    tasks written in bulk). Bad rows are returned with their line and reason and the good
    ones accepted; if anything fails, nothing of the chunk is written."""
    from accord.audit.chain import append_many
    from accord.exchange.tasks import deliver_notification_batch, deliver_webhook_batch

    _may_send(actor, source_agency)
    accepted, duplicates, rejected = check_rows(rows, source_agency.pk, Catalogue())
    result = BulkResult(duplicates=duplicates, rejected=rejected)
    if not accepted:
        return result
    records, masters, result.linked_record_ids = _bulk_subjects(
        accepted, source_agency, actor, index
    )
    events = _bulk_events(accepted, records, masters, source_agency, actor)
    result.created = len(events)
    entries = [
        Entry(
            actor,
            AuditAction.EXCHANGE_EVENT_INGESTED,
            obj=event,
            agency_id=source_agency.pk,
            details={
                "event_type": event.event_type.code,
                "version": event.event_type.version,
                "idempotency_key": event.idempotency_key,
                "occurred_at": event.occurred_at.isoformat(),
                "out_of_order": event.out_of_order,
                "bulk": True,
            },
        )
        for event in events
    ]
    notifications, routed = _bulk_notify(events, source_agency, actor)
    deliveries, hooked = _bulk_webhooks(events, source_agency, actor)
    result.notifications = len(notifications)
    result.refusals = sum(e.outcome == Outcome.DENIED for e in routed + hooked)
    append_many(entries + routed + hooked)
    ids = [n.pk for n in notifications]
    for start in range(0, len(ids), DELIVERY_BATCH):
        deliver_notification_batch.enqueue(ids[start : start + DELIVERY_BATCH])
    hook_ids = [d.pk for d in deliveries]
    for start in range(0, len(hook_ids), DELIVERY_BATCH):
        deliver_webhook_batch.enqueue(hook_ids[start : start + DELIVERY_BATCH])
    return result


def _bulk_subjects(
    accepted: Sequence[Accepted], agency: Agency, actor: Actor, index: LinkageIndex | None
) -> tuple[dict[str, PersonRecord], dict[int, int], list[int]]:
    """Record the chunk's subjects as one people batch and link the new, changed and
    unlinked ones. Returns the records by source id, their master persons, and the ids of
    the records linked."""
    from accord.people.actions import import_people_batch, link_in_bulk, link_records

    # Posting an event under events:write includes recording who it is about.
    writer = (
        actor
        if actor.scopes is None
        else replace(actor, scopes=actor.scopes | {PEOPLE_WRITE_SCOPE})
    )
    people = import_people_batch(
        agency,
        [(a.row.line, a.subject) for a in accepted],
        actor=writer,
        source_name="exchange feed",
    )
    records = people.records
    masters = dict(
        PersonLink.objects.filter(record_id__in=[r.pk for r in records.values()]).values_list(
            "record_id", "master_id"
        )
    )
    touched = set(people.record_ids)
    # In the people app's order (last name, first name, id): records of one batch are
    # decided in order, so the order picks which of two new records founds their person.
    to_link = sorted(
        (r for r in records.values() if r.pk not in masters or r.pk in touched),
        key=lambda r: (r.last_name, r.first_name, r.pk),
    )
    if index is not None:
        masters.update(link_in_bulk(to_link, index.score([r.pk for r in to_link]), actor=writer))
    else:
        link_records(to_link, actor=writer)
        masters.update(
            PersonLink.objects.filter(record_id__in=[r.pk for r in to_link]).values_list(
                "record_id", "master_id"
            )
        )
    return records, masters, [r.pk for r in to_link]


def _bulk_events(
    accepted: Sequence[Accepted],
    records: dict[str, PersonRecord],
    masters: dict[int, int],
    agency: Agency,
    actor: Actor,
) -> list[Event]:
    # Built from every field's value in the model's order: Django's positional path costs a
    # fifth of its keyword path, and a field added to Event but not here fails (KeyError).
    order = [f.attname for f in Event._meta.concrete_fields]
    cache_type = Event.event_type.field.set_cached_value
    received_by = actor.label[:150]
    events = []
    for item in accepted:
        record_id = records[item.subject.values["source_id"]].pk
        payload = item.row.payload
        values = {
            "id": None,
            "source_agency_id": agency.pk,
            "event_type_id": item.kind.pk,
            "idempotency_key": item.key,
            "payload": payload,
            "payload_sha256": item.digest,
            "occurred_at": item.row.occurred_at,
            "received_at": None,  # set on insert
            "subject_record_id": record_id,
            "master_id": masters.get(record_id),
            "case_reference": str(payload.get("case_reference") or ""),
            "out_of_order": False,
            "received_by": received_by,
        }
        event = Event(*[values[name] for name in order])  # type: ignore[misc]  # positional
        cache_type(event, item.kind)
        events.append(event)
    mark_out_of_order(events)
    # Not bulk_create: its per-value preparation cost more than half a millisecond an event.
    insert_many(events)
    return events


def _bulk_notify(
    events: Sequence[Event], agency: Agency, actor: Actor
) -> tuple[list[Notification], list[Entry]]:
    """Notify each subscriber the policy allows, at most once per event, with the
    disclosures; audit each notification and each refusal (returned, not yet appended)."""
    told: set[tuple[int, int]] = set()
    allowed: list[Verdict] = []
    denied: list[Verdict] = []
    for verdict in route_chunk(events, actor):
        assert verdict.subscription is not None
        pair = (verdict.event.pk, verdict.subscription.subscriber_id)
        if pair in told:
            continue
        if verdict.allowed:
            told.add(pair)
            allowed.append(verdict)
        else:
            denied.append(verdict)
    subs = [(v, v.subscription) for v in allowed if v.subscription is not None]
    notifications = Notification.objects.bulk_create(
        [
            Notification(
                event=v.event,
                recipient_id=sub.subscriber_id,
                agency_id=sub.agency_id,
                subscription=sub,
                purpose=sub.purpose,
                explanation=v.explanation[:2000],
            )
            for v, sub in subs
        ],
        batch_size=2000,
    )
    by_recipient: dict[int, list[Verdict]] = {}
    for verdict, sub in subs:
        by_recipient.setdefault(sub.subscriber_id, []).append(verdict)
    for verdicts in by_recipient.values():
        recipient = verdicts[0].recipient
        assert recipient is not None
        record_disclosures([d for v in verdicts for d in v.decisions], actor=recipient)
    entries = [
        Entry(
            actor,
            AuditAction.EXCHANGE_EVENT_ROUTED,
            obj=notification,
            agency_id=agency.pk,
            details={
                "event": notification.event_id,
                "recipient": notification.recipient_id,
                "basis": notification.explanation[:500],
            },
        )
        for notification in notifications
    ]
    for verdict in denied:
        refused = verdict.subscription
        assert refused is not None
        if (verdict.event.pk, refused.subscriber_id) in told:
            continue
        entries.append(
            Entry(
                actor,
                AuditAction.EXCHANGE_EVENT_REFUSED,
                obj=verdict.event,
                outcome=Outcome.DENIED,
                agency_id=agency.pk,
                details={
                    "subscription": refused.pk,
                    "recipient": refused.subscriber_id,
                    "recipient_agency": refused.agency_id,
                    "purpose": refused.purpose,
                    "reason": verdict.explanation[:500],
                },
            )
        )
    return notifications, entries


def _bulk_webhooks(
    events: Sequence[Event], agency: Agency, actor: Actor
) -> tuple[list[WebhookDelivery], list[Entry]]:
    """A delivery for each endpoint the policy allows (its agency's own events always),
    with the disclosures; each refusal audited (returned, not yet appended)."""
    allowed: list[Verdict] = []
    entries: list[Entry] = []
    for verdict in route_webhooks(events, actor):
        endpoint = verdict.endpoint
        assert endpoint is not None
        if verdict.recipient is None or verdict.allowed:
            allowed.append(verdict)
            continue
        entries.append(
            Entry(
                actor,
                AuditAction.EXCHANGE_EVENT_REFUSED,
                obj=verdict.event,
                outcome=Outcome.DENIED,
                agency_id=agency.pk,
                details={
                    "webhook": endpoint.pk,
                    "recipient_agency": endpoint.agency_id,
                    "purpose": endpoint.purpose,
                    "reason": verdict.explanation[:500],
                },
            )
        )
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                endpoint=v.endpoint,
                event=v.event,
                explanation="the agency's own event"
                if v.recipient is None
                else v.explanation[:2000],
            )
            for v in allowed
        ],
        batch_size=2000,
    )
    by_endpoint: dict[int, list[Verdict]] = {}
    for verdict in allowed:
        if verdict.recipient is not None and verdict.endpoint is not None:
            by_endpoint.setdefault(verdict.endpoint.pk, []).append(verdict)
    for verdicts in by_endpoint.values():
        receiver = verdicts[0].recipient
        assert receiver is not None
        record_disclosures([d for v in verdicts for d in v.decisions], actor=receiver)
    return deliveries, entries
