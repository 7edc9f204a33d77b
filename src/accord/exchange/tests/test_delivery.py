"""Delivery in the worker: inbox once, e-mail by preference, retries with backoff, dead
letters and replay, and the obligation measured from the real timestamps."""

from __future__ import annotations

from datetime import time

import pytest
from django.core import mail
from django_tasks_db.models import DBTaskResult

from accord.accounts.identity import actor_for_user
from accord.agreements.measurement import compliance
from accord.agreements.models import Obligation
from accord.core.errors import ActionRefused, NotFound
from accord.exchange.actions import (
    ingest_event,
    record_failure,
    replay,
    set_preferences,
)
from accord.exchange.models import DeliveryStatus, Notification
from accord.exchange.tasks import deliver
from accord.exchange.testing import (
    attorney_subscribes,
    booking,
    defender_client,
    jail_mou,
    minutes_ago,
)


@pytest.fixture
def routed(county):
    client = defender_client(county)
    jail_mou(county)
    attorney_subscribes(county, client)
    ingest_event(
        county.jail,
        "custody.booked",
        booking(),
        "k-1",
        minutes_ago(30),
        actor=actor_for_user(county.jail_officer),
    )
    return Notification.objects.get()


def test_it_enqueues_one_delivery_task_in_the_ingest_transaction(routed):
    task = DBTaskResult.objects.get(task_path__endswith="deliver_notification")
    assert task.args_kwargs["args"] == [routed.pk]
    assert routed.status == DeliveryStatus.PENDING


def test_it_puts_the_notification_in_the_inbox_once(routed):
    assert deliver(routed.pk) == "delivered"
    assert deliver(routed.pk) == "nothing to do"
    routed.refresh_from_db()
    assert routed.status == DeliveryStatus.DELIVERED
    assert routed.delivered_at is not None
    assert mail.outbox == []


def test_it_emails_those_who_asked_without_client_details(county, routed):
    set_preferences(
        actor=actor_for_user(county.defender_attorney),
        email=True,
        quiet_from=None,
        quiet_until=None,
    )
    deliver(routed.pk)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [county.defender_attorney.email]
    assert "Booked into custody" in message.subject
    assert "Avery" not in message.body
    assert "Jordan" not in message.body


def test_it_holds_back_email_until_the_quiet_hours_end(county, routed):
    set_preferences(
        actor=actor_for_user(county.defender_attorney),
        email=True,
        quiet_from=time(0, 0),
        quiet_until=time(23, 59, 59),
    )
    assert deliver(routed.pk) == "e-mail after quiet hours"
    assert mail.outbox == []
    routed.refresh_from_db()
    assert routed.delivered_at is not None
    assert routed.status == DeliveryStatus.PENDING
    assert routed.next_attempt_at is not None
    later = DBTaskResult.objects.order_by("-enqueued_at").first()
    assert later is not None
    assert later.run_after == routed.next_attempt_at
    set_preferences(
        actor=actor_for_user(county.defender_attorney),
        email=True,
        quiet_from=None,
        quiet_until=None,
    )
    assert deliver(routed.pk) == "delivered"
    assert len(mail.outbox) == 1
    routed.refresh_from_db()
    assert routed.status == DeliveryStatus.DELIVERED


def test_it_retries_with_backoff_then_dead_letters(county, routed):
    from accord.core.actors import SYSTEM

    first = record_failure(routed.pk, "smtp down", actor=SYSTEM)
    assert first is not None
    assert first.status == DeliveryStatus.RETRYING
    second = record_failure(routed.pk, "smtp down", actor=SYSTEM)
    assert second is not None
    assert second.next_attempt_at is not None
    assert first.next_attempt_at is not None
    assert (second.next_attempt_at - first.next_attempt_at).total_seconds() >= 29
    for _ in range(4):
        record_failure(routed.pk, "smtp down", actor=SYSTEM)
    routed.refresh_from_db()
    assert routed.status == DeliveryStatus.DEAD
    assert deliver(routed.pk) == "nothing to do"


def test_it_lets_the_agency_admin_replay_a_dead_letter(county, routed):
    from accord.core.actors import SYSTEM

    for _ in range(6):
        record_failure(routed.pk, "smtp down", actor=SYSTEM)
    routed.refresh_from_db()
    with pytest.raises(NotFound):
        replay(routed, actor=actor_for_user(county.jail_admin))
    replay(routed, actor=actor_for_user(county.defender_admin))
    assert deliver(routed.pk) == "delivered"
    with pytest.raises(ActionRefused):
        replay(routed, actor=actor_for_user(county.defender_admin))


def test_it_measures_the_obligation_from_occurrence_to_delivery(county, routed):
    obligation = Obligation.objects.get(clause="4.1")
    before = compliance(obligation, since=minutes_ago(120))
    assert (before.measured, before.pending) == (1, 1)
    deliver(routed.pk)
    after = compliance(obligation, since=minutes_ago(120))
    assert (after.measured, after.met, after.percent) == (1, 1, 100)
