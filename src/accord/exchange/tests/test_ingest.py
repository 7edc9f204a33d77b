"""Ingesting events: schema validation, idempotency, person resolution, routing under the
agreements, the refusal audit, out-of-order events."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.accounts.identity import actor_for_user
from accord.audit.models import AuditEvent
from accord.core.errors import ActionRefused, InvalidInput, PermissionDenied
from accord.core.testing import build_county
from accord.exchange.actions import event_types, ingest_event
from accord.exchange.models import Event, EventType, Notification
from accord.exchange.testing import (
    attorney_subscribes,
    booking,
    defender_client,
    jail_mou,
    minutes_ago,
)
from accord.policy.models import Disclosure


def _jail(county):
    return actor_for_user(county.jail_officer)


def _book(county, key="k-1", payload=None, occurred_at=None, code="custody.booked"):
    return ingest_event(
        county.jail,
        code,
        payload if payload is not None else booking(),
        key,
        occurred_at or minutes_ago(5),
        actor=_jail(county),
    )


def test_it_loads_the_catalogue_with_schemas_and_policy_categories(db):
    event_types()  # loaded by the migration; reloaded here if a transactional test flushed it
    codes = set(EventType.objects.values_list("code", flat=True))
    assert {"custody.booked", "court.hearing_continued", "probation.violation_filed"} <= codes
    assert len(codes) == 16
    booked = EventType.objects.get(code="custody.booked")
    assert booked.categories == ["identity", "custody"]
    assert "booking_number" in booked.schema["required"]


def test_it_rejects_a_payload_naming_the_failing_fields(county):
    payload = booking()
    del payload["booking_number"]
    payload["subject"]["date_of_birth"] = 12
    with pytest.raises(InvalidInput) as caught:
        _book(county, payload=payload)
    fields = {e["field"] for e in caught.value.errors}
    assert fields == {"payload.booking_number", "payload.subject.date_of_birth"}
    assert Event.objects.count() == 0


def test_it_refuses_an_unknown_type_and_a_naive_time(county):
    with pytest.raises(InvalidInput):
        _book(county, code="custody.vanished")
    with pytest.raises(InvalidInput) as caught:
        _book(county, occurred_at=timezone.now().replace(tzinfo=None))
    assert caught.value.errors[0]["field"] == "occurred_at"


def test_it_lets_only_the_agencys_own_staff_post_its_events(county):
    with pytest.raises(PermissionDenied):
        ingest_event(
            county.jail,
            "custody.booked",
            booking(),
            "k",
            minutes_ago(1),
            actor=actor_for_user(county.defender_attorney),
        )


def test_it_returns_the_first_event_for_a_retried_key(county):
    first = _book(county)
    again = _book(county)
    assert first.created
    assert not again.created
    assert again.event.pk == first.event.pk
    assert Event.objects.count() == 1


def test_it_refuses_a_key_reused_for_a_different_event(county):
    _book(county)
    with pytest.raises(ActionRefused):
        _book(county, payload=booking(booking_number="B-2"))


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(keys=st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=8))
def test_it_keeps_one_event_per_key_whatever_the_retries(django_db_setup, django_db_blocker, keys):
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        county = build_county()
        client = defender_client(county)
        jail_mou(county)
        attorney_subscribes(county, client)
        for key in keys:
            _book(county, key=f"key-{key}", payload=booking(booking_number=f"B-{key}"))
        assert Event.objects.count() == len(set(keys))
        assert Notification.objects.count() == len(set(keys))
        transaction.set_rollback(True)


def test_it_notifies_the_subscribed_attorney_under_the_agreement(county):
    client = defender_client(county)
    jail_mou(county)
    attorney_subscribes(county, client)
    # The jail knows the person under its own id and a variant spelling of the first name.
    result = _book(county, payload=booking(first_name="Jordon"))
    event = result.event
    assert event.master_id is not None
    note = Notification.objects.get(event=event)
    assert note.recipient_id == county.defender_attorney.pk
    assert "MOU-EX-1" in note.explanation
    assert "3.2" in note.explanation
    disclosure = Disclosure.objects.get()
    assert disclosure.discloser_id == county.jail.pk
    assert disclosure.recipient_id == county.defender.pk
    assert sorted(disclosure.categories) == ["custody", "identity"]


def test_it_sends_nothing_and_audits_the_refusal_without_an_agreement(county):
    client = defender_client(county)
    attorney_subscribes(county, client)
    event = _book(county).event
    assert Notification.objects.count() == 0
    assert Disclosure.objects.count() == 0
    refusal = AuditEvent.objects.get(action="exchange.event_refused")
    assert refusal.outcome == "denied"
    assert refusal.object_id == str(event.pk)
    assert refusal.details["recipient"] == county.defender_attorney.pk


def test_it_notifies_nobody_of_types_outside_the_subscription(county):
    client = defender_client(county)
    jail_mou(county)
    attorney_subscribes(county, client, event_types=["custody.released"])
    _book(county)
    assert Notification.objects.count() == 0


def test_it_marks_an_event_older_than_one_already_received_as_out_of_order(county):
    release = {"subject": booking()["subject"], "booking_number": "B-1"}
    _book(county, key="rel", payload=release, code="custody.released", occurred_at=minutes_ago(1))
    late = _book(county, key="book", occurred_at=minutes_ago(60)).event
    assert late.out_of_order
    newer = _book(
        county, key="book2", payload=booking(booking_number="B-9"), occurred_at=minutes_ago(0.5)
    )
    assert not newer.event.out_of_order


def test_it_refuses_an_event_in_the_future(county):
    with pytest.raises(InvalidInput):
        _book(county, occurred_at=timezone.now() + timedelta(hours=1))
