"""Failed custody texts: retried with exponential backoff up to five attempts, then a dead
letter an agency administrator sees and replays; a text once sent is never sent again.

The gateway is a real backend class configured through ``settings.ACCORD_SMS_BACKEND``
(the pluggable interface every gateway adapter implements) that refuses its first N sends.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar
from unittest import mock

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accord.accounts.identity import actor_for_user
from accord.audit.models import AuditEvent
from accord.core.actors import SYSTEM
from accord.core.errors import ActionRefused, NotFound
from accord.core.testing import as_
from accord.exchange import sms
from accord.exchange.actions import (
    TEXT_MAX_ATTEMPTS,
    begin_text_attempt,
    claim_text,
    ingest_event,
    mark_text_sent,
    replay_text,
    set_preferences,
)
from accord.exchange.models import DeliveryStatus, Notification, TextMessage
from accord.exchange.tasks import deliver, retry_stalled_texts, send_text
from accord.exchange.testing import (
    attorney_subscribes,
    booking,
    defender_client,
    jail_mou,
    minutes_ago,
)

PHONE = "+13125550123"


class FlakyGateway(sms.BaseSmsBackend):
    """A gateway that refuses its first ``failures`` sends, then sends (and keeps) them."""

    failures: ClassVar[int] = 0
    sent: ClassVar[list[sms.SmsMessage]] = []
    calls: ClassVar[int] = 0

    def send_messages(self, messages: Sequence[sms.SmsMessage]) -> int:
        type(self).calls += 1
        if type(self).failures > 0:
            type(self).failures -= 1
            raise ConnectionError("gateway unavailable")
        type(self).sent.extend(messages)
        return len(messages)


class SilentGateway(sms.BaseSmsBackend):
    """A gateway that answers but sends nothing (returns 0)."""

    def send_messages(self, messages: Sequence[sms.SmsMessage]) -> int:
        return 0


@pytest.fixture
def gateway(settings) -> Any:
    settings.ACCORD_SMS_BACKEND = f"{__name__}.FlakyGateway"
    FlakyGateway.failures = 0
    FlakyGateway.sent = []
    FlakyGateway.calls = 0
    return FlakyGateway


@pytest.fixture
def booked(county, gateway):
    client = defender_client(county)
    jail_mou(county)
    attorney_subscribes(county, client)
    set_preferences(
        actor=actor_for_user(county.defender_attorney),
        quiet_from=None,
        quiet_until=None,
        phone=PHONE,
        sms_custody=True,
    )
    ingest_event(
        county.jail,
        "custody.booked",
        booking(),
        "k-1",
        minutes_ago(5),
        actor=actor_for_user(county.jail_officer),
    )
    return Notification.objects.get()


def _due(text: TextMessage) -> datetime:
    """Just after the text's backoff ends."""
    assert text.next_attempt_at is not None
    return text.next_attempt_at + timedelta(seconds=1)


def _wait(text: TextMessage) -> timedelta:
    assert text.next_attempt_at is not None
    return text.next_attempt_at - timezone.now()


def _retry(text: TextMessage) -> str:
    """Run the attempt that is due once the text's backoff has ended."""
    return send_text(text.pk, now=_due(text))


def _queued_retries() -> list[DBTaskResult[Any, Any]]:
    return list(DBTaskResult.objects.filter(task_path__endswith="send_text_message"))


def test_it_retries_a_failed_text_with_growing_waits_and_sends_it_once(booked, gateway):
    gateway.failures = 2
    assert deliver(booked.pk) == "delivered"  # the notification does not wait for the text
    text = TextMessage.objects.get()
    assert (text.status, text.attempts, text.sent_at) == (DeliveryStatus.RETRYING, 1, None)
    assert "gateway unavailable" in text.error
    assert timedelta(seconds=25) < _wait(text) <= timedelta(seconds=30)
    assert [t.run_after for t in _queued_retries()] == [text.next_attempt_at]

    assert send_text(text.pk) == "nothing to do"  # not due yet
    assert gateway.calls == 1

    assert _retry(text) == "text retrying"
    text.refresh_from_db()
    assert text.attempts == 2
    assert timedelta(seconds=55) < _wait(text) <= timedelta(seconds=60)

    assert _retry(text) == "texted"
    text.refresh_from_db()
    assert (text.status, text.attempts, text.error) == (DeliveryStatus.DELIVERED, 3, "")
    assert text.sent_at is not None
    assert [m.to for m in gateway.sent] == [PHONE]
    assert "Sign in" in gateway.sent[0].body

    # Sent: no retry, replay or late task sends it again.
    assert send_text(text.pk, now=timezone.now() + timedelta(days=1)) == "nothing to do"
    assert mark_text_sent(text.pk, "late failure", actor=SYSTEM) is None
    with pytest.raises(ActionRefused):
        replay_text(text, actor=SYSTEM)
    assert len(gateway.sent) == 1


def test_it_dead_letters_a_text_after_five_attempts_and_audits_it(booked, gateway):
    gateway.failures = 100
    deliver(booked.pk)
    text = TextMessage.objects.get()
    waits = []
    while text.status == DeliveryStatus.RETRYING:
        waits.append(round(_wait(text).total_seconds() / 10) * 10)
        _retry(text)
        text.refresh_from_db()
    assert waits == [30, 60, 120, 240]
    assert (text.status, text.attempts, text.next_attempt_at) == (
        DeliveryStatus.DEAD,
        TEXT_MAX_ATTEMPTS,
        None,
    )
    assert gateway.calls == TEXT_MAX_ATTEMPTS
    assert send_text(text.pk, now=timezone.now() + timedelta(days=1)) == "nothing to do"
    assert gateway.calls == TEXT_MAX_ATTEMPTS
    dead = AuditEvent.objects.get(action="exchange.dead_lettered", object_id=str(text.pk))
    assert dead.details["channel"] == "sms"
    assert dead.details["attempts"] == TEXT_MAX_ATTEMPTS
    assert dead.agency_id == booked.agency_id


def test_a_backend_that_sends_nothing_counts_as_a_failure(booked, settings):
    settings.ACCORD_SMS_BACKEND = f"{__name__}.SilentGateway"
    deliver(booked.pk)
    text = TextMessage.objects.get()
    assert (text.status, text.error) == (DeliveryStatus.RETRYING, "the SMS backend sent nothing")


def test_two_workers_never_take_the_same_attempt(booked, gateway):
    gateway.failures = 1
    deliver(booked.pk)
    text = TextMessage.objects.get()
    due = _due(text)
    assert begin_text_attempt(text.pk, actor=SYSTEM, now=due) is not None
    assert begin_text_attempt(text.pk, actor=SYSTEM, now=due) is None  # the other worker
    assert send_text(text.pk, now=due) == "nothing to do"
    assert gateway.calls == 1


def _dead_text(booked, gateway) -> TextMessage:
    gateway.failures = 100
    deliver(booked.pk)
    text = TextMessage.objects.get()
    while text.status == DeliveryStatus.RETRYING:
        _retry(text)
        text.refresh_from_db()
    gateway.failures = 0
    DBTaskResult.objects.all().delete()
    return text


def test_the_admin_sees_a_dead_text_and_replays_it_from_the_page(county, booked, gateway):
    text = _dead_text(booked, gateway)
    admin = as_(county.defender_admin)
    page = admin.get("/exchange/dead-letters")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Text messages" in html
    assert "…0123" in html
    assert PHONE not in html  # administrators see the last digits only
    assert f"/exchange/dead-letters/texts/{text.pk}/replay" in html
    answer = admin.post(f"/exchange/dead-letters/texts/{text.pk}/replay")
    assert answer.status_code == 302
    text.refresh_from_db()
    assert (text.status, text.attempts) == (DeliveryStatus.PENDING, 0)
    assert len(_queued_retries()) == 1
    assert AuditEvent.objects.filter(action="exchange.replayed", object_id=str(text.pk)).exists()
    assert send_text(text.pk) == "texted"  # what the queued task runs
    assert len(gateway.sent) == 1
    assert "No text message is waiting" in admin.get("/exchange/dead-letters").content.decode()


def test_only_the_recipients_agency_admin_replays_a_text(county, booked, gateway):
    text = _dead_text(booked, gateway)
    assert (
        as_(county.jail_admin).post(f"/exchange/dead-letters/texts/{text.pk}/replay").status_code
        == 404
    )
    assert (
        as_(county.defender_attorney)
        .post(f"/exchange/dead-letters/texts/{text.pk}/replay")
        .status_code
        == 403
    )
    with pytest.raises(NotFound):
        replay_text(text, actor=actor_for_user(county.jail_admin))
    assert "…0123" not in as_(county.jail_admin).get("/exchange/dead-letters").content.decode()
    text.refresh_from_db()
    assert text.status == DeliveryStatus.DEAD


def test_the_api_lists_and_replays_dead_texts(county, booked, gateway):
    text = _dead_text(booked, gateway)
    admin = as_(county.defender_admin)
    listed = admin.get("/api/v1/exchange/dead-letters/texts").json()["results"]
    assert [(t["id"], t["status"], t["attempts"], t["to"]) for t in listed] == [
        (text.pk, "dead", TEXT_MAX_ATTEMPTS, "…0123")
    ]
    assert "gateway unavailable" in listed[0]["last_error"]
    assert (
        as_(county.defender_attorney).get("/api/v1/exchange/dead-letters/texts").status_code == 403
    )
    assert (
        as_(county.jail_admin).post(f"/api/v1/exchange/texts/{text.pk}/replay").status_code == 404
    )
    replayed = admin.post(f"/api/v1/exchange/texts/{text.pk}/replay")
    assert replayed.status_code == 200
    assert replayed.json()["status"] == "pending"
    again = admin.post(f"/api/v1/exchange/texts/{text.pk}/replay")
    assert again.status_code == 409
    assert send_text(text.pk) == "texted"
    sent = admin.post(f"/api/v1/exchange/texts/{text.pk}/replay")
    assert sent.status_code == 409
    assert "never sent twice" in sent.json()["detail"]
    assert len(gateway.sent) == 1


def test_a_text_claimed_by_a_worker_that_died_before_sending_is_sent_later(booked, gateway):
    # The worker claimed the text and was killed before its first attempt.
    text = claim_text(booked.pk, PHONE, actor=SYSTEM)
    assert text is not None
    assert deliver(booked.pk) == "delivered"  # the notification's retry leaves the text
    assert gateway.calls == 0
    assert retry_stalled_texts.call() == 0  # claimed just now: not stalled yet
    later = timezone.now() + timedelta(minutes=11)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert retry_stalled_texts.call() == 1
    assert [t.args_kwargs["args"] for t in _queued_retries()] == [[text.pk]]
    assert send_text(text.pk) == "texted"  # what the queued task runs
    assert [m.to for m in gateway.sent] == [PHONE]
    assert retry_stalled_texts.call() == 0
