"""Text messages: the pluggable backends, the E.164 number on the preference, and the
content-free custody text, sent at most once per notification and only when configured."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.utils import timezone

from accord.accounts.identity import actor_for_user
from accord.agreements.testing import make_agreement, term
from accord.core.access import Purpose
from accord.core.errors import InvalidInput
from accord.core.testing import as_, with_token
from accord.exchange import sms
from accord.exchange.actions import ingest_event, set_preferences
from accord.exchange.models import Notification, NotificationPreference, TextMessage
from accord.exchange.tasks import deliver, text_custody_event
from accord.exchange.testing import (
    attorney_subscribes,
    booking,
    defender_client,
    jail_mou,
    minutes_ago,
    token_for,
)

PHONE = "+13125550123"


@pytest.fixture(autouse=True)
def empty_outbox():
    sms.outbox.clear()
    yield
    sms.outbox.clear()


def _texts_me(county, phone=PHONE, **kwargs):
    return set_preferences(
        actor=actor_for_user(county.defender_attorney),
        quiet_from=kwargs.get("quiet_from"),
        quiet_until=kwargs.get("quiet_until"),
        phone=phone,
        sms_custody=True,
    )


@pytest.fixture
def booked(county):
    client = defender_client(county)
    jail_mou(county)
    attorney_subscribes(county, client)
    ingest_event(
        county.jail,
        "custody.booked",
        booking(),
        "k-1",
        minutes_ago(5),
        actor=actor_for_user(county.jail_officer),
    )
    return Notification.objects.select_related("event__event_type", "event__source_agency").get()


def test_the_console_backend_prints_each_message():
    stream = io.StringIO()
    backend = sms.get_backend("accord.exchange.sms.ConsoleBackend", stream=stream)
    assert backend is not None
    sent = backend.send_messages([sms.SmsMessage(PHONE, "one"), sms.SmsMessage(PHONE, "two")])
    assert sent == 2
    assert stream.getvalue() == f"SMS to {PHONE}: one\nSMS to {PHONE}: two\n"


def test_the_file_backend_appends_a_line_per_message(tmp_path):
    path = tmp_path / "sms" / "out.log"
    backend = sms.get_backend("accord.exchange.sms.FileBackend", file_path=path)
    assert backend is not None
    backend.send_messages([sms.SmsMessage(PHONE, "hello")])
    backend.send_messages([sms.SmsMessage(PHONE, "again")])
    lines = path.read_text().splitlines()
    assert [line.split("\t")[1:] for line in lines] == [[PHONE, "hello"], [PHONE, "again"]]


def test_send_sms_goes_through_the_configured_backend(settings):
    settings.ACCORD_SMS_BACKEND = "accord.exchange.sms.LocmemBackend"
    assert sms.send_sms(PHONE, "hi") == 1
    assert [(m.to, m.body) for m in sms.outbox] == [(PHONE, "hi")]


def test_without_a_backend_nothing_is_sent(settings):
    settings.ACCORD_SMS_BACKEND = ""
    assert sms.get_backend() is None
    assert sms.send_sms(PHONE, "hi") == 0
    assert sms.outbox == []


@pytest.mark.parametrize("phone", ["312-555-0123", "13125550123", "+0123456789", "+1 312 555"])
def test_it_refuses_a_number_that_is_not_e164(county, phone):
    with pytest.raises(InvalidInput) as refused:
        _texts_me(county, phone=phone)
    assert refused.value.errors[0]["field"] == "phone"


def test_custody_texts_need_a_number(county):
    with pytest.raises(InvalidInput) as refused:
        _texts_me(county, phone="")
    assert refused.value.errors == [{"field": "phone", "reason": "required for text messages"}]


def test_it_texts_a_custody_event_once_without_client_details(county, booked):
    _texts_me(county)
    assert deliver(booked.pk) == "delivered"
    assert text_custody_event(booked, NotificationPreference.objects.get()) == "already texted"
    assert len(sms.outbox) == 1
    message = sms.outbox[0]
    assert message.to == PHONE
    assert "TCJ" in message.body
    assert "Sign in" in message.body
    for secret in ("Jordan", "Avery", "B-1", "Main jail", "booked"):
        assert secret not in message.body
    text = TextMessage.objects.get()
    assert (text.notification_id, text.sent_at is not None, text.error) == (booked.pk, True, "")


def test_it_does_not_text_those_who_did_not_opt_in(county, booked):
    set_preferences(
        actor=actor_for_user(county.defender_attorney),
        quiet_from=None,
        quiet_until=None,
        phone=PHONE,
    )
    deliver(booked.pk)
    assert sms.outbox == []


def test_it_texts_only_custody_events(county):
    client = defender_client(county)
    make_agreement(
        "MOU-COURT-1",
        [(county.defender, county.defender_admin), (county.court, county.court_clerk)],
        [
            term(
                "2.1",
                county.court,
                county.defender,
                ["identity", "court_events"],
                [Purpose.DEFENSE],
            )
        ],
    )
    attorney_subscribes(county, client)
    _texts_me(county)
    ingest_event(
        county.court,
        "court.hearing_scheduled",
        {
            "subject": booking("C-1")["subject"],
            "case_reference": "CR-1",
            "hearing_at": (timezone.now() + timedelta(days=3)).isoformat(),
        },
        "c-1",
        minutes_ago(5),
        actor=actor_for_user(county.court_clerk),
    )
    notification = Notification.objects.get()
    assert deliver(notification.pk) == "delivered"
    assert sms.outbox == []
    assert not TextMessage.objects.exists()


def test_it_sends_no_text_during_quiet_hours(county, booked):
    local = timezone.localtime()
    _texts_me(
        county,
        quiet_from=(local - timedelta(hours=1)).time(),
        quiet_until=(local + timedelta(hours=1)).time(),
    )
    deliver(booked.pk)
    assert sms.outbox == []


def test_it_claims_nothing_when_no_backend_is_configured(county, booked, settings):
    settings.ACCORD_SMS_BACKEND = ""
    _texts_me(county)
    assert text_custody_event(booked, NotificationPreference.objects.get()) == "no SMS backend"
    assert not TextMessage.objects.exists()


def test_the_page_and_the_api_save_the_number(county):
    attorney = as_(county.defender_attorney)
    bad = attorney.post(
        "/exchange/preferences", {"email_mode": "none", "phone": "555-0199", "sms_custody": "on"}
    )
    assert bad.status_code == 422
    assert "an international number" in bad.content.decode()
    attorney.post(
        "/exchange/preferences", {"email_mode": "none", "phone": PHONE, "sms_custody": "on"}
    )
    pref = NotificationPreference.objects.get()
    assert (pref.phone, pref.sms_custody) == (PHONE, True)
    answer = attorney.put(
        "/api/v1/exchange/preferences",
        {"phone": "+442071838750", "sms_custody": True},
        content_type="application/json",
    )
    assert answer.status_code == 200
    assert answer.json()["phone"] == "+442071838750"
    refused = attorney.put(
        "/api/v1/exchange/preferences",
        {"phone": "12", "sms_custody": True},
        content_type="application/json",
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "phone"


def test_tokens_have_no_preferences(county):
    token = token_for(county, "jail", ["events:write"])
    assert with_token(token).get("/api/v1/exchange/preferences").status_code == 403
