"""A batch of events (``ingest_events``, behind ``POST /api/v1/events/batch``) keeps every
guarantee of posting them one by one: per-item results, idempotency (within the batch and
across posts), the outbox in the batch's transaction, audited refusals, out-of-order
marks and identity resolution; and its notifications are delivered by one task."""

from __future__ import annotations

import pytest
from django_tasks_db.models import DBTaskResult

from accord.accounts.identity import actor_for_user
from accord.audit import chain
from accord.audit.models import AuditEvent
from accord.core.errors import ActionRefused, InvalidInput, PermissionDenied
from accord.exchange.actions import Ingested, Post, ingest_event, ingest_events, set_preferences
from accord.exchange.models import DeliveryStatus, Event, Notification
from accord.exchange.tasks import deliver_many
from accord.exchange.testing import (
    attorney_subscribes,
    booking,
    defender_client,
    jail_mou,
    minutes_ago,
)
from accord.people.models import PersonLink, PersonRecord
from accord.policy.models import Disclosure


def _post(key, payload=None, occurred_at=None, code="custody.booked"):
    return Post(
        event_type=code,
        payload=payload if payload is not None else booking(booking_number=key),
        idempotency_key=key,
        occurred_at=occurred_at or minutes_ago(5),
    )


def _batch(county, posts):
    return ingest_events(county.jail, posts, actor=actor_for_user(county.jail_officer))


@pytest.fixture
def subscribed(county):
    jail_mou(county)
    record = defender_client(county)
    attorney_subscribes(county, record)
    return record


def test_it_answers_each_item_on_its_own(county):
    bad = booking()
    del bad["booking_number"]
    results = _batch(county, [_post("k-1"), _post("k-2", payload=bad), _post(""), _post("k-3")])
    assert [type(r) for r in results] == [Ingested, InvalidInput, InvalidInput, Ingested]
    assert [e["field"] for e in results[1].errors] == ["payload.booking_number"]
    assert results[2].errors[0]["field"] == "idempotency_key"
    assert Event.objects.count() == 2


def test_it_refuses_a_bad_subject_naming_its_field_and_keeps_the_rest(county):
    future = booking()
    future["subject"]["date_of_birth"] = "2999-01-01"
    results = _batch(county, [_post("k-1", payload=future), _post("k-2")])
    assert isinstance(results[0], InvalidInput)
    assert results[0].errors[0]["field"] == "payload.subject.date_of_birth"
    assert isinstance(results[1], Ingested)
    assert list(Event.objects.values_list("idempotency_key", flat=True)) == ["k-2"]


def test_it_keeps_one_event_per_key_within_the_batch_and_across_posts(county):
    first = ingest_event(
        county.jail,
        "custody.booked",
        booking(booking_number="old"),
        "old",
        minutes_ago(9),
        actor=actor_for_user(county.jail_officer),
    ).event
    results = _batch(
        county,
        [
            _post("old", payload=booking(booking_number="old")),  # a retry of an earlier post
            _post("old", payload=booking(booking_number="other")),  # the key, another event
            _post("new"),
            _post("new"),  # repeated in the same batch
            _post("new", payload=booking(booking_number="changed")),
        ],
    )
    assert isinstance(results[0], Ingested)
    assert (results[0].event.pk, results[0].created) == (first.pk, False)
    assert isinstance(results[1], ActionRefused)
    assert isinstance(results[2], Ingested)
    assert results[2].created
    assert isinstance(results[3], Ingested)
    assert (results[3].event.pk, results[3].created) == (results[2].event.pk, False)
    assert isinstance(results[4], ActionRefused)
    assert Event.objects.count() == 2


def test_it_creates_an_item_whose_key_an_earlier_refused_item_used(county):
    bad = booking()
    del bad["facility"]
    results = _batch(county, [_post("k", payload=bad), _post("k")])
    assert isinstance(results[0], InvalidInput)
    assert isinstance(results[1], Ingested)
    assert results[1].created


def test_it_refuses_the_whole_batch_to_another_agency(county):
    with pytest.raises(PermissionDenied):
        ingest_events(county.jail, [_post("k")], actor=actor_for_user(county.defender_attorney))
    assert Event.objects.count() == 0


def test_it_writes_the_outbox_in_the_batch_transaction(county, subscribed):
    results = _batch(county, [_post(f"k-{i}") for i in range(3)])
    events = [r.event for r in results if isinstance(r, Ingested)]
    notes = list(Notification.objects.order_by("pk"))
    assert [n.event_id for n in notes] == [e.pk for e in events]
    assert {n.recipient_id for n in notes} == {county.defender_attorney.pk}
    assert all("MOU-EX-1" in n.explanation for n in notes)
    # One disclosure row for the client, naming every event disclosed.
    disclosure = Disclosure.objects.get()
    assert disclosure.recipient_id == county.defender.pk
    assert set(disclosure.record_refs) == {f"exchange.event:{e.pk}" for e in events}
    routed = AuditEvent.objects.filter(action="exchange.event_routed")
    assert sorted(int(a.object_id) for a in routed) == [n.pk for n in notes]
    ingested = AuditEvent.objects.filter(action="exchange.event_ingested")
    assert sorted(int(a.object_id) for a in ingested) == [e.pk for e in events]
    task = DBTaskResult.objects.get(task_path__endswith="deliver_notifications")
    assert task.args_kwargs["args"] == [[n.pk for n in notes]]
    assert chain.verify().ok


def test_it_audits_each_refusal_without_an_agreement(county):
    record = defender_client(county)
    attorney_subscribes(county, record)
    results = _batch(county, [_post("k-1"), _post("k-2")])
    assert Notification.objects.count() == 0
    assert Disclosure.objects.count() == 0
    refusals = AuditEvent.objects.filter(action="exchange.event_refused")
    assert sorted(int(a.object_id) for a in refusals) == sorted(
        r.event.pk for r in results if isinstance(r, Ingested)
    )
    assert {a.outcome for a in refusals} == {"denied"}


def test_it_marks_out_of_order_against_stored_events_and_earlier_items(county):
    release = {"subject": booking()["subject"], "booking_number": "B-1"}
    ingest_event(
        county.jail,
        "custody.released",
        release,
        "rel",
        minutes_ago(30),
        actor=actor_for_user(county.jail_officer),
    )
    results = _batch(
        county,
        [
            _post("older", occurred_at=minutes_ago(60)),  # before the stored release
            _post("newest", occurred_at=minutes_ago(1)),
            _post("between", occurred_at=minutes_ago(10)),  # before the item above
            _post("latest", occurred_at=minutes_ago(0.5)),
        ],
    )
    marks = [r.event.out_of_order for r in results if isinstance(r, Ingested)]
    assert marks == [True, False, True, False]


def test_it_links_new_subjects_together_and_reaches_the_client_under_a_variant_name(
    county, subscribed
):
    variant = booking(source_id="J-9", first_name="Jordon", booking_number="v")
    same_again = booking(source_id="J-10", first_name="Jordan", booking_number="w")
    stranger = booking(
        source_id="J-11", first_name="Priya", last_name="Okonkwo", date_of_birth="1971-02-03"
    )
    results = _batch(
        county, [_post("v", payload=variant), _post("w", payload=same_again), _post("s", stranger)]
    )
    events = [r.event for r in results if isinstance(r, Ingested)]
    client_master = PersonLink.objects.get(record=subscribed).master_id
    assert [e.master_id for e in events[:2]] == [client_master, client_master]
    assert events[2].master_id not in (None, client_master)
    notified = set(Notification.objects.values_list("event_id", flat=True))
    assert notified == {events[0].pk, events[1].pk}


def test_it_delivers_a_batch_once_and_leaves_other_channels_to_deliver(county, subscribed):
    _batch(county, [_post(f"k-{i}") for i in range(3)])
    ids = list(Notification.objects.values_list("pk", flat=True))
    assert deliver_many(ids) == {"in_app": 3, "one_by_one": 0}
    assert deliver_many(ids) == {"in_app": 0, "one_by_one": 0}
    assert set(Notification.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    assert AuditEvent.objects.filter(action="exchange.delivered").count() == 3
    set_preferences(
        actor=actor_for_user(county.defender_attorney),
        email=True,
        quiet_from=None,
        quiet_until=None,
    )
    _batch(county, [_post("mail-1"), _post("mail-2")])
    later = list(Notification.objects.filter(status=DeliveryStatus.PENDING).values_list("pk"))
    assert deliver_many([pk for (pk,) in later]) == {"in_app": 0, "one_by_one": 2}
    assert Notification.objects.filter(emailed_at__isnull=False).count() == 2


def test_it_enqueues_the_case_effects_of_every_event_ready_for_the_worker(county):
    results = _batch(county, [_post("k-1"), _post("k-2")])
    tasks = DBTaskResult.objects.ready().filter(task_path__endswith="apply_event_effects")
    assert sorted(t.args_kwargs["args"][0] for t in tasks) == sorted(
        r.event.pk for r in results if isinstance(r, Ingested)
    )
    assert all(t.task_result.args == t.args_kwargs["args"] for t in tasks)


def test_a_single_delivery_task_also_delivers_the_in_app_notifications_after_it(county, subscribed):
    from accord.exchange.tasks import deliver_notification

    for key in ("a", "b", "c"):
        ingest_event(
            county.jail,
            "custody.booked",
            booking(booking_number=key),
            key,
            minutes_ago(1),
            actor=actor_for_user(county.jail_officer),
        )
    first, *rest = Notification.objects.order_by("pk")
    assert deliver_notification.call(rest[0].pk) == "delivered"
    assert Notification.objects.get(pk=first.pk).delivered_at is None  # before it: its own task
    assert (
        Notification.objects.filter(pk__in=[n.pk for n in rest], delivered_at__isnull=False).count()
        == 2
    )
    assert deliver_notification.call(rest[1].pk) == "nothing to do"
    assert deliver_notification.call(first.pk) == "delivered"
    assert AuditEvent.objects.filter(action="exchange.delivered").count() == 3


def test_it_links_a_known_subject_by_the_aliases_the_batch_gives_it(county):
    from accord.people.actions import record_people

    jail = county.jail
    actor = actor_for_user(county.jail_officer)
    person = {"source_id": "J-5", "first_name": "Jane", "last_name": "Roe"}
    record_people(jail, [person], actor=actor)
    (record,) = record_people(jail, [{**person, "aliases": "Jordan Avery"}], actor=actor)
    assert isinstance(record, PersonRecord)
    # The record read with its old aliases (prefetched) is linked by its new names.
    assert [n.last for n in record.names()] == ["roe", "avery"]
