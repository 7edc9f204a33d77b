"""The rest of the catalogue reaches the defender's records: a sentence is recorded on its case
and sets off the office's sentencing ticklers once; a warrant is flagged on the case, the
client page and the case list until the court recalls it; a probation agency's violation and
supervision are noted with their clause. As with custody and settings: nothing without an
agreement, an older event arriving late overwrites nothing, and running again changes
nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accord.agreements.testing import make_agreement, term
from accord.audit.models import AuditEvent
from accord.cases.models import (
    Case,
    Client,
    CourtEvent,
    EventKind,
    PartnerChange,
    PartnerUpdate,
    Tickler,
    Trigger,
)
from accord.cases.partners.actions import apply_partner_event
from accord.cases.testing import run_event_effects
from accord.cases.tests.conftest import actor
from accord.cases.tests.test_partners import HARPER, at, court_mou
from accord.cases.ticklers.actions import save_tickler_rule
from accord.core.access import Purpose
from accord.core.actors import SYSTEM
from accord.core.testing import PASSWORD, as_
from accord.directory.actions import add_staff, create_agency
from accord.exchange.actions import ingest_event, revalidate_subscriptions
from accord.exchange.models import Event, Notification
from accord.people.tasks import link_pending_records

APPEAL = "Notice of appeal due 30 days after sentencing"


@pytest.fixture
def represented(case, office):
    """The fixture case, its client linked to a person and its team subscribed (as in
    ``test_partners``)."""
    link_pending_records.call(office.defender.pk)
    revalidate_subscriptions(actor=SYSTEM)
    return case


def _court(office, code, payload, key, occurred_at):
    return ingest_event(
        office.court,
        code,
        {"subject": {"source_id": "X-1", **HARPER}, **payload},
        key,
        occurred_at,
        actor=actor(office.court_clerk),
    ).event


def _update(key):
    return PartnerUpdate.objects.get(event__idempotency_key=key)


@pytest.fixture
def probation(office):
    """A probation department (not in the test county) with an officer who posts events."""
    agency = create_agency(
        actor=SYSTEM,
        name="Test Probation Department",
        short_name="TPROB",
        kind="probation",
        jurisdiction="Test County",
    )
    officer = add_staff(
        agency,
        actor=SYSTEM,
        username="probation_officer",
        first_name="Pat",
        last_name="Officer",
        email="probation_officer@test.invalid",
        roles=("officer",),
        password=PASSWORD,
    ).user
    admin = add_staff(
        agency,
        actor=SYSTEM,
        username="probation_admin",
        first_name="Pam",
        last_name="Admin",
        email="probation_admin@test.invalid",
        roles=("agency_admin",),
        password=PASSWORD,
    ).user
    return agency, officer, admin


def probation_mou(office, probation):
    agency, _officer, admin = probation
    return make_agreement(
        "MOU-PR-1",
        [(office.defender, office.defender_admin), (agency, admin)],
        [
            term(
                "5.1",
                agency,
                office.defender,
                ["identity", "case_status"],
                [Purpose.DEFENSE],
            )
        ],
    )


def _probation(probation, code, payload, key, occurred_at):
    agency, officer, _admin = probation
    return ingest_event(
        agency,
        code,
        {"subject": {"source_id": "P-77", **HARPER}, **payload},
        key,
        occurred_at,
        actor=actor(officer),
    ).event


def test_a_sentence_is_recorded_and_sets_off_the_sentencing_ticklers_once(represented, office):
    case = represented
    court_mou(office)
    save_tickler_rule(
        office.defender,
        actor=SYSTEM,
        trigger=Trigger.EVENT_HELD,
        value=EventKind.SENTENCING,
        offset_days=30,
        label=APPEAL,
    )
    hearing = at(-2, 10)
    scheduled = {"case_reference": case.number, "hearing_at": hearing.isoformat()}
    _court(
        office,
        "court.hearing_scheduled",
        {**scheduled, "hearing_type": "Sentencing hearing"},
        "s-0",
        at(-9),
    )
    sentence = "24 months probation, 100 hours community service"
    event = _court(
        office,
        "court.sentence",
        {"case_reference": case.number, "sentence": sentence},
        "s-1",
        at(-2, 11),
    )
    assert Notification.objects.filter(event=event, recipient=office.defender_attorney).exists()
    _court(office, "court.hearing_held", {**scheduled, "outcome": "Sentenced"}, "s-2", at(-2, 12))
    run_event_effects()

    case.refresh_from_db()
    day = timezone.localdate() - timedelta(days=2)
    assert (case.sentence, case.sentenced_on) == (sentence, day)
    assert _update("s-1").change == PartnerChange.SENTENCE
    setting = CourtEvent.objects.get(case=case, kind=EventKind.SENTENCING)
    # The sentence and the held sentencing are one trigger: one tickler, from the setting.
    [tickler] = Tickler.objects.filter(case=case, label=APPEAL)
    assert (tickler.due_on, tickler.source) == (day + timedelta(days=30), f"event:{setting.pk}")

    page = as_(office.defender_attorney).get(f"/cases/{case.pk}/").content.decode()
    assert "Sentence recorded" in page
    assert f"{sentence} ({day:%Y-%m-%d})" in page
    assert "MOU-CT-1 §2.1" in page
    api = as_(office.defender_attorney).get(f"/api/v1/cases/cases/{case.pk}").json()
    assert (api["sentence"], api["sentenced_on"]) == (sentence, str(day))

    # An older sentence arriving late (the court amended it since) overwrites nothing.
    _court(
        office,
        "court.sentence",
        {"case_reference": case.number, "sentence": "12 months"},
        "s-old",
        at(-3),
    )
    run_event_effects()
    case.refresh_from_db()
    assert case.sentence == sentence
    assert _update("s-old").change == PartnerChange.ARRIVED_LATE
    assert apply_partner_event(Event.objects.get(idempotency_key="s-1"), actor=SYSTEM) == []


def test_a_sentence_without_a_sentencing_setting_fires_its_own_tickler(represented, office):
    case = represented
    court_mou(office)
    save_tickler_rule(
        office.defender,
        actor=SYSTEM,
        trigger=Trigger.EVENT_HELD,
        value=EventKind.SENTENCING,
        offset_days=30,
        label=APPEAL,
    )
    payload = {"case_reference": case.number, "sentence": "Time served"}
    _court(office, "court.sentence", payload, "s-1", at(-1))
    run_event_effects()
    [tickler] = Tickler.objects.filter(case=case, label=APPEAL)
    assert tickler.source == f"sentence:{case.pk}"
    assert tickler.due_on == timezone.localdate() - timedelta(days=1) + timedelta(days=30)


def test_a_warrant_is_flagged_on_the_pages_until_the_court_recalls_it(represented, office):
    case = represented
    court_mou(office)
    issued_at = at(-1, 9, 30)
    _court(
        office,
        "court.warrant_issued",
        {"case_reference": case.number, "warrant_number": "W-1", "warrant_type": "bench"},
        "w-1",
        issued_at,
    )
    run_event_effects()
    case.refresh_from_db()
    update = _update("w-1")
    assert update.change == PartnerChange.WARRANT_ISSUED
    assert update.reference == "W-1"
    assert (case.warrant_issued_at, case.warrant_reference) == (issued_at, "W-1")
    assert case.warrant_source == update
    audited = AuditEvent.objects.get(action="cases.partner_event_applied", object_id=str(update.pk))
    assert audited.details["change"] == "warrant_issued"
    assert "MOU-CT-1 §2.1" in audited.details["basis"]

    attorney = as_(office.defender_attorney)
    shown = f"W-1, issued {timezone.localtime(issued_at):%Y-%m-%d %H:%M} by Test Circuit Court"
    for url in (f"/cases/{case.pk}/", f"/cases/clients/{case.client_id}/"):
        page = attorney.get(url).content.decode()
        assert "Warrant outstanding" in page, url
        alert = page.split('data-testid="warrant-alert"', 1)[-1].split("</div>", 1)[0]
        assert shown in alert, url
        assert "Allowed by MOU-CT-1 §2.1" in alert, url
    assert 'title="Warrant W-1 outstanding"' in attorney.get("/cases/").content.decode()
    api = attorney.get(f"/api/v1/cases/cases/{case.pk}").json()
    assert (api["warrant_outstanding"], api["warrant_reference"]) == (True, "W-1")

    _court(
        office,
        "court.warrant_recalled",
        {"case_reference": case.number, "warrant_number": "W-1"},
        "w-2",
        at(0, 0, 5),
    )
    # A second copy of the issue, older than the recall, arrives after it.
    _court(
        office,
        "court.warrant_issued",
        {"case_reference": case.number, "warrant_number": "W-1"},
        "w-1-again",
        issued_at + timedelta(minutes=1),
    )
    run_event_effects()
    case.refresh_from_db()
    assert (case.warrant_issued_at, case.warrant_reference, case.warrant_source) == (None, "", None)
    assert _update("w-2").change == PartnerChange.WARRANT_RECALLED
    assert _update("w-1-again").change == PartnerChange.ARRIVED_LATE
    for url in (f"/cases/{case.pk}/", f"/cases/clients/{case.client_id}/"):
        page = attorney.get(url).content.decode()
        assert "Warrant outstanding" not in page, url
        assert "Warrant recalled" in page or url.startswith("/cases/clients"), url
    assert 'title="Warrant W-1 outstanding"' not in attorney.get("/cases/").content.decode()
    assert attorney.get(f"/api/v1/cases/cases/{case.pk}").json()["warrant_outstanding"] is False
    assert run_event_effects() == 0


def test_a_recall_arriving_before_its_warrant_leaves_no_flag(represented, office):
    case = represented
    court_mou(office)
    ref = {"case_reference": case.number, "warrant_number": "W-9"}
    _court(office, "court.warrant_recalled", ref, "r-9", at(-1, 15))
    _court(office, "court.warrant_issued", ref, "i-9", at(-1, 9))
    run_event_effects()
    case.refresh_from_db()
    assert case.warrant_issued_at is None
    assert _update("r-9").change == PartnerChange.NOT_MATCHED
    assert _update("i-9").change == PartnerChange.ARRIVED_LATE


def test_a_warrant_naming_no_case_flags_the_clients_only_open_case(represented, office):
    case = represented
    court_mou(office)
    _court(office, "court.warrant_issued", {"warrant_number": "W-5"}, "w-5", at(-1))
    run_event_effects()
    case.refresh_from_db()
    assert case.warrant_reference == "W-5"
    assert _update("w-5").case_id == case.pk


def test_without_an_agreement_no_warrant_is_flagged(represented, office):
    case = represented
    payload = {"case_reference": case.number, "warrant_number": "W-1"}
    _court(office, "court.warrant_issued", payload, "w-1", at(-1))
    run_event_effects()
    case.refresh_from_db()
    assert case.warrant_issued_at is None
    assert not PartnerUpdate.objects.exists()


def test_probation_supervision_and_violations_are_noted_with_their_clause(
    represented, office, probation
):
    case = represented
    probation_mou(office, probation)
    started = {"officer": "J. Ortiz", "ends_on": "2028-01-31"}
    _probation(probation, "probation.supervision_started", started, "p-1", at(-20))
    violation = {"case_reference": case.number, "violation": "Missed two office visits"}
    _probation(probation, "probation.violation_filed", violation, "p-2", at(-3))
    run_event_effects()

    client = Client.objects.get(pk=case.client_id)
    assert client.on_supervision
    assert client.supervision_since == timezone.localdate() - timedelta(days=20)
    assert client.supervision_officer == "J. Ortiz"
    assert str(client.supervision_ends_on) == "2028-01-31"
    assert client.supervision_agency_id == probation[0].pk
    assert _update("p-1").change == PartnerChange.SUPERVISION_STARTED
    filed = _update("p-2")
    assert (filed.change, filed.case_id) == (PartnerChange.VIOLATION_FILED, case.pk)
    assert "Missed two office visits" in filed.summary

    attorney = as_(office.defender_attorney)
    client_page = attorney.get(f"/cases/clients/{client.pk}/").content.decode()
    assert "On supervision" in client_page
    assert "Test Probation Department, officer J. Ortiz; expected to end 2028-01-31" in client_page
    case_page = attorney.get(f"/cases/{case.pk}/").content.decode()
    assert "Probation violation filed" in case_page
    assert "Supervision started" in case_page
    assert "MOU-PR-1 §5.1" in case_page
    listed = attorney.get(f"/api/v1/cases/cases/{case.pk}/partner-updates").json()["results"]
    assert {u["change"] for u in listed} == {"supervision_started", "violation_filed"}
    assert attorney.get(f"/api/v1/cases/clients/{client.pk}").json()["supervision_officer"] == (
        "J. Ortiz"
    )

    _probation(probation, "probation.supervision_ended", {"reason": "revoked"}, "p-3", at(-1))
    # An older start (a correction of the first) arrives after the end.
    _probation(probation, "probation.supervision_started", {}, "p-old", at(-10))
    run_event_effects()
    client.refresh_from_db()
    assert not client.on_supervision
    assert client.supervision_ended_on == timezone.localdate() - timedelta(days=1)
    assert client.supervision_officer == "J. Ortiz"
    assert _update("p-3").change == PartnerChange.SUPERVISION_ENDED
    assert _update("p-old").change == PartnerChange.ARRIVED_LATE
    page = attorney.get(f"/cases/clients/{client.pk}/").content.decode()
    assert "Supervision ended" in page
    assert "On supervision" not in page
    assert run_event_effects() == 0
    assert AuditEvent.objects.filter(action="cases.partner_event_applied").count() == 4


def test_without_a_probation_agreement_nothing_is_noted(represented, office, probation):
    case = represented
    _probation(probation, "probation.supervision_started", {"officer": "X"}, "p-1", at(-2))
    run_event_effects()
    assert not Client.objects.get(pk=case.client_id).on_supervision
    assert not PartnerUpdate.objects.exists()
    assert Case.objects.get(pk=case.pk).sentence == ""
