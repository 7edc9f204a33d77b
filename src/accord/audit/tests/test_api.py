from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accord.accounts.actions import create_api_token
from accord.audit import chain
from accord.audit.codes import AuditAction
from accord.audit.models import AuditEvent
from accord.audit.tests.test_chain import _tamper
from accord.core.actors import SYSTEM, Actor
from accord.core.testing import as_, check_matrix, with_token

EVENTS = "/api/v1/audit/events"


def _token(agency, scopes: list[str]) -> str:
    _token_row, raw = create_api_token(
        agency, "Agency system", scopes, timezone.now() + timedelta(days=30), actor=SYSTEM
    )
    return raw


def _fill(agency_id: int, n: int) -> None:
    actor = Actor(label="filler", agency_id=agency_id, is_system=True)
    for i in range(n):
        chain.append(actor, "test.event", details={"i": i})


@pytest.mark.django_db
def test_it_lets_only_auditors_list_events(county):
    check_matrix(
        county,
        "GET",
        EVENTS,
        {
            None: 401,
            "council_auditor": 200,
            "defender_auditor": 200,
            "defender_attorney": 403,
            "coordinator": 403,
            "defender_admin": 403,
        },
    )


@pytest.mark.django_db
def test_it_lets_a_token_with_audit_read_list_its_own_agencys_events(county):
    raw = _token(county.jail, ["audit:read"])
    response = with_token(raw).get(EVENTS, {"page_size": 500})
    assert response.status_code == 200
    results = response.json()["results"]
    assert results
    assert {event["agency_id"] for event in results} == {county.jail.pk}


@pytest.mark.django_db
def test_it_refuses_a_token_without_audit_read(county):
    raw = _token(county.jail, ["directory:read"])
    response = with_token(raw).get(EVENTS)
    assert response.status_code == 403
    assert "audit:read" in response.json()["detail"]
    assert with_token(raw).get(f"{EVENTS}/1").status_code == 403


@pytest.mark.django_db
def test_it_keeps_a_council_token_to_the_councils_own_events(county):
    raw = _token(county.council, ["audit:read"])
    results = with_token(raw).get(EVENTS, {"page_size": 500}).json()["results"]
    assert {event["agency_id"] for event in results} == {county.council.pk}


@pytest.mark.django_db
def test_it_pages_with_a_cursor_newest_first(county):
    _fill(county.defender.pk, 30)
    client = as_(county.defender_auditor)
    first = client.get(EVENTS, {"page_size": "20", "actor": "filler"}).json()
    seqs = [event["seq"] for event in first["results"]]
    assert len(seqs) == 20
    assert seqs == sorted(seqs, reverse=True)
    second = client.get(first["next"]).json()
    rest = [event["seq"] for event in second["results"]]
    assert len(rest) == 10
    assert max(rest) < min(seqs)
    assert second["next"] is None


@pytest.mark.django_db
def test_it_filters_like_the_page(county):
    chain.append(
        Actor(label="jail-booking-system", agency_id=county.jail.pk, is_system=True),
        AuditAction.TOKEN_REJECTED,
        outcome="denied",
    )
    client = as_(county.council_auditor)
    results = client.get(
        EVENTS, {"action": "token.rejected", "outcome": "denied", "agency": county.jail.pk}
    ).json()["results"]
    assert [event["actor_label"] for event in results] == ["jail-booking-system"]
    assert results[0]["action_label"] == "API token rejected"


@pytest.mark.django_db
def test_it_rejects_invalid_filters_field_by_field(county):
    client = as_(county.defender_auditor)
    response = client.get(EVENTS, {"action": "no.such.action"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "action"
    response = client.get(EVENTS, {"date_from": "2024-05-02", "date_to": "2024-05-01"})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "date_to", "reason": "must not be before the start date"}
    ]


@pytest.mark.django_db
def test_it_records_each_api_read(county):
    client = as_(county.defender_auditor)
    client.get(EVENTS, {"actor": "defender"})
    read = AuditEvent.objects.filter(action=AuditAction.AUDIT_VIEWED).latest("seq")
    assert read.details == {"via": "api", "filters": {"actor": "defender"}}
    assert read.actor_user_id == county.defender_auditor.pk


@pytest.mark.django_db
def test_it_returns_one_event_in_full_and_records_the_read(county):
    event = AuditEvent.objects.filter(agency_id=county.defender.pk).earliest("seq")
    response = as_(county.defender_auditor).get(f"{EVENTS}/{event.seq}")
    assert response.status_code == 200
    body = response.json()
    assert (body["seq"], body["hash"], body["prev_hash"]) == (
        event.seq,
        event.hash,
        event.prev_hash,
    )
    assert body["details"] == event.details
    read = AuditEvent.objects.filter(action=AuditAction.AUDIT_VIEWED).latest("seq")
    assert read.object_id == str(event.seq)


@pytest.mark.django_db
def test_it_answers_not_found_for_another_agencys_event(county):
    jail_event = AuditEvent.objects.filter(agency_id=county.jail.pk).earliest("seq")
    client = as_(county.defender_auditor)
    assert client.get(f"{EVENTS}/{jail_event.seq}").status_code == 404
    assert client.get(f"{EVENTS}/9999999").status_code == 404


@pytest.mark.django_db
def test_it_lists_with_a_fixed_number_of_queries(county, django_assert_max_num_queries):
    _fill(county.defender.pk, 80)
    client = as_(county.defender_auditor)
    client.get(EVENTS)
    with django_assert_max_num_queries(18):
        response = client.get(EVENTS, {"page_size": 60})
    assert len(response.json()["results"]) == 60


@pytest.mark.django_db
def test_it_verifies_for_auditors_only_and_records_the_result(county):
    check_matrix(
        county,
        "GET",
        "/api/v1/audit/verify",
        {None: 401, "defender_auditor": 200, "defender_attorney": 403, "coordinator": 403},
    )
    raw = _token(county.defender, ["audit:read"])
    assert with_token(raw).get("/api/v1/audit/verify").status_code == 403
    body = as_(county.council_auditor).get("/api/v1/audit/verify").json()
    assert body["ok"] is True
    assert body["first_bad_seq"] is None
    recorded = AuditEvent.objects.filter(action=AuditAction.AUDIT_VERIFIED).latest("seq")
    assert recorded.details["via"] == "api"
    assert recorded.details["ok"] is True


@pytest.mark.django_db
def test_it_reports_a_broken_chain(county):
    _tamper("UPDATE audit_auditevent SET details = %s WHERE seq = 4", ['{"forged": true}'])
    body = as_(county.defender_auditor).get("/api/v1/audit/verify").json()
    assert body == {
        "ok": False,
        "checked": 3,
        "first_bad_seq": 4,
        "reason": "content does not match its hash",
    }
