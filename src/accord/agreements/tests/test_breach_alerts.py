"""Breach alerts: an event the jail owes the defender within an hour that is delivered
late, or still not delivered, raises one alert to both parties' administrators (in the
app and by e-mail, audited), whatever the runs of the hourly check; and the agreement and
compliance pages show this month's compliance with the median delay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accord.accounts.identity import actor_for_user
from accord.agreements.actions import raise_breach_alerts
from accord.agreements.measurement import compliance, this_month
from accord.agreements.models import BreachAlert, BreachKind, Obligation
from accord.agreements.tasks import check_obligations, send_breach_alert
from accord.agreements.testing import on_day
from accord.audit.models import AuditEvent
from accord.core.actors import SYSTEM
from accord.core.testing import as_, check_matrix
from accord.exchange.actions import ingest_event
from accord.exchange.models import Notification
from accord.exchange.tasks import deliver
from accord.exchange.testing import (
    attorney_subscribes,
    booking,
    defender_client,
    jail_mou,
    minutes_ago,
)


@pytest.fixture
def mou(county):
    """In force since two days ago: bookings to the defender within one hour (§4.1)."""
    with on_day(timezone.localdate() - timedelta(days=2)):
        agreement = jail_mou(county, hours=1)
    attorney_subscribes(county, defender_client(county))
    return agreement


def _booked(county, key, occurred_at):
    ingest_event(
        county.jail,
        "custody.booked",
        booking(booking_number=key),
        key,
        occurred_at,
        actor=actor_for_user(county.jail_officer),
    )
    return Notification.objects.get(event__idempotency_key=key)


def test_it_alerts_both_parties_administrators_of_an_undelivered_event_once(county, mou):
    notification = _booked(county, "late-1", minutes_ago(90))
    assert raise_breach_alerts(actor=SYSTEM) == 1
    alert = BreachAlert.objects.get()
    assert alert.kind == BreachKind.OVERDUE
    assert alert.occurrence == f"exchange.event:{notification.event_id}"
    assert sorted(alert.recipients) == sorted([county.defender_admin.pk, county.jail_admin.pk])
    assert raise_breach_alerts(actor=SYSTEM) == 0
    deliver(notification.pk)  # delivered at last: the same breach, no second alert
    assert raise_breach_alerts(actor=SYSTEM) == 0
    assert BreachAlert.objects.count() == 1


def test_it_alerts_an_event_delivered_late(county, mou):
    notification = _booked(county, "late-2", minutes_ago(75))
    deliver(notification.pk)
    assert raise_breach_alerts(actor=SYSTEM) == 1
    alert = BreachAlert.objects.get()
    assert alert.kind == BreachKind.LATE
    assert alert.completed_at is not None
    assert "was done after 1.2 h" in alert.words() or "was done after 1.3 h" in alert.words()


def test_it_raises_nothing_for_events_on_time_or_still_within_time(county, mou):
    on_time = _booked(county, "ok-1", minutes_ago(20))
    deliver(on_time.pk)
    _booked(county, "ok-2", minutes_ago(10))  # not delivered, but due in 50 minutes
    assert raise_breach_alerts(actor=SYSTEM) == 0
    assert raise_breach_alerts(actor=SYSTEM, now=timezone.now() + timedelta(hours=1)) == 1


def test_it_emails_the_alert_once_without_personal_data(county, mou):
    _booked(county, "late-3", minutes_ago(90))
    check_obligations.call()
    task = DBTaskResult.objects.filter(task_path__endswith="email_breach_alert").get()
    alert = BreachAlert.objects.get()
    assert task.args_kwargs["args"] == [alert.pk]
    assert send_breach_alert(alert.pk) is True
    assert send_breach_alert(alert.pk) is False
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == sorted([county.defender_admin.email, county.jail_admin.email])
    assert "MOU-EX-1 §4.1: obligation missed" in message.subject
    assert "still not done" in message.body
    for secret in ("Jordan", "Avery", "late-3", "Main jail"):
        assert secret not in message.body
    alert.refresh_from_db()
    assert alert.emailed_at is not None


def test_it_audits_each_alert(county, mou):
    _booked(county, "late-4", minutes_ago(90))
    raise_breach_alerts(actor=SYSTEM)
    row = AuditEvent.objects.get(action="agreement.breach_alerted")
    alert = BreachAlert.objects.get()
    assert row.details["alert"] == alert.pk
    assert row.details["clause"] == "4.1"
    assert row.details["kind"] == "overdue"


def test_it_measures_this_month_with_the_median_delay(county, mou):
    for key, minutes in (("m-1", 5), ("m-2", 3), ("m-3", 4)):
        deliver(_booked(county, key, minutes_ago(minutes)).pk)
    obligation = Obligation.objects.get(clause="4.1")
    month = this_month(obligation)
    assert (month.met, month.late, month.overdue) == (3, 0, 0)
    assert month.median is not None
    assert timedelta(minutes=4) <= month.median < timedelta(minutes=5)
    assert month.headline("this month") == "100% on time this month (3 of 3), median 4 min"
    since = compliance(obligation)
    assert since.median_words == "4 min"


def test_the_agreement_page_shows_the_month_and_the_alerts(county, mou):
    deliver(_booked(county, "p-1", minutes_ago(2)).pk)
    _booked(county, "p-2", minutes_ago(90))
    raise_breach_alerts(actor=SYSTEM)
    page = as_(county.defender_attorney).get(f"/agreements/{mou.pk}/").content.decode()
    assert "on time this month (1 of 2), median 2 min" in page
    assert "50% on time this month" in page
    assert "Breach alerts" in page
    assert "still not done" in page


def test_the_compliance_page_is_for_coordinators_administrators_and_auditors(county, mou):
    _booked(county, "c-1", minutes_ago(90))
    raise_breach_alerts(actor=SYSTEM)
    check_matrix(
        county,
        "GET",
        "/agreements/compliance",
        {
            None: 302,
            "coordinator": 200,
            "defender_admin": 200,
            "jail_admin": 200,
            "council_auditor": 200,
            "defender_attorney": 403,
            "jail_officer": 403,
        },
    )
    page = as_(county.coordinator).get("/agreements/compliance").content.decode()
    assert "MOU-EX-1" in page
    assert "still not done" in page
    assert "nothing to measure this month yet" not in page
    admin = as_(county.defender_admin).get("/agreements/compliance").content.decode()
    assert "MOU-EX-1" in admin


def test_the_api_lists_alerts_to_the_parties_only(county, mou):
    _booked(county, "a-1", minutes_ago(90))
    raise_breach_alerts(actor=SYSTEM)
    mine = as_(county.jail_admin).get("/api/v1/agreements/breach-alerts").json()
    assert [(a["clause"], a["kind"]) for a in mine["results"]] == [("4.1", "overdue")]
    assert mine["results"][0]["agreement_id"] == mou.pk
    theirs = as_(county.prosecutor).get("/api/v1/agreements/breach-alerts").json()
    assert theirs["results"] == []
    obligation = Obligation.objects.get(clause="4.1")
    measured = (
        as_(county.jail_admin)
        .get(f"/api/v1/agreements/{mou.pk}/obligations/{obligation.pk}/compliance")
        .json()
    )
    assert measured["overdue"] == 1
    assert measured["this_month"].startswith("0% on time this month (0 of 1)")
    assert measured["this_month_percent"] == 0


def test_the_navigation_shows_compliance_to_oversight_roles_only(county, mou):
    coordinator = as_(county.coordinator).get("/").content.decode()
    attorney = as_(county.defender_attorney).get("/").content.decode()
    assert "<span>Compliance</span>" in coordinator
    assert "<span>Compliance</span>" not in attorney
