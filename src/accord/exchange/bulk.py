"""The reading half of bulk ingestion (:func:`accord.exchange.actions.ingest_bulk`): checking
a chunk of rows as ``ingest_event`` checks one event, and deciding who is told of a chunk's
events with one subscription query and one policy batch per recipient. Nothing here writes.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Max, Q
from django.utils import timezone

from accord.accounts.identity import actor_for_user
from accord.core.actors import Actor
from accord.core.errors import InvalidInput
from accord.exchange.models import Event, EventType, Subscription, WebhookEndpoint
from accord.people.validation import CleanPerson, clean_person
from accord.policy.engine import Decision, Resource, decide_requests
from accord.policy.vocabulary import PolicyAction

REUSED_KEY = "This idempotency key was already used for a different event; use a new key."


@dataclass(frozen=True)
class BulkRow:
    """One row of a feed, parsed: its line in the file and the event it carries."""

    line: int
    event_type: str
    idempotency_key: str
    occurred_at: datetime
    payload: Any
    schema_version: int | None = None


@dataclass
class BulkResult:
    """What one chunk did: counts, every rejected line with its reason, and the person
    records it linked (a linkage index refreshes them once the chunk has committed)."""

    created: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    linked_record_ids: list[int] = field(default_factory=list)
    notifications: int = 0
    refusals: int = 0


@dataclass
class Accepted:
    """A row that passed every check, waiting to be written."""

    row: BulkRow
    kind: EventType
    key: str
    digest: str
    subject: CleanPerson


def reason_of(exc: InvalidInput) -> str:
    """``field: reason; field: reason`` (how the feed report names a problem)."""
    if exc.errors:
        return "; ".join(f"{e['field']}: {e['reason']}" for e in exc.errors)
    return str(exc.detail)


Check = Callable[[Any], bool]
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NOT_CHECKED = {"$schema", "$id", "title", "description"}


def _is_date(value: str) -> bool:
    if not _DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_date_time(value: str) -> bool:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return False
    return "T" in value.upper() and moment.tzinfo is not None


_FORMATS: dict[str, Callable[[str], bool]] = {"date": _is_date, "date-time": _is_date_time}


def quick_check(schema: Any) -> Check | None:
    """A plain-Python check for the part of JSON Schema the catalogue uses (object, string
    and array types, properties, required, no additional properties, lengths, the date
    formats), or None when the schema uses anything else. It is never more lenient than
    the schema: True means valid; False means "ask jsonschema", which has the final word and
    names the failing fields. (jsonschema's general machinery costs ~0.4 ms a payload, more
    than the rest of a row's ingestion.)"""
    if not isinstance(schema, dict) or set(schema) - _NOT_CHECKED - {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "minLength",
        "maxLength",
        "format",
        "items",
    }:
        return None
    kind = schema.get("type")
    if kind == "string":
        low, high = schema.get("minLength", 0), schema.get("maxLength")
        form = schema.get("format")
        if form is not None and form not in _FORMATS:
            return None
        fmt = _FORMATS.get(form or "")

        def string(value: Any) -> bool:
            return (
                isinstance(value, str)
                and len(value) >= low
                and (high is None or len(value) <= high)
                and (fmt is None or fmt(value))
            )

        return string
    if kind == "array":
        items = quick_check(schema.get("items", {"type": "string"}))
        if items is None or set(schema) - _NOT_CHECKED - {"type", "items"}:
            return None
        return lambda value: isinstance(value, list) and all(items(v) for v in value)
    if kind != "object" or schema.get("additionalProperties", True) is not False:
        return None
    if set(schema) - _NOT_CHECKED - {"type", "properties", "required", "additionalProperties"}:
        return None
    fields: dict[str, Check] = {}
    for name, sub in schema.get("properties", {}).items():
        check = quick_check(sub)
        if check is None:
            return None
        fields[name] = check
    required = list(schema.get("required", []))

    def obj(value: Any) -> bool:
        return (
            isinstance(value, dict)
            and all(name in value for name in required)
            and all(name in fields and fields[name](v) for name, v in value.items())
        )

    return obj


class Catalogue:
    """The event types in force with one schema validator each, built once per feed (a
    validator per row would cost more than the check)."""

    def __init__(self) -> None:
        from accord.exchange.actions import _CHECKER, event_types

        self.latest: dict[str, EventType] = {}
        self.versions: dict[tuple[str, int], EventType] = {}
        self.checkers: dict[int, Check] = {}
        for kind in event_types().order_by("code", "version"):
            self.latest[kind.code] = kind
            self.versions[(kind.code, kind.version)] = kind
            full = _CHECKER(kind.schema, format_checker=_CHECKER.FORMAT_CHECKER)
            self.checkers[kind.pk] = quick_check(kind.schema) or full.is_valid

    def kind(self, code: str, version: int | None) -> EventType | None:
        if version is None:
            return self.latest.get(code)
        return self.versions.get((code, version))


def subject_of(payload: dict[str, Any]) -> tuple[CleanPerson | None, str]:
    """The subject as the people app records it, or why it cannot be."""
    subject = dict(payload["subject"])
    aliases = subject.pop("aliases", None)
    if aliases:
        subject["aliases"] = "; ".join(aliases)
    cleaned, errors = clean_person(subject)
    if errors:
        return None, "; ".join(f"payload.subject.{e['field']}: {e['reason']}" for e in errors)
    return cleaned, ""


def check_rows(
    rows: Sequence[BulkRow], source_agency_id: int, catalogue: Catalogue
) -> tuple[list[Accepted], int, list[tuple[int, str]]]:
    """Accepted rows, duplicates (a key already taken, earlier or in this chunk, with the
    same payload) and rejected rows with their reasons, in the order ``ingest_event``
    checks: key, type, idempotency, time, payload, subject."""
    from accord.exchange.actions import _digest, validate_payload

    accepted: list[Accepted] = []
    rejected: list[tuple[int, str]] = []
    duplicates = 0
    keys = {(r.idempotency_key or "").strip() for r in rows}
    taken = dict(
        Event.objects.filter(source_agency_id=source_agency_id, idempotency_key__in=keys)
        .values_list("idempotency_key", "payload_sha256")
        .iterator(chunk_size=5000)
    )
    latest_allowed = timezone.now() + timedelta(minutes=5)
    for row in rows:
        key = (row.idempotency_key or "").strip()
        if not key or len(key) > 128:
            rejected.append((row.line, "idempotency_key: 1 to 128 characters"))
            continue
        kind = catalogue.kind(row.event_type, row.schema_version)
        if kind is None:
            rejected.append((row.line, "event_type: not in the event catalogue"))
            continue
        digest = _digest(row.payload)
        if key in taken:
            if taken[key] == digest:
                duplicates += 1
            else:
                rejected.append((row.line, REUSED_KEY))
            continue
        if timezone.is_naive(row.occurred_at):
            rejected.append((row.line, "occurred_at: include an offset, e.g. Z or -05:00"))
            continue
        if row.occurred_at > latest_allowed:
            rejected.append((row.line, "occurred_at: later than now"))
            continue
        if not catalogue.checkers[kind.pk](row.payload):
            try:
                validate_payload(kind, row.payload)
            except InvalidInput as exc:
                rejected.append((row.line, reason_of(exc)))
                continue
        subject, problem = subject_of(row.payload)
        if subject is None:
            rejected.append((row.line, problem))
            continue
        taken[key] = digest
        accepted.append(Accepted(row, kind, key, digest, subject))
    return accepted, duplicates, rejected


def mark_out_of_order(events: Sequence[Event]) -> None:
    """Set ``out_of_order`` on (unsaved) events, in arrival order, as ``ingest_event`` does
    one at a time: an event is late when an event of the same family about the same person
    (or, without a person, the same case) that arrived before it occurred after it."""
    masters = {e.master_id for e in events if e.master_id is not None}
    cases = {e.case_reference for e in events if e.master_id is None and e.case_reference}
    latest: dict[tuple[str, Any, str], datetime] = {}
    if masters:
        for values in (
            Event.objects.filter(master_id__in=masters)
            .values("master_id", "event_type__family")
            .annotate(last=Max("occurred_at"))
        ):
            latest[("m", values["master_id"], values["event_type__family"])] = values["last"]
    if cases:
        for values in (
            Event.objects.filter(case_reference__in=cases)
            .values("case_reference", "event_type__family")
            .annotate(last=Max("occurred_at"))
        ):
            latest[("c", values["case_reference"], values["event_type__family"])] = values["last"]
    for event in events:
        if event.master_id is not None:
            key: tuple[str, Any, str] = ("m", event.master_id, event.event_type.family)
        elif event.case_reference:
            key = ("c", event.case_reference, event.event_type.family)
        else:
            continue
        last = latest.get(key)
        event.out_of_order = last is not None and last > event.occurred_at
        if last is None or event.occurred_at > last:
            latest[key] = event.occurred_at


@dataclass
class Verdict:
    """One subscription's (or endpoint's) verdict on one event."""

    event: Event
    decisions: list[Decision]
    subscription: Subscription | None = None
    endpoint: WebhookEndpoint | None = None
    recipient: Actor | None = None

    @property
    def allowed(self) -> bool:
        return bool(self.decisions) and all(d.allowed for d in self.decisions)

    @property
    def explanation(self) -> str:
        denied = [d for d in self.decisions if not d.allowed]
        if denied:
            return "; ".join(f"{d.resource.category}: {d.explanation()}" for d in denied)
        return "; ".join(dict.fromkeys(d.explanation() for d in self.decisions))


def client_keys(events: Sequence[Event], agency_ids: Iterable[int]) -> dict[tuple[int, int], str]:
    """(recipient agency, master) → the agency's client number, for every pair of this
    chunk that has one (``routing.client_key_for`` for many events in one query)."""
    from accord.cases.models import Client

    masters = {e.master_id for e in events if e.master_id is not None}
    agencies = set(agency_ids)
    found: dict[tuple[int, int], str] = {}
    if not masters or not agencies:
        return found
    rows = (
        Client.objects.filter(agency_id__in=agencies, person__link__master_id__in=masters)
        .order_by("pk")
        .values_list("agency_id", "person__link__master_id", "number")
    )
    for agency_id, master_id, number in rows:
        if number:
            found.setdefault((agency_id, master_id), str(number))
    return found


def client_key(event: Event, agency_id: int, numbers: dict[tuple[int, int], str]) -> str:
    if event.master_id is not None:
        return numbers.get((agency_id, event.master_id), f"person-{event.master_id}")
    return f"case-{event.case_reference}"


def _resources(event: Event, client_key: str) -> list[Resource]:
    return [
        Resource(event.source_agency_id, client_key, category, ref=f"exchange.event:{event.pk}")
        for category in event.event_type.categories
    ]


def _subscriptions(
    events: Sequence[Event],
) -> tuple[list[Subscription], dict[int, list[Subscription]], dict[str, list[Subscription]]]:
    """The active subscriptions of active staff for the chunk's people and cases (one
    query), and the same by master person and by case number."""
    masters = {e.master_id for e in events if e.master_id is not None}
    cases = {e.case_reference for e in events if e.case_reference}
    by_master: dict[int, list[Subscription]] = defaultdict(list)
    by_case: dict[str, list[Subscription]] = defaultdict(list)
    if not masters and not cases:
        return [], by_master, by_case
    match = Q(master_id__in=masters) | Q(case_reference__in=cases)
    subs = [
        s
        for s in Subscription.objects.active()
        .filter(match)
        .select_related("subscriber")
        .order_by("pk")
        if s.subscriber.is_active
    ]
    for sub in subs:
        if sub.master_id is not None:
            by_master[sub.master_id].append(sub)
        if sub.case_reference:
            by_case[sub.case_reference].append(sub)
    return subs, by_master, by_case


def route_chunk(events: Sequence[Event], actor: Actor) -> list[Verdict]:
    """Every subscription verdict for the chunk's events, each subscriber decided in one
    policy batch; in event order and, within an event, subscription order (the caller
    notifies a person at most once per event, as ``ingest_event`` does)."""
    subs, by_master, by_case = _subscriptions(events)
    if not subs:
        return []
    numbers = client_keys(events, {s.agency_id for s in subs})
    recipients: dict[int, Actor] = {}
    pending: dict[int, list[tuple[Event, Subscription]]] = defaultdict(list)
    order: list[tuple[Event, Subscription]] = []
    for event in events:
        candidates = list(by_master.get(event.master_id or 0, []))
        if event.case_reference:
            candidates += by_case.get(event.case_reference, [])
        found = {s.pk: s for s in candidates}
        for sub in sorted(found.values(), key=lambda s: s.pk):
            if not sub.covers(event.event_type.code):
                continue
            if sub.subscriber_id not in recipients:
                recipients[sub.subscriber_id] = actor_for_user(sub.subscriber).within(
                    actor.request_id, actor.source_ip
                )
            pending[sub.subscriber_id].append((event, sub))
            order.append((event, sub))
    decided: dict[tuple[int, int], list[Decision]] = {}
    for subscriber_id, pairs in pending.items():
        requests = []
        spans = []
        for event, sub in pairs:
            resources = _resources(event, client_key(event, sub.agency_id, numbers))
            spans.append((event.pk, sub.pk, len(resources)))
            requests += [(PolicyAction.NOTIFY.value, r, sub.purpose) for r in resources]
        decisions = decide_requests(recipients[subscriber_id], requests)
        start = 0
        for event_pk, sub_pk, count in spans:
            decided[(event_pk, sub_pk)] = decisions[start : start + count]
            start += count
    return [
        Verdict(
            event,
            decided[(event.pk, sub.pk)],
            subscription=sub,
            recipient=recipients[sub.subscriber_id],
        )
        for event, sub in order
    ]


def route_webhooks(events: Sequence[Event], actor: Actor) -> list[Verdict]:
    """Every active endpoint's verdict on each event it covers, one policy batch per
    endpoint (``receive_copy`` for its purpose); the agency's own events need none."""
    from accord.exchange.actions import endpoint_actor

    endpoints = list(
        WebhookEndpoint.objects.filter(disabled_at__isnull=True).select_related("agency")
    )
    if not endpoints:
        return []
    numbers = client_keys(events, {e.agency_id for e in endpoints})
    verdicts = []
    for endpoint in endpoints:
        covered = [e for e in events if endpoint.covers(e.event_type.code)]
        own = [e for e in covered if e.source_agency_id == endpoint.agency_id]
        verdicts += [Verdict(e, [], endpoint=endpoint) for e in own]
        others = [e for e in covered if e.source_agency_id != endpoint.agency_id]
        if not others:
            continue
        receiver = endpoint_actor(endpoint).within(actor.request_id, actor.source_ip)
        requests = []
        spans = []
        for event in others:
            resources = _resources(event, client_key(event, endpoint.agency_id, numbers))
            spans.append(len(resources))
            requests += [(PolicyAction.RECEIVE_COPY.value, r, endpoint.purpose) for r in resources]
        decisions = decide_requests(receiver, requests)
        start = 0
        for event, count in zip(others, spans, strict=True):
            verdicts.append(
                Verdict(
                    event,
                    decisions[start : start + count],
                    endpoint=endpoint,
                    recipient=receiver,
                )
            )
            start += count
    return verdicts
