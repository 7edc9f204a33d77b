"""The people API: permission matrix, strict input, answers validated against OpenAPI."""

import json
from datetime import date

import pytest

from accord.accounts.identity import actor_for_user
from accord.core.actors import Actor
from accord.core.errors import PermissionDenied
from accord.core.testing import as_, check_matrix
from accord.people.actions import check_conflicts, record_person
from accord.people.models import PersonRecord

pytestmark = pytest.mark.django_db

API = "/api/v1/people"


def _post(client, url, data):
    return client.post(url, data=json.dumps(data), content_type="application/json")


@pytest.fixture
def check(county, known):
    return check_conflicts(
        county.agencies["defender"],
        [{"first_name": "Bill", "last_name": "Harper", "date_of_birth": "1990-03-04"}],
        actor=actor_for_user(county.defender_attorney),
    )


def test_records_are_listed_for_their_agency_only(county, known):
    check_matrix(
        county,
        "GET",
        f"{API}/records",
        {None: 401, "defender_attorney": 200, "jail_officer": 200, "outsider": 200},
    )
    body = as_(county.jail_officer).get(f"{API}/records").json()
    assert [r["source_id"] for r in body["results"]] == ["J-77"]
    body = as_(county.defender_attorney).get(f"{API}/records?q=lil").json()
    assert [r["source_id"] for r in body["results"]] == ["PD-4"]
    assert body["results"][0]["aliases"][0]["last_name"] == "Wayne"


def test_one_record_answers_404_to_other_agencies(county, known):
    url = f"{API}/records/{known['william'].pk}"
    check_matrix(
        county,
        "GET",
        url,
        {
            None: 401,
            "defender_attorney": 200,
            "jail_officer": 404,
            "coordinator": 404,
            "prosecutor": 404,
        },
    )
    body = as_(county.defender_attorney).get(url).json()
    assert body["roles"] == [{"role": "client", "case_reference": "2019-CF-0042", "current": False}]


def test_recording_a_person_upserts_and_links(county):
    client = as_(county.defender_attorney)
    payload = {
        "source_id": "A-1",
        "first_name": "Ana",
        "last_name": "Rivera",
        "date_of_birth": "1992-05-06",
        "identifiers": {"ssn_last4": "4321"},
        "aliases": [{"first_name": "Annie", "last_name": "Rivers"}],
    }
    response = _post(client, f"{API}/records", payload)
    assert response.status_code == 200
    body = response.json()
    assert body["link"]["method"] == "single"
    assert body["identifiers"] == {"ssn_last4": "4321"}
    response = _post(client, f"{API}/records", {**payload, "first_name": "Anna"})
    assert response.json()["id"] == body["id"]
    assert PersonRecord.objects.count() == 1


def test_recording_refuses_unknown_fields_and_bad_identifiers(county):
    client = as_(county.defender_attorney)
    response = _post(
        client,
        f"{API}/records",
        {"source_id": "A", "first_name": "A", "last_name": "B", "nickname": "x"},
    )
    assert response.status_code == 422
    response = _post(
        client,
        f"{API}/records",
        {
            "source_id": "A",
            "first_name": "A",
            "last_name": "B",
            "identifiers": {"ssn_last4": "12345"},
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "identifiers.ssn_last4"


def test_setting_a_role_is_the_source_agencys(county, known):
    url = f"{API}/records/{known['maria'].pk}/roles"
    data = {"role": "client", "case_reference": "2025-CF-5"}
    assert _post(as_(county.jail_officer), url, data).status_code == 404
    response = _post(as_(county.defender_attorney), url, data)
    assert response.status_code == 200
    assert {"role": "client", "case_reference": "2025-CF-5", "current": True} in response.json()[
        "roles"
    ]


def test_a_conflict_check_over_the_api(county, known):
    response = _post(
        as_(county.defender_attorney),
        f"{API}/conflict-checks",
        {
            "reference": "2025-CF-9",
            "parties": [{"first_name": "Harper", "last_name": "William", "role": "victim"}],
        },
    )
    assert response.status_code == 200
    body = response.json()
    hit = body["parties"][0]["hits"][0]
    assert hit["record_source_id"] == "PD-1"
    assert "first and last names swapped" in hit["explanation"]
    assert hit["roles"] == "former client in 2019-CF-0042"


def test_a_check_is_visible_only_to_the_checking_agency(county, check):
    url = f"{API}/conflict-checks/{check.pk}"
    check_matrix(
        county,
        "GET",
        url,
        {
            None: 401,
            "defender_attorney": 200,
            "defender_social_worker": 200,
            "jail_officer": 404,
            "prosecutor": 404,
            "coordinator": 404,
            "outsider": 404,
        },
    )
    listed = as_(county.prosecutor).get(f"{API}/conflict-checks").json()
    assert listed["results"] == []


def test_deciding_a_hit_over_the_api(county, check):
    hit = check.hits.get()
    url = f"{API}/conflict-hits/{hit.pk}/decision"
    assert _post(as_(county.prosecutor), url, {"decision": "flagged"}).status_code == 404
    response = _post(as_(county.defender_investigator), url, {"decision": "confirmed"})
    assert response.status_code == 403
    response = _post(as_(county.defender_attorney), url, {"decision": "cleared"})
    assert response.status_code == 422
    response = _post(
        as_(county.defender_attorney),
        url,
        {"decision": "confirmed", "note": "Same person: former client"},
    )
    assert response.status_code == 200
    assert response.json()["decision"] == "confirmed"


def test_reviews_over_the_api(county):
    defender = county.agencies["defender"]
    from accord.core.actors import SYSTEM

    record_person(
        defender,
        "R-1",
        actor=SYSTEM,
        first_name="John",
        last_name="Smith",
        date_of_birth=date(1990, 3, 4),
    )
    record_person(
        defender,
        "R-2",
        actor=SYSTEM,
        first_name="John",
        last_name="Smith",
        date_of_birth=date(1990, 3, 7),
    )
    reviews = as_(county.defender_supervisor).get(f"{API}/reviews").json()["results"]
    assert len(reviews) == 1
    assert as_(county.defender_attorney).get(f"{API}/reviews").json()["results"] == []
    url = f"{API}/reviews/{reviews[0]['id']}/decision"
    assert _post(as_(county.jail_admin), url, {"decision": "split"}).status_code == 404
    response = _post(as_(county.defender_supervisor), url, {"decision": "confirmed"})
    assert response.status_code == 200
    merge = response.json()["merge_id"]
    response = _post(
        as_(county.defender_supervisor), f"{API}/merges/{merge}/undo", {"reason": "twins"}
    )
    assert response.status_code == 200
    assert response.json()["undone_by"] == "defender_supervisor"


def test_a_token_needs_the_scope(county, known):
    """Scopes limit tokens: a token without people:read reads nothing."""
    token_actor = Actor(
        label="token:x",
        token_id=1,
        agency_id=county.agencies["defender"].pk,
        scopes=frozenset({"directory:read"}),
    )
    assert not PersonRecord.objects.visible_to(token_actor).exists()
    reader = Actor(
        label="token:y",
        token_id=2,
        agency_id=county.agencies["defender"].pk,
        scopes=frozenset({"people:read"}),
    )
    assert PersonRecord.objects.visible_to(reader).count() == 5
    with pytest.raises(PermissionDenied):
        record_person(
            county.agencies["defender"], "T-1", actor=reader, first_name="A", last_name="B"
        )


def test_the_record_list_query_count(county, known, django_assert_max_num_queries):
    client = as_(county.defender_attorney)
    client.get(f"{API}/records")
    with django_assert_max_num_queries(12):
        assert client.get(f"{API}/records").status_code == 200
