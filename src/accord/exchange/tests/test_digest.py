"""Daily digest e-mails: one per person and day at the hour they chose, held during quiet
hours, never two for the same day whatever the runs, and without client details."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accord.accounts.identity import actor_for_user
from accord.core.actors import SYSTEM
from accord.core.errors import InvalidInput
from accord.core.testing import as_
from accord.exchange.actions import claim_digest, ingest_event, set_preferences
from accord.exchange.models import Digest, EmailMode, Notification, NotificationPreference
from accord.exchange.tasks import deliver, send_digests
from accord.exchange.testing import (
    attorney_subscribes,
    booking,
    defender_client,
    jail_mou,
    minutes_ago,
)


def _far_hour() -> int:
    """A digest hour twelve hours from now: the due moment does not move during a test."""
    return (timezone.localtime().hour + 12) % 24


@pytest.fixture
def delivered(county):
    client = defender_client(county)
    jail_mou(county)
    attorney_subscribes(county, client)
    for n in (1, 2):
        ingest_event(
            county.jail,
            "custody.booked",
            booking(booking_number=f"B-{n}"),
            f"k-{n}",
            minutes_ago(30 - n),
            actor=actor_for_user(county.jail_officer),
        )
    return list(Notification.objects.order_by("pk"))


def _digest_mode(county, **kwargs):
    return set_preferences(
        actor=actor_for_user(county.defender_attorney),
        email_mode=EmailMode.DIGEST,
        digest_hour=_far_hour(),
        quiet_from=kwargs.get("quiet_from"),
        quiet_until=kwargs.get("quiet_until"),
    )


def test_it_sends_no_immediate_email_in_digest_mode(county, delivered):
    _digest_mode(county)
    for n in delivered:
        assert deliver(n.pk) == "delivered"
    assert mail.outbox == []


def test_it_sends_one_digest_without_client_details(county, delivered):
    _digest_mode(county)
    for n in delivered:
        deliver(n.pk)
    assert send_digests() == {"sent": 1, "failed": 0}
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [county.defender_attorney.email]
    assert "2 notification(s)" in message.subject
    assert "- Booked into custody, from Test County Jail: 2\n" in message.body
    for n in delivered:
        assert f"/exchange/notifications/{n.pk}" in message.body
    for secret in ("Jordan", "Avery", "B-1", "Main jail", "1990"):
        assert secret not in message.body
    digest = Digest.objects.get()
    assert digest.count == 2
    assert digest.sent_at is not None
    assert set(digest.items.values_list("pk", flat=True)) == {n.pk for n in delivered}
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 0


def test_it_sends_the_days_digest_once_whatever_the_runs(county, delivered):
    _digest_mode(county)
    for n in delivered:
        deliver(n.pk)
    send_digests()
    assert send_digests() == {"sent": 0, "failed": 0}
    assert send_digests(timezone.now() + timedelta(hours=1)) == {"sent": 0, "failed": 0}
    assert len(mail.outbox) == 1
    assert Digest.objects.count() == 1


def test_a_second_claim_of_the_same_day_decides_nothing(county, delivered):
    pref = _digest_mode(county)
    for n in delivered:
        deliver(n.pk)
    now = timezone.now()
    assert claim_digest(pref.pk, actor=SYSTEM, now=now) is not None
    assert claim_digest(pref.pk, actor=SYSTEM, now=now + timedelta(minutes=1)) is None


def test_it_sends_a_digest_whose_worker_died_after_claiming_it_once(county, delivered):
    pref = _digest_mode(county)
    for n in delivered:
        deliver(n.pk)
    now = timezone.now()
    claimed = claim_digest(pref.pk, actor=SYSTEM, now=now)  # then the worker is killed
    assert claimed is not None
    assert claimed.sent_at is None
    assert send_digests(now + timedelta(minutes=5)) == {"sent": 0, "failed": 0}
    assert send_digests(now + timedelta(minutes=20)) == {"sent": 1, "failed": 0}
    assert send_digests(now + timedelta(minutes=40)) == {"sent": 0, "failed": 0}
    assert len(mail.outbox) == 1


def test_it_holds_the_digest_during_quiet_hours(county, delivered):
    local = timezone.localtime()
    _digest_mode(
        county,
        quiet_from=(local - timedelta(hours=1)).time(),
        quiet_until=(local + timedelta(hours=1)).time(),
    )
    for n in delivered:
        deliver(n.pk)
    assert send_digests() == {"sent": 0, "failed": 0}
    assert not Digest.objects.exists()
    assert send_digests(timezone.now() + timedelta(hours=2)) == {"sent": 1, "failed": 0}
    assert len(mail.outbox) == 1


def test_it_records_an_empty_day_without_an_email(county):
    _digest_mode(county)
    assert send_digests() == {"sent": 0, "failed": 0}
    digest = Digest.objects.get()
    assert digest.count == 0
    assert digest.sent_at is not None
    assert mail.outbox == []


def test_the_next_digest_covers_only_what_came_after(county, delivered):
    pref = _digest_mode(county)
    deliver(delivered[0].pk)
    now = timezone.now()
    send_digests(now)
    deliver(delivered[1].pk)
    tomorrow = now + timedelta(days=1)
    assert pref.digest_due_at(tomorrow) != pref.digest_due_at(now)
    send_digests(tomorrow)
    assert len(mail.outbox) == 2
    assert f"/exchange/notifications/{delivered[1].pk}" in mail.outbox[1].body
    assert f"/exchange/notifications/{delivered[0].pk}" not in mail.outbox[1].body


def test_a_digest_needs_an_hour(county):
    with pytest.raises(InvalidInput) as refused:
        set_preferences(
            actor=actor_for_user(county.defender_attorney),
            email_mode=EmailMode.DIGEST,
            quiet_from=None,
            quiet_until=None,
        )
    assert refused.value.errors == [
        {"field": "digest_hour", "reason": "required for a daily digest"}
    ]


def test_the_digest_hour_is_in_the_offices_time_zone(county, settings):
    pref = _digest_mode(county)
    due = pref.digest_due_at()
    assert timezone.localtime(due).hour == pref.digest_hour
    assert str(timezone.localtime(due).tzinfo) == settings.TIME_ZONE
    assert due <= timezone.now() < due + timedelta(days=1)


def test_the_page_saves_the_digest_choice(county):
    attorney = as_(county.defender_attorney)
    missing = attorney.post("/exchange/preferences", {"email_mode": "digest"})
    assert missing.status_code == 422
    assert "required for a daily digest" in missing.content.decode()
    attorney.post("/exchange/preferences", {"email_mode": "digest", "digest_hour": "7"})
    pref = NotificationPreference.objects.get()
    assert (pref.email_mode, pref.digest_hour, pref.email) == ("digest", 7, False)
    page = attorney.get("/exchange/preferences").content.decode()
    assert 'value="digest" class="usa-radio__input" id="id_email_mode_2" required checked' in page
    assert '<option value="7" selected>07:00</option>' in page


def test_the_api_sets_and_reads_the_digest_choice(county):
    attorney = as_(county.defender_attorney)
    assert attorney.get("/api/v1/exchange/preferences").json()["email_mode"] == "none"
    answer = attorney.put(
        "/api/v1/exchange/preferences",
        {"email_mode": "digest", "digest_hour": 18, "quiet_from": "22:00", "quiet_until": "07:00"},
        content_type="application/json",
    )
    assert answer.status_code == 200
    body = answer.json()
    assert (body["email_mode"], body["digest_hour"], body["quiet_until"]) == (
        "digest",
        18,
        "07:00:00",
    )
    again = attorney.get("/api/v1/exchange/preferences").json()
    assert again["digest_hour"] == 18
    bad = attorney.put(
        "/api/v1/exchange/preferences",
        {"email_mode": "digest"},
        content_type="application/json",
    )
    assert bad.status_code == 422


def test_it_moves_those_who_asked_for_email_to_the_immediate_mode(county):
    pref = set_preferences(
        actor=actor_for_user(county.defender_attorney),
        email=True,
        quiet_from=time(22),
        quiet_until=time(7),
    )
    assert pref.email_mode == EmailMode.IMMEDIATE
    assert pref.email
