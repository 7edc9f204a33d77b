"""Consent pages and API: permission matrix, the 42 CFR 2.31(a) checklist with missing
elements named, revocation, the Part 2 notice, bounded query counts."""

from __future__ import annotations

import json

import pytest

from accord.consent.models import Consent, ConsentStatus
from accord.consent.testing import complete_values, make_consent
from accord.core.testing import as_, check_matrix
from accord.policy.notices import PART2_NOTICE

pytestmark = pytest.mark.django_db
API = "/api/v1/consents"
DEFENSE = "defense_representation"


@pytest.fixture
def consent(county):
    return make_consent(
        county.provider,
        kind="part2",
        client_key="C-1",
        disclosers=[county.provider],
        recipients=[county.defender],
        categories=["substance_use_part2"],
        purposes=[DEFENSE],
    )


def _form(county, **overrides):
    values = {
        "kind": "part2",
        "client_key": "C-7",
        "client_name": "Pat Doe",
        "disclosers": [str(county.provider.pk)],
        "recipients": [str(county.defender.pk)],
        "information_description": "Treatment dates",
        "categories": ["substance_use_part2"],
        "purposes": [DEFENSE],
        "purpose_description": "Defense",
        "revocation_statement": "Write to revoke.",
        "expires_on": "2031-01-01",
        "signer_name": "Pat Doe",
        "signer_capacity": "client",
        "signature_method": "electronic_typed",
        "signed_at": "2026-01-05T10:00",
        "activate": "1",
    }
    values.update(overrides)
    return values


def test_it_opens_the_consent_pages_to_the_right_people(county, consent):
    readers = {
        None: 302,
        "provider_case_worker": 200,
        "defender_attorney": 200,
        "jail_officer": 200,
        "outsider": 200,
    }
    check_matrix(county, "GET", "/consents/", readers)
    check_matrix(
        county,
        "GET",
        f"/consents/{consent.pk}/",
        {
            None: 302,
            "provider_case_worker": 200,
            "defender_attorney": 200,
            "council_auditor": 200,
            "jail_officer": 404,
            "outsider": 404,
        },
    )
    check_matrix(
        county,
        "GET",
        "/consents/new",
        {
            None: 302,
            "provider_case_worker": 200,
            "defender_social_worker": 200,
            "jail_officer": 403,
            "coordinator": 403,
        },
    )
    check_matrix(
        county,
        "GET",
        f"/consents/{consent.pk}/edit",
        {None: 302, "provider_case_worker": 200, "defender_attorney": 403, "jail_officer": 404},
    )


def test_it_shows_the_part2_notice_and_the_checklist(county, consent):
    body = as_(county.defender_attorney).get(f"/consents/{consent.pk}/").content.decode()
    assert PART2_NOTICE[:60] in body
    assert "42 CFR 2.31(a)(6)" in body
    assert "Missing:" not in body


def test_it_names_each_missing_element_on_the_form(county):
    response = as_(county.provider_case_worker).post(
        "/consents/new", _form(county, revocation_statement="", expires_on="", expiry_event="")
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "42 CFR 2.31(a)(6)" in body
    assert "42 CFR 2.31(a)(7)" in body
    assert not Consent.objects.exists()
    saved = as_(county.provider_case_worker).post("/consents/new", _form(county))
    assert saved.status_code == 302
    assert Consent.objects.get().status == ConsentStatus.ACTIVE


def test_it_revokes_from_the_page(county, consent):
    url = f"/consents/{consent.pk}/revoke"
    assert as_(county.jail_officer).post(url, {"method": "x"}).status_code == 404
    assert as_(county.defender_attorney).post(url, {"method": "x"}).status_code == 403
    assert as_(county.provider_case_worker).post(url, {"method": "In writing"}).status_code == 302
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.REVOKED


def test_it_lists_consents_in_a_bounded_number_of_queries(
    county, consent, django_assert_max_num_queries
):
    for n in range(20):
        make_consent(
            county.provider,
            kind="general",
            client_key=f"C-{n + 10}",
            disclosers=[county.provider],
            recipients=[county.defender],
            categories=["housing"],
            purposes=[DEFENSE],
        )
    client = as_(county.provider_case_worker)
    client.get("/consents/")
    with django_assert_max_num_queries(15):
        assert client.get("/consents/").status_code == 200
    with django_assert_max_num_queries(15):
        assert client.get(API).status_code == 200


def _api_body(county, **overrides):
    values = complete_values(
        kind="part2",
        client_key="C-8",
        disclosers=[county.provider],
        recipients=[county.defender],
        categories=["substance_use_part2"],
        purposes=[DEFENSE],
    )
    values["expires_on"] = values["expires_on"].isoformat()
    values["signed_at"] = values["signed_at"].isoformat()
    values.update(overrides)
    return values


def test_it_answers_the_consent_api_by_role(county, consent):
    check_matrix(county, "GET", API, {None: 401, "provider_case_worker": 200, "outsider": 200})
    check_matrix(
        county,
        "GET",
        f"{API}/{consent.pk}",
        {None: 401, "provider_case_worker": 200, "defender_attorney": 200, "jail_officer": 404},
    )
    check_matrix(
        county,
        "POST",
        API,
        {None: 401, "jail_officer": 403, "provider_case_worker": 201},
        data={**_api_body(county), "activate": True},
    )
    check_matrix(
        county,
        "POST",
        f"{API}/{consent.pk}/revoke",
        {None: 401, "jail_officer": 404, "defender_attorney": 403, "provider_case_worker": 200},
        data={"method": "In writing"},
    )


def test_it_refuses_an_incomplete_part2_consent_over_the_api(county):
    body = {**_api_body(county, revocation_statement=""), "activate": True}
    response = as_(county.provider_case_worker).post(
        API, data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 422
    assert "42 CFR 2.31(a)(6)" in response.json()["detail"]
    draft = (
        as_(county.provider_case_worker)
        .post(
            API,
            data=json.dumps(_api_body(county, revocation_statement="")),
            content_type="application/json",
        )
        .json()
    )
    assert draft["status"] == "draft"
    assert draft["missing_elements"] == [
        "42 CFR 2.31(a)(6): the patient's right to revoke the consent in writing and how to "
        "revoke it"
    ]
    patched = (
        as_(county.provider_case_worker)
        .patch(
            f"{API}/{draft['id']}",
            data=json.dumps({"revocation_statement": "Write to us."}),
            content_type="application/json",
        )
        .json()
    )
    assert patched["missing_elements"] == []
    active = as_(county.provider_case_worker).post(f"{API}/{draft['id']}/activate").json()
    assert active["status"] == "active"
    assert active["part2_notice"] == PART2_NOTICE


def test_it_refuses_consent_changes_to_others(county, consent):
    draft = make_consent(
        county.provider,
        activate=False,
        kind="general",
        client_key="C-3",
        disclosers=[county.provider],
        recipients=[county.defender],
        categories=["housing"],
        purposes=[DEFENSE],
    )
    refused = {None: 401, "jail_officer": 404, "defender_attorney": 403}
    check_matrix(county, "PATCH", f"{API}/{draft.pk}", refused, data={"client_name": "X"})
    check_matrix(county, "POST", f"{API}/{draft.pk}/activate", refused)
    check_matrix(county, "POST", f"{API}/{consent.pk}/end", refused, data={"note": "x"})
    pages = {None: 302, "jail_officer": 404, "defender_attorney": 403}
    check_matrix(county, "POST", f"/consents/{draft.pk}/activate", pages)
    check_matrix(county, "POST", f"/consents/{consent.pk}/end", pages)
    draft.refresh_from_db()
    assert draft.status == ConsentStatus.DRAFT
