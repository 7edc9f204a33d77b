"""Partner agencies' events reach the defender's records: a continuance posted by the court
moves the hearing on the case page, the calendar and the iCalendar feed; a booking puts the
client in custody with the clause that allowed it; nothing changes without an agreement; an
older event arriving late overwrites nothing; the client page lists what partners shared,
with the clause, and records the disclosure."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone

from accord.agreements.testing import make_agreement, term
from accord.audit.models import AuditEvent
from accord.cases import actions
from accord.cases.models import (
    CourtEvent,
    CustodyStatus,
    EventStatus,
    PartnerChange,
    PartnerUpdate,
)
from accord.cases.partners.actions import apply_partner_event, disposition_of, kind_of
from accord.cases.testing import run_event_effects
from accord.cases.tests.conftest import actor
from accord.core.access import Purpose
from accord.core.actors import SYSTEM
from accord.core.testing import as_, with_token
from accord.exchange.actions import ingest_event, revalidate_subscriptions
from accord.exchange.models import Event, Notification
from accord.exchange.testing import jail_mou, token_for
from accord.people.tasks import link_pending_records
from accord.policy.models import Disclosure

HARPER = {"first_name": "William", "last_name": "Harper", "date_of_birth": "1990-03-04"}


def court_mou(county, reference="MOU-CT-1"):
    """The court tells the defender of court dates for defense representation (§2.1)."""
    return make_agreement(
        reference,
        [(county.defender, county.defender_admin), (county.court, county.court_clerk)],
        [
            term(
                "2.1",
                county.court,
                county.defender,
                ["identity", "court_events", "case_status"],
                [Purpose.DEFENSE],
            )
        ],
    )


def at(days, hour=10, minute=0):
    day = timezone.localdate() + timedelta(days=days)
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def post_event(client, code, payload, key, occurred_at=None):
    body = {
        "event_type": code,
        "idempotency_key": key,
        "occurred_at": (occurred_at or timezone.now() - timedelta(minutes=5)).isoformat(),
        "payload": {"subject": {"source_id": "X-1", **HARPER}, **payload},
    }
    response = client.post("/api/v1/events", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    return Event.objects.get(pk=response.json()["id"])


@pytest.fixture
def represented(case, office):
    """The fixture case with its client linked to a person and its team subscribed (the
    hourly revalidation, run now)."""
    link_pending_records.call(office.defender.pk)
    revalidate_subscriptions(actor=SYSTEM)
    return case


def test_a_continuance_moves_the_hearing_on_the_case_page_calendar_and_feed(represented, office):
    case = represented
    court_mou(office)
    was, moved = at(5), at(19, 13, 30)
    setting = actions.schedule_event(
        case, actor=actor(office.defender_attorney), kind="pretrial", starts_at=was
    )
    attorney = as_(office.defender_attorney)
    feed = attorney.post("/api/v1/cases/calendar/feed", content_type="application/json").json()
    feed_path = feed["url"].split("testserver", 1)[1]

    court = with_token(token_for(office, "court", ["events:write"]))
    event = post_event(
        court,
        "court.hearing_continued",
        {
            "case_reference": case.number,
            "hearing_at": moved.isoformat(),
            "continued_from": was.isoformat(),
            "hearing_type": "pretrial conference",
            "reason": "State's witness unavailable",
        },
        "c-1",
    )
    assert Notification.objects.filter(event=event, recipient=office.defender_attorney).exists()
    assert run_event_effects() == 1

    setting.refresh_from_db()
    assert setting.status == EventStatus.CONTINUED
    assert setting.sequence == 1
    new = setting.continued_to
    assert new is not None
    assert (new.starts_at, new.status, new.kind) == (moved, EventStatus.SCHEDULED, "pretrial")

    page = attorney.get(f"/cases/{case.pk}/").content.decode()
    assert f"{timezone.localtime(moved):%Y-%m-%d %H:%M}" in page
    assert "Hearing continued" in page
    assert "MOU-CT-1 §2.1" in page
    assert "Test Circuit Court" in page

    day = str(timezone.localtime(moved).date())
    listed = attorney.get("/api/v1/cases/calendar", {"start": day, "days": "1"}).json()
    assert [datetime.fromisoformat(e["starts_at"].replace("Z", "+00:00")) for e in listed] == [
        moved
    ]

    ics = as_(None).get(feed_path).content.decode()
    assert f"UID:court-event-{new.pk}@accord" in ics
    assert f"DTSTART:{moved.astimezone(UTC):%Y%m%dT%H%M%SZ}" in ics
    old_block = ics.split(f"UID:court-event-{setting.pk}@accord", 1)[1].split("END:VEVENT")[0]
    assert "SEQUENCE:1" in old_block
    assert "STATUS:CANCELLED" in old_block
    assert "Continued to" in old_block


def test_a_booking_puts_the_client_in_custody_with_its_clause(represented, office):
    case = represented
    jail_mou(office)
    jail = with_token(token_for(office, "jail", ["events:write"]))
    post_event(jail, "custody.booked", {"booking_number": "B-123", "facility": "Main jail"}, "b-1")
    run_event_effects()

    spell = CustodyStatus.objects.get(client=case.client)
    assert (spell.booking_number, spell.facility, spell.released_on) == ("B-123", "Main jail", None)
    page = as_(office.defender_attorney).get(f"/cases/{case.pk}/").content.decode()
    assert "In custody since" in page
    assert "Custody changed by Test County Jail booking B-123" in page
    assert "MOU-EX-1 §3.2" in page
    assert AuditEvent.objects.filter(action="cases.partner_event_applied").count() == 1

    post_event(jail, "custody.released", {"booking_number": "B-123"}, "b-2")
    run_event_effects()
    spell.refresh_from_db()
    assert spell.released_on == timezone.localdate()


def test_without_an_agreement_nothing_changes_and_the_refusal_is_audited(represented, office):
    case = represented
    jail = with_token(token_for(office, "jail", ["events:write"]))
    event = post_event(
        jail, "custody.booked", {"booking_number": "B-9", "facility": "Main jail"}, "b-1"
    )
    run_event_effects()
    assert not Notification.objects.filter(event=event).exists()
    assert not CustodyStatus.objects.filter(client=case.client).exists()
    assert not PartnerUpdate.objects.exists()
    refusals = AuditEvent.objects.filter(action="exchange.event_refused", object_id=str(event.pk))
    assert office.defender_attorney.pk in {r.details["recipient"] for r in refusals}
    assert {r.outcome for r in refusals} == {"denied"}
    assert all("no agreement" in r.details["reason"] for r in refusals)
    page = as_(office.defender_attorney).get(f"/cases/{case.pk}/").content.decode()
    assert "No changes from partner agencies" in page
    assert "No custody recorded" in page


def _ingest(office, code, payload, key, occurred_at, *, agency="jail", person="jail_officer"):
    return ingest_event(
        office.agencies[agency],
        code,
        {"subject": {"source_id": "X-1", **HARPER}, **payload},
        key,
        occurred_at,
        actor=actor(office.people[person]),
    )


def test_an_older_event_arriving_late_overwrites_nothing(represented, office):
    case = represented
    jail_mou(office)
    court_mou(office)
    now = timezone.now()
    released_at, booked_at = now - timedelta(hours=1), now - timedelta(days=2)
    # The release arrives before its booking: the booking is recorded as a spell that is over.
    _ingest(office, "custody.released", {"booking_number": "B-1"}, "r-1", released_at)
    booked = {"booking_number": "B-1", "facility": "Main jail"}
    _ingest(office, "custody.booked", booked, "b-1", booked_at)
    run_event_effects()
    spell = CustodyStatus.objects.get(client=case.client)
    # The days the events happened on, in the county's time zone (an hour ago is yesterday
    # in the first hour of the day).
    assert spell.released_on == timezone.localdate(released_at)
    assert spell.in_custody_since == timezone.localdate(booked_at)

    # The court continued the pretrial twice; the older continuance arrives last.
    first, second, third = at(4), at(11), at(25)
    actions.schedule_event(
        case, actor=actor(office.defender_attorney), kind="pretrial", starts_at=first
    )
    newer = {"continued_from": first.isoformat(), "hearing_at": third.isoformat()}
    older = {"continued_from": first.isoformat(), "hearing_at": second.isoformat()}
    for key, payload, minutes in (("c-new", newer, 10), ("c-old", older, 60)):
        _ingest(
            office,
            "court.hearing_continued",
            {"case_reference": case.number, **payload},
            key,
            now - timedelta(minutes=minutes),
            agency="court",
            person="court_clerk",
        )
    run_event_effects()
    setting = CourtEvent.objects.get(case=case, starts_at=first)
    assert setting.continued_to is not None
    assert setting.continued_to.starts_at == third
    assert not CourtEvent.objects.filter(case=case, starts_at=second).exists()
    late = PartnerUpdate.objects.get(event__idempotency_key="c-old")
    assert late.change == PartnerChange.ARRIVED_LATE

    # Applying an event again changes nothing.
    assert run_event_effects() == 0
    event = Event.objects.get(idempotency_key="c-new")
    assert apply_partner_event(event, actor=SYSTEM) == []
    assert PartnerUpdate.objects.count() == 4


def test_the_client_page_lists_what_partners_shared_with_the_clause(represented, office):
    case = represented
    jail = with_token(token_for(office, "jail", ["events:write"]))
    post_event(jail, "custody.booked", {"booking_number": "B-5", "facility": "North annex"}, "b-0")
    url = f"/cases/clients/{case.client_id}/"
    before = as_(office.defender_attorney).get(url).content.decode()
    assert "Nothing shared with you about this client" in before
    assert not Disclosure.objects.exists()

    jail_mou(office)
    page = as_(office.defender_investigator).get(url).content.decode()
    assert "Booked into custody" in page
    assert "booking B-5 · facility North annex" in page
    assert "MOU-EX-1 §3.2" in page
    disclosure = Disclosure.objects.get()
    assert disclosure.discloser_id == office.jail.pk
    assert disclosure.recipient_id == office.defender.pk
    assert disclosure.action == "view"
    assert disclosure.client_key == case.client.number
    assert as_(office.prosecutor).get(url).status_code == 403


def test_the_shared_list_is_paginated_newest_first(represented, office):
    case = represented
    jail_mou(office)
    for n in range(12):
        _ingest(
            office,
            "custody.transferred",
            {"booking_number": "B-7", "to_facility": f"Unit {n:02d}"},
            f"t-{n}",
            timezone.now() - timedelta(hours=12 - n),
        )
    url = f"/cases/clients/{case.client_id}/"
    first = as_(office.defender_attorney).get(url).content.decode()
    assert "Unit 11" in first
    assert "Unit 01" not in first
    second = as_(office.defender_attorney).get(url, {"page": 2}).content.decode()
    assert "Unit 01" in second


def test_the_shared_list_costs_the_same_queries_for_few_or_many_items(represented, office):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    case = represented
    jail_mou(office)
    url = f"/cases/clients/{case.client_id}/"
    attorney = as_(office.defender_attorney)
    counts = []
    for batch in (range(2), range(2, 14)):
        for n in batch:
            _ingest(
                office,
                "custody.transferred",
                {"booking_number": "B-7", "to_facility": f"Unit {n:02d}"},
                f"t-{n}",
                timezone.now() - timedelta(hours=20 - n),
            )
        attorney.get(url)
        with CaptureQueriesContext(connection) as queries:
            attorney.get(url)
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_court_words_map_to_the_offices_codes():
    assert kind_of("Pretrial Conference") == "pretrial"
    assert kind_of("status hearing") == "review"
    assert kind_of("jury trial") == "trial"
    assert kind_of("something else") == "other"
    assert disposition_of("Dismissed with prejudice") == "dismissed"
    assert disposition_of("not guilty") == "acquitted"
    assert disposition_of("nolle_prosequi") == "nolle_prosequi"


def test_the_demo_terms_cover_every_event_the_simulator_plays(county):
    from accord.demo.agreements import COURT_TO_DEFENDER, JAIL_TO_DEFENDER
    from accord.exchange.actions import event_type_for

    for code, covered in (
        ("custody.booked", JAIL_TO_DEFENDER),
        ("custody.released", JAIL_TO_DEFENDER),
        ("court.hearing_scheduled", COURT_TO_DEFENDER),
        ("court.hearing_continued", COURT_TO_DEFENDER),
    ):
        assert set(event_type_for(code).categories) <= set(covered), code


def test_a_seeded_demo_caseload_and_the_simulator_notify_and_change_cases(office, monkeypatch):
    """The demo's cause of silence: its loaded clients had no master person (nothing linked
    them), so no booking found them; and the court's term lacked identity."""
    from accord.demo import cases as demo
    from accord.demo.agreements import COURT_TO_DEFENDER, JAIL_TO_DEFENDER
    from accord.directory.actions import add_staff
    from accord.exchange.simulate import simulate
    from accord.people.models import PersonLink

    monkeypatch.setattr(demo, "CLIENTS", 30)
    monkeypatch.setattr(demo, "EXTRA_ATTORNEYS", 1)
    add_staff(
        office.defender,
        actor=SYSTEM,
        username="dana.attorney",
        first_name="Dana",
        last_name="Whitfield",
        email="d@x.invalid",
        roles=("attorney",),
        attributes={"bar_number": "D-1"},
    )
    demo.seed_cases({"HCPD": office.defender, "HCCC": office.court}, actor=SYSTEM)
    assert not PersonLink.objects.filter(
        record__agency=office.defender, record__defender_client__isnull=False, master=None
    ).exists()
    assert PersonLink.objects.filter(record__defender_client__number="HC-0001").exists()
    for reference, discloser, signer, covered in (
        ("MOU-DEMO-J", office.jail, office.jail_admin, JAIL_TO_DEFENDER),
        ("MOU-DEMO-C", office.court, office.court_clerk, COURT_TO_DEFENDER),
    ):
        make_agreement(
            reference,
            [(office.defender, office.defender_admin), (discloser, signer)],
            [term("1.1", discloser, office.defender, list(covered), [Purpose.DEFENSE])],
        )
    said: list[str] = []
    assert simulate(16, interval=0, seed=3, say=said.append) == 16
    notified = Notification.objects.values("event").distinct().count()
    assert notified >= 12, said
    assert run_event_effects() > 0
    assert PartnerUpdate.objects.filter(
        change__in=[PartnerChange.CUSTODY_BEGAN, PartnerChange.CUSTODY_ENDED]
    ).exists()
    assert PartnerUpdate.objects.filter(
        change__in=[PartnerChange.HEARING_MOVED, PartnerChange.HEARING_SCHEDULED]
    ).exists()
