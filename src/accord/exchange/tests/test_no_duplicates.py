"""One notification per event and person, however many subscriptions cover the event and
however often the sender retries it."""

from __future__ import annotations

from django.db.models import UniqueConstraint

from accord.accounts.identity import actor_for_user
from accord.exchange.actions import ingest_event, subscribe
from accord.exchange.models import Notification, Subscription
from accord.exchange.tasks import deliver
from accord.exchange.testing import (
    attorney_subscribes,
    booking,
    defender_client,
    jail_mou,
    minutes_ago,
)


def test_two_subscriptions_covering_one_event_notify_the_person_once(county):
    client = defender_client(county)
    jail_mou(county)
    attorney_subscribes(county, client)
    attorney_subscribes(county, client, case_reference="CR-9")
    subscribe(actor=actor_for_user(county.defender_attorney), case_reference="CR-9")
    assert Subscription.objects.filter(subscriber=county.defender_attorney).count() == 3
    event = ingest_event(
        county.jail,
        "custody.booked",
        {**booking(), "case_reference": "CR-9"},
        "k-1",
        minutes_ago(5),
        actor=actor_for_user(county.jail_officer),
    ).event
    notifications = list(Notification.objects.filter(event=event))
    assert [n.recipient_id for n in notifications] == [county.defender_attorney.pk]


def test_a_retried_event_notifies_nobody_twice(county):
    client = defender_client(county)
    jail_mou(county)
    attorney_subscribes(county, client)
    for _ in range(3):
        ingest_event(
            county.jail,
            "custody.booked",
            booking(),
            "k-1",
            minutes_ago(5),
            actor=actor_for_user(county.jail_officer),
        )
    notification = Notification.objects.get()
    assert deliver(notification.pk) == "delivered"
    assert deliver(notification.pk) == "nothing to do"
    assert Notification.objects.count() == 1


def test_the_database_holds_one_notification_per_event_and_recipient():
    unique = [
        tuple(c.fields)
        for c in Notification._meta.constraints
        if isinstance(c, UniqueConstraint) and c.name == "notification_once"
    ]
    assert unique == [("event", "recipient")]
