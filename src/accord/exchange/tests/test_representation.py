"""Subscriptions follow the representation: assigned staff are subscribed to the case and its
client; the subscription ends with the assignment."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from accord.accounts.identity import actor_for_user
from accord.cases import actions as cases
from accord.cases.models import Assignment, CaseType
from accord.core.actors import SYSTEM
from accord.exchange.actions import ingest_event, revalidate_subscriptions
from accord.exchange.models import Notification, Subscription, SubscriptionOrigin
from accord.exchange.testing import booking, jail_mou, minutes_ago
from accord.people.tasks import link_pending_records


def _case(county):
    client = cases.create_client(
        county.defender,
        actor=actor_for_user(county.defender_attorney),
        first_name="Jordan",
        last_name="Avery",
        date_of_birth=date(1990, 4, 12),
    )
    return cases.open_case(
        client,
        actor=actor_for_user(county.defender_attorney),
        number="2026-CF-000777",
        court=county.court,
        case_type=CaseType.objects.get(standard="NPDWS-2023", code="felony_mid"),
        opened_on=timezone.localdate() - timedelta(days=3),
        charges=[
            {"statute": "720 ILCS 5/19-1", "description": "Burglary", "level": "felony"},
        ],
    )


def test_it_subscribes_assigned_staff_and_ends_with_the_assignment(county):
    case = _case(county)
    jail_mou(county)
    assigned = set(Assignment.objects.filter(case=case).values_list("staff__user_id", flat=True))
    assert county.defender_attorney.pk in assigned
    assert revalidate_subscriptions(actor=SYSTEM)["created"] == len(assigned)
    sub = Subscription.objects.get(subscriber=county.defender_attorney)
    assert sub.origin == SubscriptionOrigin.ASSIGNMENT
    assert sub.case_reference == "2026-CF-000777"
    # Identity resolution links the new client's record in the worker; then the
    # subscription is completed with the person.
    link_pending_records.call(county.defender.pk)
    assert revalidate_subscriptions(actor=SYSTEM) == {"created": 0, "ended": 0}
    sub.refresh_from_db()
    assert sub.master_id is not None

    # The jail's booking of the same person reaches the assigned attorney.
    ingest_event(
        county.jail,
        "custody.booked",
        booking(),
        "k-1",
        minutes_ago(5),
        actor=actor_for_user(county.jail_officer),
    )
    assert Notification.objects.filter(recipient=county.defender_attorney).count() == 1

    for assignment in Assignment.objects.filter(case=case):
        cases.end_assignment(
            assignment, actor=SYSTEM, ends_on=timezone.localdate() - timedelta(days=1)
        )
    assert revalidate_subscriptions(actor=SYSTEM)["ended"] == len(assigned)
    sub.refresh_from_db()
    assert sub.ended_at is not None
    assert "assignment ended" in sub.end_reason


def test_it_simulates_a_stream_that_reaches_the_assigned_attorney(county):
    from io import StringIO

    from django.core.management import call_command

    from accord.agreements.testing import make_agreement, term
    from accord.core.access import Purpose

    _case(county)
    link_pending_records.call(county.defender.pk)
    jail_mou(county)
    make_agreement(
        "MOU-EX-COURT",
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
    out = StringIO()
    call_command(
        "exchange", "simulate", "--count", "6", "--interval", "0", "--seed", "3", stdout=out
    )
    assert "6 events posted." in out.getvalue()
    assert Notification.objects.filter(recipient=county.defender_attorney).count() == 6
