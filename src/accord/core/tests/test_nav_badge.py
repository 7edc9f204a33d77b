"""The unread count on the "Notifications" entry of the navigation bar: the signed-in
person's own unread notifications, read out as "Notifications, 3 unread", counted in one
query, and the menu still filtered by role."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accord.accounts.identity import actor_for_user
from accord.core.navigation import navigation_for
from accord.core.testing import as_
from accord.exchange.actions import ingest_event, mark_read
from accord.exchange.models import Notification
from accord.exchange.tasks import deliver
from accord.exchange.testing import (
    attorney_subscribes,
    booking,
    defender_client,
    jail_mou,
    minutes_ago,
)

BADGE = re.compile(
    r'<span>Notifications</span><span class="usa-sr-only">,</span> '
    r'<span class="usa-tag accord-nav-badge">(\d+)<span class="usa-sr-only"> unread</span>'
)


@pytest.fixture
def three_unread(county):
    client = defender_client(county)
    jail_mou(county)
    attorney_subscribes(county, client)
    for n in range(3):
        ingest_event(
            county.jail,
            "custody.booked",
            booking(booking_number=f"B-{n}"),
            f"k-{n}",
            minutes_ago(10 - n),
            actor=actor_for_user(county.jail_officer),
        )
    for notification in Notification.objects.all():
        deliver(notification.pk)
    return list(Notification.objects.all())


def test_it_shows_the_unread_count_to_its_owner(county, three_unread):
    page = as_(county.defender_attorney).get("/").content.decode()
    assert BADGE.findall(page) == ["3"]


def test_it_counts_down_as_notifications_are_read(county, three_unread):
    mark_read(three_unread[:2], actor=actor_for_user(county.defender_attorney))
    page = as_(county.defender_attorney).get("/agreements/").content.decode()
    assert BADGE.findall(page) == ["1"]
    mark_read(three_unread[2:], actor=actor_for_user(county.defender_attorney))
    page = as_(county.defender_attorney).get("/agreements/").content.decode()
    assert "accord-nav-badge" not in page
    assert "<span>Notifications</span>" in page


def test_it_shows_nobody_else_the_count(county, three_unread):
    for person in (county.defender_supervisor, county.jail_officer, county.defender_admin):
        page = as_(person).get("/").content.decode()
        assert "<span>Notifications</span>" in page
        assert "accord-nav-badge" not in page


def test_it_counts_in_one_query_per_page(county, three_unread):
    attorney = as_(county.defender_attorney)
    with CaptureQueriesContext(connection) as queries:
        attorney.get("/agreements/")
    counts = [q["sql"] for q in queries if 'FROM "exchange_notification"' in q["sql"]]
    assert len(counts) == 1
    assert "COUNT(" in counts[0]


def test_the_menu_stays_filtered_by_role(county, three_unread):
    jail = navigation_for(actor_for_user(county.jail_officer), "/")
    attorney = navigation_for(actor_for_user(county.defender_attorney), "/")
    assert "Cases" not in [i.label for i in jail]
    assert "Cases" in [i.label for i in attorney]
    assert [i.badge for i in attorney if i.label == "Notifications"] == [3]
    assert [i.badge for i in jail if i.label == "Notifications"] == [0]
    assert all(i.badge == 0 for i in attorney if i.label != "Notifications")
