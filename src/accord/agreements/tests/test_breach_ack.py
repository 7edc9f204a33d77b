"""Acknowledging a breach alert: an administrator of either party (or a coordinator) says
what was done about it, once; the alert leaves the open list, both parties see who
answered, when and what; the answer is audited; everyone else is refused, and a third
agency does not learn that the alert exists."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accord.accounts.identity import actor_for_user
from accord.agreements.actions import acknowledge_breach_alert, raise_breach_alerts
from accord.agreements.models import BreachAlert
from accord.agreements.testing import on_day
from accord.audit.models import AuditEvent
from accord.core.actors import SYSTEM
from accord.core.errors import ActionRefused, InvalidInput, NotFound, PermissionDenied
from accord.core.testing import PASSWORD, as_, enrol_test_authenticator, with_token
from accord.directory.actions import add_staff
from accord.exchange.actions import ingest_event
from accord.exchange.testing import (
    attorney_subscribes,
    booking,
    defender_client,
    jail_mou,
    minutes_ago,
    token_for,
)

NOTE = "Jail records unit re-sent the booking feed; night shift retrained on the checklist."
COMPLIANCE_BADGE = re.compile(
    r'<span>Compliance</span><span class="usa-sr-only">,</span> '
    r'<span class="usa-tag accord-nav-badge">(\d+)<span class="usa-sr-only">'
)


@pytest.fixture
def alert(county):
    """One overdue booking under MOU-EX-1 §4.1 (jail to defender within an hour)."""
    with on_day(timezone.localdate() - timedelta(days=2)):
        jail_mou(county, hours=1)
    attorney_subscribes(county, defender_client(county))
    ingest_event(
        county.jail,
        "custody.booked",
        booking(booking_number="ack-1"),
        "ack-1",
        minutes_ago(90),
        actor=actor_for_user(county.jail_officer),
    )
    assert raise_breach_alerts(actor=SYSTEM) == 1
    return BreachAlert.objects.get()


@pytest.fixture
def prosecutor_admin(county):
    """An administrator of an agency that is no party to the agreement."""
    user = add_staff(
        county.agencies["prosecutor"],
        actor=SYSTEM,
        username="prosecutor_admin",
        first_name="Prosecutor",
        last_name="Admin",
        email="prosecutor_admin@test.invalid",
        roles=("agency_admin",),
        password=PASSWORD,
    ).user
    enrol_test_authenticator(user, actor=SYSTEM)
    return user


def _ack(user, alert, note=NOTE):
    return acknowledge_breach_alert(alert, note, actor=actor_for_user(user))


def _post_ack(user, alert, note=NOTE, next_url="/agreements/compliance"):
    return as_(user).post(
        f"/agreements/breach-alerts/{alert.pk}/acknowledge", {"note": note, "next": next_url}
    )


def _api_ack(user, alert, note=NOTE):
    return as_(user).post(
        f"/api/v1/agreements/breach-alerts/{alert.pk}/acknowledge",
        json.dumps({"note": note}),
        content_type="application/json",
    )


# --- the action --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "label"),
    [("defender_admin", "Defender Admin (TPD)"), ("jail_admin", "Jail Admin (TCJ)")],
)
def test_an_administrator_of_either_party_acknowledges(county, alert, persona, label):
    user = county.people[persona]
    done = _ack(user, alert, f"  {NOTE}  ")
    alert.refresh_from_db()
    assert done.pk == alert.pk
    assert alert.acknowledged_at is not None
    assert alert.acknowledged_by == user
    assert alert.acknowledged_by_label == label
    assert alert.acknowledgement == NOTE
    assert not alert.is_open
    assert list(BreachAlert.objects.in_state("open")) == []
    assert list(BreachAlert.objects.in_state("acknowledged")) == [alert]


def test_a_coordinator_acknowledges(county, alert):
    _ack(county.coordinator, alert)
    alert.refresh_from_db()
    assert alert.acknowledged_by == county.coordinator


def test_a_third_agency_neither_sees_nor_acknowledges(county, alert, prosecutor_admin):
    for user in (prosecutor_admin, county.prosecutor, county.outsider):
        assert not BreachAlert.objects.visible_to(actor_for_user(user)).exists()
        with pytest.raises(NotFound, match=f"No breach alert {alert.pk}"):
            _ack(user, alert)
    alert.refresh_from_db()
    assert alert.is_open


@pytest.mark.parametrize(
    "persona", ["defender_attorney", "defender_supervisor", "jail_officer", "council_auditor"]
)
def test_staff_who_see_the_alert_but_administer_nothing_are_refused(county, alert, persona):
    user = county.people[persona]
    assert BreachAlert.objects.visible_to(actor_for_user(user)).filter(pk=alert.pk).exists()
    with pytest.raises(PermissionDenied, match="administrator of a party agency"):
        _ack(user, alert)
    alert.refresh_from_db()
    assert alert.is_open


@pytest.mark.parametrize("note", ["", "   \n "])
def test_an_empty_note_is_rejected_with_a_field_error(county, alert, note):
    with pytest.raises(InvalidInput) as raised:
        _ack(county.defender_admin, alert, note)
    assert raised.value.errors == [{"field": "note", "reason": "required"}]
    alert.refresh_from_db()
    assert alert.is_open


def test_a_note_over_1000_characters_is_rejected(county, alert):
    _ack(county.defender_admin, alert, "x" * 1000)  # the limit itself is fine
    alert2 = _second_alert(county)
    with pytest.raises(InvalidInput) as raised:
        _ack(county.defender_admin, alert2, "x" * 1001)
    assert raised.value.errors == [{"field": "note", "reason": "at most 1000 characters"}]


def _second_alert(county):
    ingest_event(
        county.jail,
        "custody.booked",
        booking(booking_number="ack-2"),
        "ack-2",
        minutes_ago(80),
        actor=actor_for_user(county.jail_officer),
    )
    assert raise_breach_alerts(actor=SYSTEM) == 1
    return BreachAlert.objects.get(acknowledged_at__isnull=True)


def test_acknowledging_twice_is_refused_and_keeps_the_first_answer(county, alert):
    _ack(county.defender_admin, alert)
    with pytest.raises(ActionRefused, match=r"already acknowledged by Defender Admin \(TPD\) on"):
        _ack(county.jail_admin, alert, "Something else")
    alert.refresh_from_db()
    assert alert.acknowledged_by == county.defender_admin
    assert alert.acknowledgement == NOTE


def test_it_audits_the_acknowledgement(county, alert):
    before = AuditEvent.objects.filter(action="agreement.breach_acknowledged").count()
    _ack(county.jail_admin, alert)
    row = AuditEvent.objects.filter(action="agreement.breach_acknowledged").get()
    assert before == 0
    assert row.actor_user_id == county.jail_admin.pk
    assert row.agency_id == county.agencies["jail"].pk
    assert row.object_id == str(alert.obligation.version.agreement_id)
    assert row.details["alert"] == alert.pk
    assert row.details["clause"] == "4.1"
    assert row.details["note"] == NOTE
    with pytest.raises(ActionRefused):
        _ack(county.jail_admin, alert)
    assert AuditEvent.objects.filter(action="agreement.breach_acknowledged").count() == 1


# --- pages -----------------------------------------------------------------------------------


def test_the_compliance_page_offers_the_form_then_shows_the_answer(county, alert):
    form_action = f'action="/agreements/breach-alerts/{alert.pk}/acknowledge"'
    page = as_(county.defender_admin).get("/agreements/compliance").content.decode()
    assert form_action in page
    assert ">Acknowledge</button>" in page
    auditor = as_(county.council_auditor).get("/agreements/compliance").content.decode()
    assert "still not done" in auditor
    assert form_action not in auditor

    response = _post_ack(county.defender_admin, alert, next_url="/agreements/compliance")
    assert response.status_code == 302
    assert response["Location"] == "/agreements/compliance"

    client = as_(county.jail_admin)
    open_page = client.get("/agreements/compliance").content.decode()
    assert "No open breach alerts" in open_page
    assert form_action not in open_page
    for state in ("acknowledged", "all"):
        shown = client.get(f"/agreements/compliance?state={state}").content.decode()
        assert "still not done" in shown
        assert "Acknowledged</span> by Defender Admin (TPD) on" in shown
        assert NOTE in shown
        assert f'<option value="{state}" selected>' in shown


def test_the_compliance_filter_defaults_to_open_and_says_when_none_are_acknowledged(county, alert):
    client = as_(county.coordinator)
    default = client.get("/agreements/compliance").content.decode()
    assert '<option value="open" selected>' in default
    assert "still not done" in default
    unknown = client.get("/agreements/compliance?state=bogus").content.decode()
    assert '<option value="open" selected>' in unknown
    acknowledged = client.get("/agreements/compliance?state=acknowledged").content.decode()
    assert "No acknowledged breach alerts yet." in acknowledged
    assert "still not done" not in acknowledged


def test_the_agreement_page_offers_the_form_to_administrators_only(county, alert):
    url = f"/agreements/{alert.obligation.version.agreement_id}/"
    form_action = f'action="/agreements/breach-alerts/{alert.pk}/acknowledge"'
    assert form_action in as_(county.jail_admin).get(url).content.decode()
    attorney = as_(county.defender_attorney).get(url).content.decode()
    assert "still not done" in attorney
    assert form_action not in attorney

    response = _post_ack(county.jail_admin, alert, next_url=url)
    assert response["Location"] == url
    page = as_(county.defender_attorney).get(url).content.decode()
    assert "Acknowledged</span> by Jail Admin (TCJ) on" in page
    assert NOTE in page
    assert form_action not in as_(county.jail_admin).get(url).content.decode()


def test_the_page_says_why_an_acknowledgement_was_not_recorded(county, alert):
    client = as_(county.defender_admin)
    response = client.post(
        f"/agreements/breach-alerts/{alert.pk}/acknowledge",
        {"note": " ", "next": "/agreements/compliance"},
        follow=True,
    )
    assert "Say what was done about the breach. note: required" in response.content.decode()
    _ack(county.jail_admin, alert)
    again = client.post(
        f"/agreements/breach-alerts/{alert.pk}/acknowledge", {"note": NOTE}, follow=True
    ).content.decode()
    assert "already acknowledged by Jail Admin (TCJ)" in again
    alert.refresh_from_db()
    assert alert.acknowledged_by == county.jail_admin


def test_the_page_refuses_staff_and_hides_the_alert_from_a_third_agency(
    county, alert, prosecutor_admin
):
    assert _post_ack(county.defender_attorney, alert).status_code == 403
    assert _post_ack(prosecutor_admin, alert).status_code == 404
    assert as_(None).post(f"/agreements/breach-alerts/{alert.pk}/acknowledge").status_code == 302
    assert (
        as_(county.defender_admin)
        .get(f"/agreements/breach-alerts/{alert.pk}/acknowledge")
        .status_code
        == 405
    )
    alert.refresh_from_db()
    assert alert.is_open


def test_the_page_goes_back_only_within_agreements(county, alert):
    response = _post_ack(county.defender_admin, alert, next_url="https://evil.example/x")
    assert response["Location"] == "/agreements/compliance"


def test_the_navigation_counts_open_alerts_the_reader_may_see(county, alert, prosecutor_admin):
    assert COMPLIANCE_BADGE.findall(as_(county.defender_admin).get("/").content.decode()) == ["1"]
    assert COMPLIANCE_BADGE.findall(as_(county.coordinator).get("/").content.decode()) == ["1"]
    assert COMPLIANCE_BADGE.findall(as_(prosecutor_admin).get("/").content.decode()) == []
    _ack(county.jail_admin, alert)
    assert COMPLIANCE_BADGE.findall(as_(county.defender_admin).get("/").content.decode()) == []


# --- API ---------------------------------------------------------------------------------------


def test_the_api_acknowledges_and_lists_by_state(county, alert):
    response = _api_ack(county.defender_admin, alert)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == alert.pk
    assert body["acknowledged_by_id"] == county.defender_admin.pk
    assert body["acknowledged_by"] == "Defender Admin (TPD)"
    assert body["acknowledgement"] == NOTE
    assert body["acknowledged_at"] is not None

    client = as_(county.jail_admin)
    listed = client.get("/api/v1/agreements/breach-alerts").json()["results"]
    assert [(a["id"], a["acknowledgement"]) for a in listed] == [(alert.pk, NOTE)]
    assert client.get("/api/v1/agreements/breach-alerts?state=open").json()["results"] == []
    acknowledged = client.get("/api/v1/agreements/breach-alerts?state=acknowledged").json()
    assert [a["id"] for a in acknowledged["results"]] == [alert.pk]
    bad = client.get("/api/v1/agreements/breach-alerts?state=closed")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "state"


def test_the_api_lists_open_alerts_with_empty_acknowledgement_fields(county, alert):
    rows = as_(county.jail_admin).get("/api/v1/agreements/breach-alerts?state=open").json()
    assert [(a["id"], a["acknowledged_at"], a["acknowledgement"]) for a in rows["results"]] == [
        (alert.pk, None, "")
    ]


def test_the_api_answers_4xx_with_precise_messages(county, alert, prosecutor_admin):
    empty = _api_ack(county.defender_admin, alert, "  ")
    assert empty.status_code == 422
    assert empty.json()["detail"] == "Say what was done about the breach."
    assert empty.json()["errors"] == [{"field": "note", "reason": "required"}]

    long = _api_ack(county.defender_admin, alert, "x" * 1001)
    assert long.status_code == 422
    assert long.json()["errors"][0]["field"] == "note"

    staff = _api_ack(county.defender_attorney, alert)
    assert staff.status_code == 403
    assert "administrator of a party agency can acknowledge" in staff.json()["detail"]

    stranger = _api_ack(prosecutor_admin, alert)
    assert stranger.status_code == 404
    assert stranger.json()["detail"] == f"No breach alert {alert.pk}."

    missing = _api_ack(county.defender_admin, BreachAlert(pk=alert.pk + 1000))
    assert missing.status_code == 404

    token = token_for(county, "defender", ["agreements:read"])
    by_token = with_token(token).post(
        f"/api/v1/agreements/breach-alerts/{alert.pk}/acknowledge",
        json.dumps({"note": NOTE}),
        content_type="application/json",
    )
    assert by_token.status_code == 403
    assert by_token.json()["detail"] == "This token lacks the scope agreements:write."

    assert _api_ack(county.defender_admin, alert).status_code == 200
    twice = _api_ack(county.jail_admin, alert)
    assert twice.status_code == 409
    assert twice.json()["detail"].startswith(
        "This breach alert was already acknowledged by Defender Admin (TPD) on "
    )
