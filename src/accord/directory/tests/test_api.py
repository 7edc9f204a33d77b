"""The directory API: the permission matrix of every endpoint (people and tokens), filters,
cursor pagination, account fields only for managers, and bounded query counts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accord.audit.models import AuditEvent
from accord.core.actors import SYSTEM
from accord.core.testing import as_, check_matrix
from accord.directory.actions import add_staff, create_agency, create_unit, suspend_agency
from accord.directory.models import Agency, AgencyStatus, StaffProfile, Unit
from accord.directory.tests.conftest import freshly_signed_in

pytestmark = pytest.mark.django_db

API = "/api/v1/directory"
READ = "directory:read"
WRITE = "directory:write"
READERS = {
    None: 401,
    "outsider": 200,
    "defender_attorney": 200,
    "jail_officer": 200,
    "defender_admin": 200,
    "coordinator": 200,
}


def call(client, method: str, url: str, body: Any = None):
    if body is None:
        return client.generic(method, url)
    return client.generic(method, url, data=json.dumps(body), content_type="application/json")


def _unit(county) -> Unit:
    return Unit.objects.get(agency=county.defender, name="Felony Team")


def _new_person(agency_id: int, username: str = "api_person", **extra: Any) -> dict[str, Any]:
    return {
        "username": username,
        "first_name": "Api",
        "last_name": "Person",
        "email": f"{username}@test.invalid",
        "agency": agency_id,
        "roles": ["case_worker"],
        **extra,
    }


# --- reading ---------------------------------------------------------------------------------


def test_it_lets_every_member_and_read_tokens_read_the_directory(county, token_client):
    attorney = county.defender_attorney.staff.pk
    defender = county.defender.pk
    urls = (
        f"{API}/agencies",
        f"{API}/agencies/{defender}",
        f"{API}/agencies/{defender}/units",
        f"{API}/staff",
        f"{API}/staff/{attorney}",
    )
    reader = token_client("jail", READ)
    writer_only = token_client("jail", WRITE)
    other_scope = token_client("jail", "audit:read")
    for url in urls:
        check_matrix(county, "GET", url, READERS)
        assert reader.get(url).status_code == 200, url
        assert writer_only.get(url).status_code == 403, url
        assert other_scope.get(url).status_code == 403, url


def test_it_refuses_a_token_of_a_suspended_agency(county, token_client):
    client = token_client("jail", READ)
    suspend_agency(county.jail, "Review", actor=SYSTEM)
    assert client.get(f"{API}/agencies").status_code == 401


def test_it_answers_not_found_for_what_does_not_exist(county):
    client = as_(county.coordinator)
    for url in (f"{API}/agencies/999999", f"{API}/agencies/999999/units", f"{API}/staff/999999"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response["Content-Type"] == "application/problem+json"


def test_it_filters_agencies_by_search_kind_and_status(county):
    suspend_agency(county.jail, "Review", actor=SYSTEM)
    client = as_(county.outsider)

    def names(**query: str) -> set[str]:
        return {a["short_name"] for a in client.get(f"{API}/agencies", query).json()["results"]}

    assert names(q="county jail") == {"TCJ"}
    assert names(q="tcc") == {"TCC", "TCCC"}
    assert names(kind="court") == {"TCC"}
    assert names(status="suspended") == {"TCJ"}
    assert "TCJ" not in names(status="active")


def test_it_refuses_an_unknown_kind_filter_naming_it(county):
    response = as_(county.outsider).get(f"{API}/agencies", {"kind": "spaceship"})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["kind"]


def test_it_filters_staff_by_search_agency_and_role(county):
    client = as_(county.outsider)

    def usernames(**query: Any) -> set[int]:
        return {s["id"] for s in client.get(f"{API}/staff", query).json()["results"]}

    attorney = county.defender_attorney.staff.pk
    supervisor = county.defender_supervisor.staff.pk
    prosecutor = county.prosecutor.staff.pk
    assert usernames(role="attorney") == {attorney, supervisor, prosecutor}
    assert usernames(role="attorney", agency=county.defender.pk) == {attorney, supervisor}
    assert usernames(q="defender attorney") == {attorney}
    # usernames are searched only within the agencies one manages
    assert usernames(q="defender_attorney") == set()


def test_it_pages_with_a_cursor(county):
    client = as_(county.outsider)
    first = client.get(f"{API}/agencies", {"page_size": 3}).json()
    assert len(first["results"]) == 3
    assert first["next"]
    second = client.get(first["next"]).json()
    seen = {a["id"] for a in first["results"]}
    assert seen.isdisjoint(a["id"] for a in second["results"])
    assert len(second["results"]) == 3


def test_it_shows_username_and_account_status_only_to_managers(county, token_client):
    url = f"{API}/staff/{county.defender_attorney.staff.pk}"
    for client in (as_(county.outsider), as_(county.jail_admin), token_client("jail", READ)):
        body = client.get(url).json()
        assert "username" not in body
        assert "account_status" not in body
    for client in (as_(county.defender_admin), as_(county.coordinator)):
        body = client.get(url).json()
        assert body["username"] == "defender_attorney"
        assert body["account_status"] == "active"


def test_it_reports_a_locked_or_disabled_account_to_managers(county):
    from accord.accounts.actions import disable_account

    disable_account(county.defender_attorney, actor=SYSTEM)
    body = as_(county.defender_admin).get(f"{API}/staff/{county.defender_attorney.staff.pk}")
    assert body.json()["account_status"] == "disabled"


def test_it_lists_staff_with_roles_agency_and_unit(county):
    body = as_(county.outsider).get(f"{API}/staff", {"q": "supervisor"}).json()
    (found,) = body["results"]
    assert found["roles"] == ["attorney", "supervisor"]
    assert found["agency"]["short_name"] == "TPD"
    assert found["attributes"] == {"bar_number": "T-1002"}
    assert "username" not in found


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_it_lists_staff_in_a_fixed_number_of_queries(county, django_assert_max_num_queries):
    client = as_(county.outsider)
    baseline = _queries(client, f"{API}/staff")
    unit = _unit(county)
    for n in range(30):
        add_staff(
            county.defender,
            actor=SYSTEM,
            username=f"bulk{n:02}",
            first_name="Bulk",
            last_name=f"Person{n:02}",
            email=f"bulk{n:02}@test.invalid",
            roles=["attorney", "supervisor"],
            unit=unit,
        )
    assert _queries(client, f"{API}/staff") == baseline
    with django_assert_max_num_queries(12):
        client.get(f"{API}/staff")


def test_it_lists_agencies_in_a_fixed_number_of_queries(county, django_assert_max_num_queries):
    client = as_(county.outsider)
    baseline = _queries(client, f"{API}/agencies")
    for n in range(30):
        create_agency(
            actor=SYSTEM,
            name=f"Bulk {n:02}",
            short_name=f"B{n:02}",
            kind="court",
            jurisdiction="Bulk",
        )
    assert _queries(client, f"{API}/agencies") == baseline
    with django_assert_max_num_queries(11):
        client.get(f"{API}/agencies")


# --- agencies --------------------------------------------------------------------------------


def test_it_lets_only_coordinators_add_agencies(county, token_client):
    body = {"name": "New Court", "short_name": "NC", "kind": "court", "jurisdiction": "Test"}
    check_matrix(
        county,
        "POST",
        f"{API}/agencies",
        {None: 401, "outsider": 403, "defender_admin": 403, "coordinator": 201},
        data=body,
    )
    assert call(token_client("defender", WRITE), "POST", f"{API}/agencies", body).status_code == 403
    created = Agency.objects.get(short_name="NC")
    assert AuditEvent.objects.filter(action="directory.agency_created", object_id=str(created.pk))


def test_it_lets_the_agency_admin_its_token_and_coordinators_change_contact_details(
    county, token_client
):
    url = f"{API}/agencies/{county.defender.pk}"
    check_matrix(
        county,
        "PATCH",
        url,
        {
            None: 401,
            "outsider": 403,
            "defender_attorney": 403,
            "jail_admin": 403,
            "defender_admin": 200,
            "coordinator": 200,
        },
        data={"phone": "555-0100"},
    )
    assert call(token_client("defender", WRITE), "PATCH", url, {"phone": "1"}).status_code == 200
    assert call(token_client("jail", WRITE), "PATCH", url, {"phone": "2"}).status_code == 403
    assert call(token_client("defender", READ), "PATCH", url, {"phone": "3"}).status_code == 403
    county.defender.refresh_from_db()
    assert county.defender.phone == "1"


def test_it_keeps_an_agencys_identity_for_coordinators(county, token_client):
    url = f"{API}/agencies/{county.defender.pk}"
    admin = as_(county.defender_admin)
    for change in ({"kind": "court"}, {"name": "Renamed"}, {"identifier": "X-1"}):
        response = call(admin, "PATCH", url, change)
        assert response.status_code == 403, change
        assert call(token_client("defender", WRITE), "PATCH", url, change).status_code == 403
    # sending the current value is not a change
    assert call(admin, "PATCH", url, {"kind": "public_defender"}).status_code == 200
    response = call(as_(county.coordinator), "PATCH", url, {"kind": "court", "name": "Renamed"})
    assert response.status_code == 200
    assert (response.json()["kind"], response.json()["name"]) == ("court", "Renamed")


def test_it_lets_only_a_freshly_signed_in_coordinator_suspend_and_reinstate(county, token_client):
    jail = county.jail
    suspend = f"{API}/agencies/{jail.pk}/suspend"
    reinstate = f"{API}/agencies/{jail.pk}/reinstate"
    reason = {"reason": "Breach"}
    check_matrix(
        county,
        "POST",
        suspend,
        {None: 401, "outsider": 403, "jail_admin": 403, "defender_admin": 403, "coordinator": 403},
        data=reason,
    )
    assert call(token_client("council", WRITE), "POST", suspend, reason).status_code == 403
    assert call(token_client("council", WRITE), "POST", reinstate).status_code == 403
    jail.refresh_from_db()
    assert jail.status == AgencyStatus.ACTIVE

    coordinator = freshly_signed_in(county.coordinator)
    response = call(coordinator, "POST", suspend, reason)
    assert response.status_code == 200
    assert response.json()["status"] == "suspended"
    assert call(coordinator, "POST", suspend, reason).status_code == 409
    assert call(as_(county.coordinator), "POST", reinstate).status_code == 403
    assert call(as_(county.jail_admin), "POST", reinstate).status_code == 403
    response = call(coordinator, "POST", reinstate)
    assert response.status_code == 200
    assert response.json()["status"] == "active"


def test_it_requires_a_reason_to_suspend(county):
    response = call(
        freshly_signed_in(county.coordinator),
        "POST",
        f"{API}/agencies/{county.jail.pk}/suspend",
        {"reason": "  "},
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "reason", "reason": "required"}]


# --- units -----------------------------------------------------------------------------------


def test_it_lets_the_agency_admin_its_token_and_coordinators_add_units(county, token_client):
    url = f"{API}/agencies/{county.defender.pk}/units"
    check_matrix(
        county,
        "POST",
        url,
        {None: 401, "outsider": 403, "jail_admin": 403, "defender_attorney": 403},
        data={"name": "Nope"},
    )
    assert call(as_(county.defender_admin), "POST", url, {"name": "Appeals"}).status_code == 201
    assert call(as_(county.coordinator), "POST", url, {"name": "Intake"}).status_code == 201
    token = token_client("defender", WRITE)
    assert call(token, "POST", url, {"name": "Records"}).status_code == 201
    assert call(token_client("jail", WRITE), "POST", url, {"name": "X"}).status_code == 403
    assert call(token_client("defender", READ), "POST", url, {"name": "Y"}).status_code == 403
    names = {u["name"] for u in as_(county.outsider).get(url).json()["results"]}
    assert names == {"Felony Team", "Appeals", "Intake", "Records"}


def test_it_lets_the_agency_admin_and_coordinators_rename_units(county, token_client):
    url = f"{API}/units/{_unit(county).pk}"
    check_matrix(
        county,
        "PATCH",
        url,
        {None: 401, "outsider": 403, "jail_admin": 403, "defender_admin": 200, "coordinator": 200},
        data={"description": "Serious felonies"},
    )
    assert call(token_client("jail", WRITE), "PATCH", url, {"name": "X"}).status_code == 403
    assert call(token_client("defender", READ), "PATCH", url, {"name": "X"}).status_code == 403
    response = call(token_client("defender", WRITE), "PATCH", url, {"name": "Felony Trial Team"})
    assert response.status_code == 200
    assert response.json() == {
        "id": _unit_pk(county),
        "agency_id": county.defender.pk,
        "name": "Felony Trial Team",
        "description": "Serious felonies",
    }
    assert call(as_(county.coordinator), "PATCH", f"{API}/units/999999", {}).status_code == 404


def _unit_pk(county) -> int:
    return Unit.objects.get(agency=county.defender).pk


# --- staff -----------------------------------------------------------------------------------


def test_it_lets_admins_add_staff_to_their_own_agency_only(county):
    defender, jail = county.defender.pk, county.jail.pk
    admin = as_(county.defender_admin)
    response = call(admin, "POST", f"{API}/staff", _new_person(defender, "new_one"))
    assert response.status_code == 201
    assert response.json()["username"] == "new_one"
    assert response.json()["account_status"] == "active"
    assert call(admin, "POST", f"{API}/staff", _new_person(jail, "new_two")).status_code == 403
    check_matrix(
        county,
        "POST",
        f"{API}/staff",
        {None: 401, "outsider": 403, "defender_attorney": 403, "jail_admin": 403},
        data=_new_person(defender, "new_three"),
    )
    response = call(as_(county.coordinator), "POST", f"{API}/staff", _new_person(jail, "new_four"))
    assert response.status_code == 201
    assert not StaffProfile.objects.filter(user__username__in=["new_two", "new_three"]).exists()


def test_it_lets_a_token_provision_its_own_agencys_staff_without_governing_roles(
    county, token_client
):
    token = token_client("defender", WRITE)
    unit = _unit(county).pk
    person = _new_person(county.defender.pk, "hr_feed", unit=unit, title="Paralegal")
    response = call(token, "POST", f"{API}/staff", person)
    assert response.status_code == 201
    body = response.json()
    assert (body["unit"]["id"], body["title"], body["username"]) == (unit, "Paralegal", "hr_feed")
    profile = StaffProfile.objects.get(pk=body["id"])
    assert not profile.user.has_usable_password()
    for refused in (
        _new_person(county.jail.pk, "hr_other"),
        _new_person(county.defender.pk, "hr_pw", password="a long first passphrase"),
        _new_person(county.defender.pk, "hr_admin", roles=["agency_admin"]),
        _new_person(county.defender.pk, "hr_audit", roles=["auditor"]),
    ):
        assert call(token, "POST", f"{API}/staff", refused).status_code == 403, refused
    readonly = token_client("defender", READ)
    assert (
        call(readonly, "POST", f"{API}/staff", _new_person(county.defender.pk)).status_code == 403
    )


def test_it_lets_admins_their_token_and_coordinators_change_staff(county, token_client):
    url = f"{API}/staff/{county.defender_attorney.staff.pk}"
    check_matrix(
        county,
        "PATCH",
        url,
        {
            None: 401,
            "outsider": 403,
            "defender_attorney": 403,
            "jail_admin": 403,
            "defender_admin": 200,
            "coordinator": 200,
        },
        data={"title": "Trial Attorney"},
    )
    assert call(token_client("jail", WRITE), "PATCH", url, {"title": "X"}).status_code == 403
    assert call(token_client("defender", READ), "PATCH", url, {"title": "X"}).status_code == 403
    token = token_client("defender", WRITE)
    response = call(
        token,
        "PATCH",
        url,
        {
            "unit": _unit(county).pk,
            "roles": ["attorney", "supervisor"],
            "attributes": {"licensed_clinician": True},
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "Trial Attorney"
    assert body["unit"]["name"] == "Felony Team"
    assert body["roles"] == ["attorney", "supervisor"]
    assert body["attributes"] == {"bar_number": "T-1001", "licensed_clinician": True}
    assert call(token, "PATCH", url, {"roles": ["agency_admin"]}).status_code == 403


def test_it_clears_a_unit_and_removes_an_attribute_on_request(county):
    profile = county.defender_attorney.staff
    admin = as_(county.defender_admin)
    url = f"{API}/staff/{profile.pk}"
    call(admin, "PATCH", url, {"unit": _unit(county).pk})
    response = call(admin, "PATCH", url, {"unit": None, "attributes": {"bar_number": None}})
    assert response.status_code == 200
    assert response.json()["unit"] is None
    assert response.json()["attributes"] == {}
    assert response.json()["title"] == ""


def test_it_refuses_the_coordinator_role_to_non_coordinators(county):
    admin = as_(county.defender_admin)
    url = f"{API}/staff/{county.defender_attorney.staff.pk}"
    assert call(admin, "PATCH", url, {"roles": ["coordinator"]}).status_code == 403
    person = _new_person(county.defender.pk, "wannabe", roles=["coordinator"])
    assert call(admin, "POST", f"{API}/staff", person).status_code == 403
    response = call(as_(county.coordinator), "PATCH", url, {"roles": ["attorney", "coordinator"]})
    assert response.status_code == 200


def test_it_audits_api_writes_as_the_token(county, token_client):
    token = token_client("defender", WRITE)
    call(token, "PATCH", f"{API}/agencies/{county.defender.pk}", {"phone": "555-0000"})
    event = AuditEvent.objects.filter(action="directory.agency_updated").latest("seq")
    assert event.actor_label.startswith("token:")
    assert event.actor_token_id is not None
    assert event.details == {"phone": "555-0000"}


def test_it_documents_every_directory_operation_in_the_openapi_document(county):
    document = as_(None).get("/api/v1/openapi.json").json()
    paths = {p for p in document["paths"] if p.startswith(API)}
    assert paths == {
        f"{API}/agencies",
        f"{API}/agencies/{{agency_id}}",
        f"{API}/agencies/{{agency_id}}/suspend",
        f"{API}/agencies/{{agency_id}}/reinstate",
        f"{API}/agencies/{{agency_id}}/units",
        f"{API}/units/{{unit_id}}",
        f"{API}/staff",
        f"{API}/staff/{{staff_id}}",
    }


def test_it_answers_from_a_unit_created_by_an_action(county):
    unit = create_unit(county.jail, "Booking", actor=SYSTEM)
    body = as_(county.outsider).get(f"{API}/agencies/{county.jail.pk}/units").json()
    assert [u["id"] for u in body["results"]] == [unit.pk]
