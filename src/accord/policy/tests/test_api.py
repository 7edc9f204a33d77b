"""The policy API: permission matrix of every endpoint, batched decisions, records with
their disclosures, explain, screens, the policy set; every answer checked against the
OpenAPI document by the test client."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from accord.accounts.actions import create_api_token
from accord.agreements.testing import make_agreement, term
from accord.core.actors import SYSTEM
from accord.core.testing import as_, check_matrix, with_token
from accord.policy.actions import register_record, screen_staff
from accord.policy.models import Disclosure

pytestmark = pytest.mark.django_db
API = "/api/v1/policy"
DEFENSE = "defense_representation"
PEOPLE = {
    None: 401,
    "defender_attorney": 200,
    "jail_officer": 200,
    "coordinator": 200,
    "outsider": 200,
}


@pytest.fixture
def shared(county):
    make_agreement(
        "MOU-JAIL",
        [(county.defender, county.defender_admin), (county.jail, county.jail_admin)],
        [term("3.2", county.jail, county.defender, ["custody"], [DEFENSE])],
    )
    return register_record(
        county.jail, actor=SYSTEM, client_key="C-1", category="custody", summary="Booked"
    )


def _post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def _decide_body(county, category="custody"):
    return {
        "purpose": DEFENSE,
        "requests": [
            {
                "action": "view",
                "resource": {"owner_id": county.jail.pk, "client_key": "C-1", "category": category},
            }
        ],
    }


def test_it_answers_the_read_endpoints_to_every_signed_in_person(county, shared):
    for url in (
        f"{API}/vocabulary",
        f"{API}/records?purpose={DEFENSE}",
        f"{API}/disclosures",
        f"{API}/screens",
        f"{API}/explain?purpose={DEFENSE}&client_key=C-1&owner_id={county.jail.pk}",
    ):
        check_matrix(county, "GET", url, PEOPLE)
    check_matrix(county, "POST", f"{API}/decisions", PEOPLE, data=_decide_body(county))


def test_it_decides_a_batch_for_the_caller_with_reasons(county, shared):
    body = _decide_body(county)
    body["requests"].append(
        {
            "action": "view",
            "resource": {"owner_id": county.jail.pk, "client_key": "C-1", "category": "medical"},
        }
    )
    response = _post(as_(county.defender_attorney), f"{API}/decisions", body)
    allowed, denied = response.json()["decisions"]
    assert allowed["allowed"] is True
    assert allowed["reasons"][0]["reference"] == "MOU-JAIL"
    assert allowed["reasons"][0]["clause"] == "3.2"
    assert denied["allowed"] is False
    assert denied["reasons"][0]["policy_id"] == "default-deny"
    assert not Disclosure.objects.exists()


def test_it_rejects_unknown_fields_and_codes(county, shared):
    body = _decide_body(county, category="gossip")
    assert _post(as_(county.defender_attorney), f"{API}/decisions", body).status_code == 422
    body = {**_decide_body(county), "colour": "red"}
    assert _post(as_(county.defender_attorney), f"{API}/decisions", body).status_code == 422


def test_it_lists_records_by_policy_and_records_each_disclosure(county, shared):
    response = as_(county.defender_attorney).get(f"{API}/records", {"purpose": DEFENSE})
    [record] = response.json()["results"]
    assert record["summary"] == "Booked"
    assert "MOU-JAIL §3.2" in record["why"]
    assert Disclosure.objects.get().recipient_user_id == county.defender_attorney.pk
    assert as_(county.outsider).get(f"{API}/records", {"purpose": DEFENSE}).json()["results"] == []
    wrong = as_(county.defender_attorney).get(f"{API}/records", {"purpose": "prosecution"})
    assert wrong.json()["results"] == []


def test_it_registers_records_for_the_callers_agency(county):
    body = {"client_key": "C-9", "category": "custody", "summary": "Booked", "labels": ["sealed"]}
    check_matrix(county, "POST", f"{API}/records", {None: 401, "jail_officer": 201}, data=body)
    created = _post(as_(county.jail_officer), f"{API}/records", body).json()
    assert created["owner_id"] == county.jail.pk
    assert created["labels"] == ["sealed"]


def test_it_explains_and_refuses_to_explain_strangers(county, shared):
    params = {"purpose": DEFENSE, "client_key": "C-1", "owner_id": county.jail.pk}
    rows = as_(county.defender_attorney).get(f"{API}/explain", params).json()["rows"]
    custody = next(r for r in rows if r["category"] == "custody")
    assert custody["allowed"] is True
    assert len(rows) == 20
    stranger = {**params, "subject_id": county.jail_officer.pk}
    assert as_(county.defender_attorney).get(f"{API}/explain", stranger).status_code == 403
    assert as_(county.coordinator).get(f"{API}/explain", stranger).status_code == 200
    assert (
        as_(county.defender_attorney).get(f"{API}/explain", {"purpose": DEFENSE}).status_code == 422
    )


def test_it_sets_and_lifts_screens_for_supervisors_only(county, shared):
    body = {"staff_id": county.defender_attorney.pk, "client_key": "C-1", "reason": "Conflict"}
    check_matrix(
        county,
        "POST",
        f"{API}/screens",
        {None: 401, "defender_attorney": 403, "jail_admin": 403, "defender_supervisor": 201},
        data=body,
    )
    screen_id = as_(county.defender_supervisor).get(f"{API}/screens").json()["results"][0]["id"]
    url = f"{API}/screens/{screen_id}/lift"
    check_matrix(
        county,
        "POST",
        url,
        {None: 401, "jail_admin": 404, "defender_attorney": 403, "defender_supervisor": 200},
        data={"reason": "Cleared"},
    )


def test_it_shows_the_policy_set_to_the_council_only(county, shared):
    check_matrix(
        county,
        "GET",
        f"{API}/policy-set",
        {
            None: 401,
            "coordinator": 200,
            "council_auditor": 200,
            "defender_attorney": 403,
            "defender_auditor": 403,
        },
    )
    text = as_(county.coordinator).get(f"{API}/policy-set").json()["text"]
    assert '@id("agreement/MOU-JAIL/v1/§3.2/term-' in text


def test_it_refuses_tokens_without_the_policy_scopes(county, shared):
    _, raw = create_api_token(
        county.jail,
        "jail system",
        ["directory:read"],
        timezone.now() + timedelta(days=30),
        actor=SYSTEM,
    )
    client = with_token(raw)
    assert client.get(f"{API}/vocabulary").status_code == 403
    assert client.get(f"{API}/records", {"purpose": DEFENSE}).status_code == 403
    assert _post(client, f"{API}/decisions", _decide_body(county)).status_code == 403


def test_it_keeps_screens_private_to_the_screening_agency(county, shared):
    screen_staff(county.defender_attorney, actor=SYSTEM, client_key="C-1", reason="Conflict")
    assert as_(county.jail_admin).get(f"{API}/screens").json()["results"] == []
    assert len(as_(county.defender_attorney).get(f"{API}/screens").json()["results"]) == 1
