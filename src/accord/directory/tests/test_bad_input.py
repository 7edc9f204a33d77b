"""Bad input is refused with a 422 naming the field, and a refusal leaves nothing behind."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import DatabaseError, connection

from accord.accounts.identity import actor_for_user
from accord.accounts.models import User
from accord.audit.models import AuditEvent
from accord.core.actors import SYSTEM
from accord.core.errors import InvalidInput, PermissionDenied
from accord.core.testing import as_
from accord.directory.actions import add_staff, create_unit, update_staff
from accord.directory.models import Agency, StaffProfile, StaffRole, Unit

pytestmark = pytest.mark.django_db

API = "/api/v1/directory"


def call(client, method: str, url: str, body: Any):
    return client.generic(method, url, data=json.dumps(body), content_type="application/json")


def fields(response) -> list[str]:
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    return [e["field"] for e in response.json()["errors"]]


def _agency(**extra: Any) -> dict[str, Any]:
    return {
        "name": "Fresh Agency",
        "short_name": "FA",
        "kind": "court",
        "jurisdiction": "Test County",
        **extra,
    }


def _person(agency_id: int, **extra: Any) -> dict[str, Any]:
    return {
        "username": "fresh_person",
        "first_name": "Fresh",
        "last_name": "Person",
        "email": "fresh@test.invalid",
        "agency": agency_id,
        "roles": ["attorney"],
        **extra,
    }


def _snapshot() -> tuple[int, int, int, int]:
    return (
        User.objects.count(),
        StaffProfile.objects.count(),
        StaffRole.objects.count(),
        AuditEvent.objects.count(),
    )


# --- duplicates ------------------------------------------------------------------------------


def test_it_refuses_duplicate_agency_names_and_short_names(county):
    client = as_(county.coordinator)
    assert fields(call(client, "POST", f"{API}/agencies", _agency(name="TEST COUNTY JAIL"))) == [
        "name"
    ]
    assert fields(call(client, "POST", f"{API}/agencies", _agency(short_name="tpd"))) == [
        "short_name"
    ]
    renamed = call(
        client, "PATCH", f"{API}/agencies/{county.jail.pk}", {"name": "Test Circuit Court"}
    )
    assert fields(renamed) == ["name"]


def test_it_refuses_a_duplicate_identifier_within_a_kind(county):
    client = as_(county.coordinator)
    assert call(client, "POST", f"{API}/agencies", _agency(identifier="CT-1")).status_code == 201
    second = _agency(name="Second Court", short_name="SC", identifier="CT-1")
    assert fields(call(client, "POST", f"{API}/agencies", second)) == ["identifier"]
    other_kind = _agency(name="A Jail", short_name="AJ", kind="jail", identifier="CT-1")
    assert call(client, "POST", f"{API}/agencies", other_kind).status_code == 201


def test_it_refuses_a_duplicate_unit_name_in_an_agency(county):
    client = as_(county.defender_admin)
    url = f"{API}/agencies/{county.defender.pk}/units"
    assert fields(call(client, "POST", url, {"name": "FELONY TEAM"})) == ["name"]
    other = create_unit(county.defender, "Appeals", actor=SYSTEM)
    assert fields(call(client, "PATCH", f"{API}/units/{other.pk}", {"name": "Felony team"})) == [
        "name"
    ]
    # the same name in another agency is fine
    jail_units = f"{API}/agencies/{county.jail.pk}/units"
    assert (
        call(as_(county.jail_admin), "POST", jail_units, {"name": "Felony Team"}).status_code == 201
    )


def test_it_refuses_a_username_already_taken_in_any_case(county):
    response = call(
        as_(county.defender_admin),
        "POST",
        f"{API}/staff",
        _person(county.defender.pk, username="Defender_Attorney"),
    )
    assert fields(response) == ["username"]


# --- unknown and wrongly typed values --------------------------------------------------------


def test_it_refuses_an_unknown_kind(county):
    client = as_(county.coordinator)
    assert fields(call(client, "POST", f"{API}/agencies", _agency(kind="spaceship"))) == ["kind"]
    patch = call(client, "PATCH", f"{API}/agencies/{county.jail.pk}", {"kind": "spaceship"})
    assert fields(patch) == ["kind"]


def test_it_refuses_an_unknown_role(county):
    client = as_(county.defender_admin)
    response = call(client, "POST", f"{API}/staff", _person(county.defender.pk, roles=["pilot"]))
    assert fields(response) == ["roles.0"]
    url = f"{API}/staff/{county.defender_attorney.staff.pk}"
    assert fields(call(client, "PATCH", url, {"roles": ["attorney", "pilot"]})) == ["roles.1"]


def test_it_refuses_an_unknown_role_in_the_action_too(county):
    with pytest.raises(InvalidInput) as refused:
        update_staff(county.defender_attorney.staff, roles=["pilot"], actor=SYSTEM)
    assert refused.value.errors == [{"field": "roles", "reason": "unknown: pilot"}]


def test_it_refuses_an_unknown_attribute(county):
    client = as_(county.defender_admin)
    person = _person(county.defender.pk, attributes={"shoe_size": "9"})
    assert fields(call(client, "POST", f"{API}/staff", person)) == ["attributes.shoe_size"]
    url = f"{API}/staff/{county.defender_attorney.staff.pk}"
    assert fields(call(client, "PATCH", url, {"attributes": {"clearance": "top"}})) == [
        "attributes.clearance"
    ]
    with pytest.raises(InvalidInput) as refused:
        update_staff(county.defender_attorney.staff, attributes={"clearance": "x"}, actor=SYSTEM)
    assert refused.value.errors[0]["field"] == "attributes.clearance"


def test_it_refuses_an_attribute_of_the_wrong_type(county):
    client = as_(county.defender_admin)
    url = f"{API}/staff/{county.defender_attorney.staff.pk}"
    assert fields(call(client, "PATCH", url, {"attributes": {"sworn_officer": "yes"}})) == [
        "attributes.sworn_officer"
    ]
    assert fields(call(client, "PATCH", url, {"attributes": {"bar_number": 1234}})) == [
        "attributes.bar_number"
    ]
    person = _person(county.defender.pk, attributes={"part2_program": 1})
    assert fields(call(client, "POST", f"{API}/staff", person)) == ["attributes.part2_program"]
    for wrong in ({"sworn_officer": "yes"}, {"bar_number": 1234}, {"badge_number": "x" * 61}):
        with pytest.raises(InvalidInput) as refused:
            update_staff(county.defender_attorney.staff, attributes=wrong, actor=SYSTEM)
        assert refused.value.errors[0]["field"] == f"attributes.{next(iter(wrong))}"


def test_it_refuses_a_unit_of_another_agency(county):
    booking = create_unit(county.jail, "Booking", actor=SYSTEM)
    client = as_(county.coordinator)
    person = _person(county.defender.pk, unit=booking.pk)
    assert fields(call(client, "POST", f"{API}/staff", person)) == ["unit"]
    url = f"{API}/staff/{county.defender_attorney.staff.pk}"
    assert fields(call(client, "PATCH", url, {"unit": booking.pk})) == ["unit"]
    assert not User.objects.filter(username="fresh_person").exists()


def test_it_names_a_referenced_agency_or_unit_that_does_not_exist(county):
    client = as_(county.coordinator)
    assert fields(call(client, "POST", f"{API}/staff", _person(999999))) == ["agency"]
    person = _person(county.defender.pk, unit=999999)
    assert fields(call(client, "POST", f"{API}/staff", person)) == ["unit"]


def test_it_refuses_unknown_json_fields_naming_them(county):
    coordinator = as_(county.coordinator)
    admin = as_(county.defender_admin)
    staff = f"{API}/staff/{county.defender_attorney.staff.pk}"
    cases = [
        (coordinator, "POST", f"{API}/agencies", _agency(colour="red"), ["colour"]),
        (admin, "PATCH", f"{API}/agencies/{county.defender.pk}", {"status": "x"}, ["status"]),
        (admin, "POST", f"{API}/agencies/{county.defender.pk}/units", {"name": "U", "x": 1}, ["x"]),
        (admin, "PATCH", f"{API}/units/{Unit.objects.get().pk}", {"agency": 2}, ["agency"]),
        (
            admin,
            "POST",
            f"{API}/staff",
            _person(county.defender.pk, is_superuser=True),
            ["is_superuser"],
        ),
        (admin, "PATCH", staff, {"username": "renamed"}, ["username"]),
        (admin, "PATCH", staff, {"agency": county.jail.pk}, ["agency"]),
    ]
    for client, method, url, body, expected in cases:
        assert fields(call(client, method, url, body)) == expected, (method, url, body)
    suspend = f"{API}/agencies/{county.jail.pk}/suspend"
    assert fields(call(coordinator, "POST", suspend, {"reason": "r", "until": "never"})) == [
        "until"
    ]


def test_it_refuses_text_that_is_too_long_instead_of_cutting_it(county):
    client = as_(county.defender_admin)
    url = f"{API}/staff/{county.defender_attorney.staff.pk}"
    assert fields(call(client, "PATCH", url, {"title": "x" * 121})) == ["title"]
    assert fields(call(client, "PATCH", url, {"phone": "1" * 41})) == ["phone"]
    person = _person(county.defender.pk, title="x" * 121)
    assert fields(call(client, "POST", f"{API}/staff", person)) == ["title"]
    county.defender_attorney.staff.refresh_from_db()
    assert county.defender_attorney.staff.title == ""


def test_it_names_every_wrong_field_at_once(county):
    response = call(
        as_(county.defender_admin),
        "POST",
        f"{API}/staff",
        _person(county.defender.pk, username="bad name!", first_name=" ", email="not-an-address"),
    )
    assert fields(response) == ["username", "first_name", "email"]


# --- nothing left behind ---------------------------------------------------------------------


def test_it_leaves_nothing_behind_when_a_role_is_refused(county):
    before = _snapshot()
    admin = actor_for_user(county.defender_admin)
    with pytest.raises(PermissionDenied):
        add_staff(
            county.defender,
            actor=admin,
            username="would_be_coordinator",
            first_name="Would",
            last_name="Be",
            email="wb@test.invalid",
            roles=["attorney", "coordinator"],
            password="a long first passphrase",
        )
    assert _snapshot() == before
    assert not User.objects.filter(username="would_be_coordinator").exists()


@pytest.fixture
def refusing_role_rows():
    """The database refuses every new role row: a failure that comes after add_staff has
    written the user, its profile and two audit events."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION refuse_role() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'role refused'; END; $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER refuse_role BEFORE INSERT ON directory_staffrole "
                "FOR EACH ROW EXECUTE FUNCTION refuse_role()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER refuse_role BEFORE INSERT ON directory_staffrole "
                "BEGIN SELECT RAISE(ABORT, 'role refused'); END"
            )
    # The test's transaction is rolled back afterwards, and the trigger with it.


def test_it_leaves_nothing_behind_when_a_role_row_fails_after_the_user_is_written(
    county, refusing_role_rows
):
    before = _snapshot()
    # SQLite reports the trigger as an IntegrityError, PostgreSQL as a ProgrammingError.
    with pytest.raises(DatabaseError):
        add_staff(
            county.defender,
            actor=SYSTEM,
            username="half_written",
            first_name="Half",
            last_name="Written",
            email="hw@test.invalid",
            roles=["attorney"],
            password="a long first passphrase",
        )
    assert _snapshot() == before
    assert not User.objects.filter(username="half_written").exists()


def test_it_keeps_agency_rows_unchanged_when_an_update_is_refused(county):
    before = list(Agency.objects.values_list("name", "short_name", "kind", "phone"))
    call(
        as_(county.coordinator),
        "PATCH",
        f"{API}/agencies/{county.jail.pk}",
        {
            "name": "Test Public Defender",
            "phone": "555-0000",
        },
    )
    assert list(Agency.objects.values_list("name", "short_name", "kind", "phone")) == before
