"""The exchange pages: inbox, one notification, subscriptions, preferences, dead letters."""

from __future__ import annotations

import pytest

from accord.accounts.identity import actor_for_user
from accord.core.actors import SYSTEM
from accord.core.testing import as_, check_matrix
from accord.exchange.actions import ingest_event, record_failure
from accord.exchange.models import Notification, NotificationPreference, Subscription
from accord.exchange.tasks import deliver
from accord.exchange.testing import (
    attorney_subscribes,
    booking,
    defender_client,
    jail_mou,
    minutes_ago,
)


@pytest.fixture
def delivered(county):
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
    note = Notification.objects.get()
    deliver(note.pk)
    return note


def test_it_shows_the_inbox_with_the_unread_count_and_the_clause(
    county, delivered, django_assert_max_num_queries
):
    attorney = as_(county.defender_attorney)
    with django_assert_max_num_queries(15):
        page = attorney.get("/exchange/")
    assert page.status_code == 200
    assert "1 unread" in page.content.decode()
    assert "Booked into custody" in page.content.decode()
    detail = attorney.get(f"/exchange/notifications/{delivered.pk}")
    assert "MOU-EX-1" in detail.content.decode()
    assert "B-1" in detail.content.decode()
    assert "0 unread" in attorney.get("/exchange/").content.decode()


def test_it_keeps_a_notification_to_its_recipient(county, delivered):
    check_matrix(
        county,
        "GET",
        f"/exchange/notifications/{delivered.pk}",
        {
            None: 302,
            "defender_attorney": 200,
            "defender_investigator": 404,
            "defender_admin": 404,
            "jail_officer": 404,
        },
    )


def test_it_shows_the_pages_to_every_signed_in_person(county):
    for url in ("/exchange/", "/exchange/subscriptions", "/exchange/preferences"):
        check_matrix(county, "GET", url, {None: 302, "defender_attorney": 200, "jail_officer": 200})
    check_matrix(
        county,
        "GET",
        "/exchange/dead-letters",
        {None: 302, "defender_admin": 200, "defender_attorney": 403, "coordinator": 403},
    )


def test_it_subscribes_from_the_page_and_shows_errors_next_to_fields(county):
    record = defender_client(county)
    attorney = as_(county.defender_attorney)
    refused = attorney.post("/exchange/subscriptions", {"purpose": "defense_representation"})
    assert refused.status_code == 422
    assert "usa-error-message" in refused.content.decode()
    done = attorney.post(
        "/exchange/subscriptions",
        {
            "person_record": record.pk,
            "event_types": ["custody.booked"],
            "purpose": "defense_representation",
        },
    )
    assert done.status_code == 302
    sub = Subscription.objects.get()
    assert sub.event_types == ["custody.booked"]
    attorney.post(f"/exchange/subscriptions/{sub.pk}/end")
    sub.refresh_from_db()
    assert sub.ended_at is not None


def test_it_saves_preferences(county):
    attorney = as_(county.defender_attorney)
    half = attorney.post(
        "/exchange/preferences", {"email_mode": "immediate", "quiet_from": "22:00"}
    )
    assert half.status_code == 422
    attorney.post(
        "/exchange/preferences",
        {"email_mode": "immediate", "quiet_from": "22:00", "quiet_until": "07:00"},
    )
    assert NotificationPreference.objects.get().email


def test_it_lets_the_admin_replay_a_dead_letter_from_the_page(county, delivered):
    note = Notification.objects.get()
    ingest_event(
        county.jail,
        "custody.booked",
        booking(booking_number="B-2"),
        "k-2",
        minutes_ago(10),
        actor=actor_for_user(county.jail_officer),
    )
    dead = Notification.objects.exclude(pk=note.pk).get()
    for _ in range(6):
        record_failure(dead.pk, "smtp down", actor=SYSTEM)
    admin = as_(county.defender_admin)
    assert "smtp down" in admin.get("/exchange/dead-letters").content.decode()
    assert admin.post(f"/exchange/dead-letters/{dead.pk}/replay").status_code == 302
    dead.refresh_from_db()
    assert dead.status == "pending"


def test_it_takes_a_feed_upload_and_reports_rejected_lines(county):
    from django.core.files.uploadedfile import SimpleUploadedFile

    when = minutes_ago(5).isoformat()
    text = (
        "event_type,idempotency_key,occurred_at,booking_number,facility,"
        "subject.source_id,subject.first_name,subject.last_name\n"
        f"custody.booked,u-1,{when},B-1,Main jail,J-1,Jordan,Avery\n"
        f"custody.booked,u-2,{when},B-2,,J-2,Sam,Reyes\n"
    )
    officer = as_(county.jail_officer)
    page = officer.post("/exchange/upload", {"file": SimpleUploadedFile("feed.csv", text.encode())})
    assert page.status_code == 200
    body = page.content.decode()
    assert "1 created, 0 already taken, 1 rejected" in body
    assert "payload.facility: required" in body
    check_matrix(
        county,
        "GET",
        "/exchange/upload",
        {None: 302, "jail_officer": 200, "defender_auditor": 403, "coordinator": 403},
    )


def test_it_refuses_an_upload_that_is_not_text(county):
    from django.core.files.uploadedfile import SimpleUploadedFile

    page = as_(county.jail_officer).post(
        "/exchange/upload", {"file": SimpleUploadedFile("feed.csv", b"\xff\xfe\x00bad")}
    )
    assert page.status_code == 422
    assert "not UTF-8" in page.content.decode()
