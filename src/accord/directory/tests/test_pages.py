"""The directory pages: who may open and use each, what they show, and how they refuse."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import password_validators_help_texts
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from accord.accounts.models import User
from accord.audit.models import AuditEvent
from accord.core.actors import SYSTEM
from accord.core.testing import as_, check_matrix
from accord.directory.actions import add_staff, create_agency, create_unit, suspend_agency
from accord.directory.models import Agency, AgencyStatus, StaffProfile, Unit
from accord.directory.tests.conftest import freshly_signed_in

pytestmark = pytest.mark.django_db

READERS = {
    None: 302,
    "outsider": 200,
    "defender_attorney": 200,
    "jail_officer": 200,
    "defender_admin": 200,
    "coordinator": 200,
}


def _unit(county) -> Unit:
    return Unit.objects.get(agency=county.defender, name="Felony Team")


def _html(response) -> str:
    return str(response.content.decode())


# --- the permission matrix ---------------------------------------------------------------------


def test_it_lets_every_member_read_the_directory_pages(county):
    attorney = county.defender_attorney.staff.pk
    for url in (
        "/directory/",
        "/directory/staff/",
        f"/directory/agencies/{county.defender.pk}/",
        f"/directory/agencies/{county.jail.pk}/",
        f"/directory/staff/{attorney}/",
    ):
        check_matrix(county, "GET", url, READERS)


def test_it_sends_anonymous_people_to_sign_in_from_every_page(county):
    response = as_(None).get(f"/directory/agencies/{county.defender.pk}/edit/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/sign-in/?next=")


def test_it_lets_only_coordinators_open_the_new_agency_page(county):
    check_matrix(
        county,
        "GET",
        "/directory/agencies/new/",
        {None: 302, "outsider": 403, "defender_admin": 403, "coordinator": 200},
    )


def test_it_lets_the_agency_admin_and_coordinators_edit_an_agency(county):
    managers = {
        None: 302,
        "outsider": 403,
        "defender_attorney": 403,
        "jail_admin": 403,
        "defender_admin": 200,
        "coordinator": 200,
    }
    defender = county.defender.pk
    check_matrix(county, "GET", f"/directory/agencies/{defender}/edit/", managers)
    check_matrix(county, "GET", f"/directory/agencies/{defender}/units/new/", managers)
    check_matrix(county, "GET", f"/directory/units/{_unit(county).pk}/edit/", managers)
    attorney = county.defender_attorney.staff.pk
    check_matrix(county, "GET", f"/directory/staff/{attorney}/edit/", managers)


def test_it_lets_only_administrators_open_the_add_staff_page(county):
    check_matrix(
        county,
        "GET",
        "/directory/staff/new/",
        {
            None: 302,
            "outsider": 403,
            "defender_attorney": 403,
            "defender_auditor": 403,
            "jail_admin": 200,
            "defender_admin": 200,
            "coordinator": 200,
        },
    )


def test_it_refuses_suspension_pages_to_everyone_but_coordinators(county):
    for action in ("suspend", "reinstate"):
        check_matrix(
            county,
            "GET",
            f"/directory/agencies/{county.jail.pk}/{action}/",
            {None: 302, "outsider": 403, "defender_admin": 403, "jail_admin": 403},
        )


def test_it_answers_not_found_for_agencies_and_staff_that_do_not_exist(county):
    client = as_(county.coordinator)
    for url in (
        "/directory/agencies/999999/",
        "/directory/agencies/999999/edit/",
        "/directory/staff/999999/",
        "/directory/staff/999999/edit/",
        "/directory/units/999999/edit/",
    ):
        assert client.get(url).status_code == 404, url


def test_it_refuses_writes_by_post_to_those_who_may_not(county):
    defender = county.defender
    before = (defender.phone, Unit.objects.count(), User.objects.count())
    outsider = as_(county.outsider)
    jail_admin = as_(county.jail_admin)
    assert (
        outsider.post(f"/directory/agencies/{defender.pk}/edit/", {"phone": "1"}).status_code == 403
    )
    assert (
        jail_admin.post(
            f"/directory/agencies/{defender.pk}/units/new/", {"name": "Intruders"}
        ).status_code
        == 403
    )
    response = outsider.post(
        "/directory/staff/new/",
        {"username": "x1", "first_name": "X", "last_name": "Y", "email": "x@test.invalid"},
    )
    assert response.status_code == 403
    defender.refresh_from_db()
    assert (defender.phone, Unit.objects.count(), User.objects.count()) == before


# --- agencies --------------------------------------------------------------------------------


def test_it_searches_agencies_by_name_short_name_jurisdiction_and_identifier(county):
    create_agency(
        actor=SYSTEM,
        name="Riverside Probation",
        short_name="RVP",
        kind="probation",
        jurisdiction="Riverside County",
        identifier="PR-RV-09",
    )
    client = as_(county.outsider)
    for q in ("riverside probation", "RVP", "riverside county", "pr-rv-09"):
        page = _html(client.get("/directory/", {"q": q}))
        assert "Riverside Probation" in page, q
        assert "Test County Jail" not in page, q


def test_it_filters_agencies_by_kind_and_status(county):
    suspend_agency(county.jail, "Audit finding", actor=SYSTEM)
    client = as_(county.outsider)
    jails = _html(client.get("/directory/", {"kind": "jail"}))
    assert "Test County Jail" in jails
    assert "Test Public Defender" not in jails
    suspended = _html(client.get("/directory/", {"status": "suspended"}))
    assert "Test County Jail" in suspended
    assert "Test Circuit Court" not in suspended
    assert "usa-tag" in suspended


def test_it_shows_an_empty_state_when_no_agency_matches(county):
    page = _html(as_(county.outsider).get("/directory/", {"q": "no such agency anywhere"}))
    assert "No agency matches this search" in page
    assert "usa-table" not in page


def test_it_ignores_an_unknown_kind_filter_by_showing_nothing(county):
    response = as_(county.outsider).get("/directory/", {"kind": "spaceship"})
    assert response.status_code == 200
    assert "No agency matches this search" in _html(response)


def test_it_pages_the_agency_list_by_twenty_five(county):
    for n in range(30):
        create_agency(
            actor=SYSTEM,
            name=f"Zeta Agency {n:02}",
            short_name=f"ZA{n:02}",
            kind="court",
            jurisdiction="Zeta",
        )
    client = as_(county.outsider)
    first = _html(client.get("/directory/", {"q": "zeta"}))
    second = _html(client.get("/directory/", {"q": "zeta", "page": "2"}))
    assert first.count("Zeta Agency ") == 25
    assert second.count("Zeta Agency ") == 5
    assert "usa-pagination" in first
    assert "q=zeta&amp;page=2" in first


def test_it_shows_an_agency_with_its_contact_units_and_staff(county):
    page = _html(as_(county.outsider).get(f"/directory/agencies/{county.defender.pk}/"))
    assert "Test Public Defender" in page
    assert "Felony Team" in page
    assert "Attorney, Defender" not in page  # names read "First Last" here
    assert "Defender Attorney" in page
    assert "Test County Jail" not in page
    assert "Edit details" not in page


def test_it_offers_the_admin_edit_links_only_on_their_own_agency(county):
    client = as_(county.defender_admin)
    assert "Edit details" in _html(client.get(f"/directory/agencies/{county.defender.pk}/"))
    assert "Edit details" not in _html(client.get(f"/directory/agencies/{county.jail.pk}/"))


def test_it_lets_a_coordinator_add_an_agency(county):
    response = as_(county.coordinator).post(
        "/directory/agencies/new/",
        {
            "name": "Harbor Reentry Services",
            "short_name": "HRS",
            "kind": "service_provider",
            "jurisdiction": "Test County",
            "identifier": "NPI-1",
            "email": "intake@hrs.test.invalid",
            "phone": "555-0100",
        },
    )
    agency = Agency.objects.get(short_name="HRS")
    assert response.status_code == 302
    assert response["Location"] == f"/directory/agencies/{agency.pk}/"
    assert AuditEvent.objects.filter(action="directory.agency_created", object_id=str(agency.pk))


def test_it_shows_a_duplicate_agency_name_next_to_the_field(county):
    response = as_(county.coordinator).post(
        "/directory/agencies/new/",
        {
            "name": "test public defender",
            "short_name": "NEW",
            "kind": "court",
            "jurisdiction": "Test County",
        },
    )
    page = _html(response)
    assert response.status_code == 200
    assert "usa-alert--error" in page
    assert 'id="id_name-error"' in page
    assert "another agency has this name" in page
    assert "usa-input--error" in page
    assert not Agency.objects.filter(short_name="NEW").exists()


def test_it_lets_an_agency_admin_change_only_the_contact_fields(county):
    defender = county.defender
    response = as_(county.defender_admin).post(
        f"/directory/agencies/{defender.pk}/edit/",
        {
            "name": "Renamed By Admin",
            "short_name": "RBA",
            "kind": "court",
            "jurisdiction": "Elsewhere",
            "email": "front-desk@tpd.test.invalid",
            "phone": "555-0199",
        },
    )
    assert response.status_code == 302
    defender.refresh_from_db()
    assert (defender.email, defender.phone) == ("front-desk@tpd.test.invalid", "555-0199")
    assert (defender.name, defender.kind) == ("Test Public Defender", "public_defender")


def test_it_lets_a_coordinator_change_an_agencys_kind(county):
    court = county.court
    response = as_(county.coordinator).post(
        f"/directory/agencies/{court.pk}/edit/",
        {
            "name": court.name,
            "short_name": court.short_name,
            "kind": "probation",
            "jurisdiction": court.jurisdiction,
        },
    )
    assert response.status_code == 302
    court.refresh_from_db()
    assert court.kind == "probation"


def test_it_asks_for_a_fresh_sign_in_before_suspending(county):
    response = as_(county.coordinator).get(f"/directory/agencies/{county.jail.pk}/suspend/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauth/?next=")


def test_it_suspends_an_agency_with_a_reason_after_a_fresh_sign_in(county):
    jail = county.jail
    client = freshly_signed_in(county.coordinator)
    url = f"/directory/agencies/{jail.pk}/suspend/"
    assert client.get(url).status_code == 200
    refused = client.post(url, {"reason": "   "})
    assert 'id="id_reason-error"' in _html(refused)
    jail.refresh_from_db()
    assert jail.status == AgencyStatus.ACTIVE
    response = client.post(url, {"reason": "Breach of the data-sharing agreement"})
    assert response.status_code == 302
    jail.refresh_from_db()
    assert jail.status == AgencyStatus.SUSPENDED
    event = AuditEvent.objects.get(action="directory.agency_suspended")
    assert event.details == {"reason": "Breach of the data-sharing agreement"}


def test_it_does_not_suspend_without_a_fresh_sign_in(county):
    jail = county.jail
    response = as_(county.coordinator).post(
        f"/directory/agencies/{jail.pk}/suspend/",
        {"reason": "No fresh sign-in", "next": f"/directory/agencies/{jail.pk}/suspend/"},
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauth/")
    jail.refresh_from_db()
    assert jail.status == AgencyStatus.ACTIVE


def test_it_reinstates_a_suspended_agency(county):
    jail = county.jail
    suspend_agency(jail, "Review", actor=SYSTEM)
    client = freshly_signed_in(county.coordinator)
    response = client.post(f"/directory/agencies/{jail.pk}/reinstate/")
    assert response.status_code == 302
    jail.refresh_from_db()
    assert jail.status == AgencyStatus.ACTIVE
    again = client.post(f"/directory/agencies/{jail.pk}/reinstate/")
    assert "not suspended" in _html(again)


# --- units -----------------------------------------------------------------------------------


def test_it_lets_an_agency_admin_add_and_rename_a_unit(county):
    client = as_(county.defender_admin)
    defender = county.defender
    response = client.post(
        f"/directory/agencies/{defender.pk}/units/new/",
        {"name": "Juvenile Unit", "description": "Delinquency cases"},
    )
    assert response.status_code == 302
    unit = Unit.objects.get(agency=defender, name="Juvenile Unit")
    response = client.post(f"/directory/units/{unit.pk}/edit/", {"name": "Youth Defense"})
    assert response.status_code == 302
    unit.refresh_from_db()
    assert unit.name == "Youth Defense"
    assert "Youth Defense" in _html(client.get(f"/directory/agencies/{defender.pk}/"))


def test_it_refuses_a_duplicate_unit_name_next_to_the_field(county):
    response = as_(county.defender_admin).post(
        f"/directory/agencies/{county.defender.pk}/units/new/", {"name": "felony team"}
    )
    page = _html(response)
    assert response.status_code == 200
    assert 'id="id_name-error"' in page
    assert "already used in this agency" in page
    assert Unit.objects.filter(agency=county.defender).count() == 1


# --- staff -----------------------------------------------------------------------------------


def test_it_searches_staff_by_name_and_title(county):
    profile = add_staff(
        county.jail,
        actor=SYSTEM,
        username="mreyes",
        first_name="Marisol",
        last_name="Reyes",
        email="mreyes@test.invalid",
        roles=["officer"],
        title="Classification Sergeant",
    )
    client = as_(county.outsider)
    for q in ("marisol", "REYES", "marisol reyes", "classification"):
        page = _html(client.get("/directory/staff/", {"q": q}))
        assert f"/directory/staff/{profile.pk}/" in page, q
        assert f"/directory/staff/{county.defender_attorney.staff.pk}/" not in page, q


def test_it_matches_usernames_only_for_those_who_manage_the_account(county):
    url = f"/directory/staff/{county.defender_attorney.staff.pk}/"
    query = {"q": "defender_attorney"}
    assert url not in _html(as_(county.outsider).get("/directory/staff/", query))
    assert url not in _html(as_(county.jail_admin).get("/directory/staff/", query))
    assert url in _html(as_(county.defender_admin).get("/directory/staff/", query))
    assert url in _html(as_(county.coordinator).get("/directory/staff/", query))


def test_it_filters_staff_by_agency_and_role(county):
    client = as_(county.outsider)
    jail = _html(client.get("/directory/staff/", {"agency": county.jail.pk}))
    assert "Officer" in jail
    assert f"/directory/staff/{county.defender_attorney.staff.pk}/" not in jail
    attorneys = _html(client.get("/directory/staff/", {"role": "attorney"}))
    assert f"/directory/staff/{county.defender_attorney.staff.pk}/" in attorneys
    assert f"/directory/staff/{county.prosecutor.staff.pk}/" in attorneys
    assert f"/directory/staff/{county.jail_officer.staff.pk}/" not in attorneys


def test_it_shows_an_empty_state_when_nobody_matches(county):
    page = _html(as_(county.outsider).get("/directory/staff/", {"q": "zzzz-nobody"}))
    assert "Nobody matches this search" in page


def test_it_pages_the_staff_list(county):
    for n in range(30):
        add_staff(
            county.provider,
            actor=SYSTEM,
            username=f"pager{n:02}",
            first_name="Pager",
            last_name=f"Person{n:02}",
            email=f"pager{n:02}@test.invalid",
            roles=["case_worker"],
        )
    client = as_(county.outsider)
    first = _html(client.get("/directory/staff/", {"q": "pager"}))
    second = _html(client.get("/directory/staff/", {"q": "pager", "page": "2"}))
    assert first.count("Pager</a>") == 25
    assert second.count("Pager</a>") == 5


def _list_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_it_lists_staff_in_a_fixed_number_of_queries(county, django_assert_max_num_queries):
    client = as_(county.outsider)
    baseline = _list_queries(client, "/directory/staff/")
    for n in range(30):
        add_staff(
            county.provider,
            actor=SYSTEM,
            username=f"bulk{n:02}",
            first_name="Bulk",
            last_name=f"Person{n:02}",
            email=f"bulk{n:02}@test.invalid",
            roles=["case_worker", "social_worker"],
            unit=None,
        )
    assert _list_queries(client, "/directory/staff/") == baseline
    with django_assert_max_num_queries(15):
        client.get("/directory/staff/")


def test_it_lists_agencies_in_a_fixed_number_of_queries(county, django_assert_max_num_queries):
    client = as_(county.outsider)
    baseline = _list_queries(client, "/directory/")
    for n in range(30):
        create_agency(
            actor=SYSTEM,
            name=f"Bulk {n:02}",
            short_name=f"B{n:02}",
            kind="court",
            jurisdiction="Bulk",
        )
    assert _list_queries(client, "/directory/") == baseline
    with django_assert_max_num_queries(14):
        client.get("/directory/")


def test_it_shows_a_staff_members_roles_attributes_unit_and_agency(county):
    profile = county.defender_supervisor.staff
    page = _html(as_(county.outsider).get(f"/directory/staff/{profile.pk}/"))
    assert "Test Public Defender" in page
    assert "Supervisor" in page
    assert "Attorney" in page
    assert "T-1002" in page


def test_it_shows_account_status_and_username_only_to_managers(county):
    profile = county.defender_attorney.staff
    url = f"/directory/staff/{profile.pk}/"
    for persona in ("outsider", "defender_attorney", "jail_admin"):
        page = _html(as_(getattr(county, persona)).get(url))
        assert "defender_attorney</dd>" not in page, persona
        assert "Active" not in page, persona
    for persona in ("defender_admin", "coordinator"):
        page = _html(as_(getattr(county, persona)).get(url))
        assert "defender_attorney</dd>" in page, persona
        assert "Active" in page, persona


def test_it_includes_the_account_actions_fragment_for_managers(county, settings, tmp_path):
    fragment = tmp_path / "accounts" / "_admin_actions.html"
    fragment.parent.mkdir()
    fragment.write_text("FRAGMENT for {{ target_user.username }}")
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    url = f"/directory/staff/{county.defender_attorney.staff.pk}/"
    assert "FRAGMENT for defender_attorney" in _html(as_(county.defender_admin).get(url))
    assert "FRAGMENT" not in _html(as_(county.outsider).get(url))


def _staff_form(**overrides):
    data = {
        "username": "nnguyen",
        "first_name": "Ngoc",
        "last_name": "Nguyen",
        "email": "nnguyen@test.invalid",
        "title": "Staff Attorney",
        "phone": "555-0142",
        "roles": ["attorney"],
        "bar_number": "T-3003",
        "sworn_officer": "",
        "password": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v != ""}


def test_it_lets_an_agency_admin_add_staff_to_their_own_agency_only(county):
    unit = _unit(county)
    response = as_(county.defender_admin).post(
        "/directory/staff/new/",
        _staff_form(agency=county.jail.pk, unit=unit.pk, part2_program="on"),
    )
    assert response.status_code == 302
    profile = StaffProfile.objects.get(user__username="nnguyen")
    assert profile.agency == county.defender
    assert profile.unit == unit
    assert profile.roles == {"attorney"}
    assert profile.attributes == {"bar_number": "T-3003", "part2_program": True}
    assert not profile.user.has_usable_password()
    assert response["Location"] == f"/directory/staff/{profile.pk}/"


def test_it_sets_the_optional_first_password(county):
    response = as_(county.coordinator).post(
        "/directory/staff/new/",
        _staff_form(agency=county.court.pk, password="a long first passphrase"),
    )
    assert response.status_code == 302
    user = User.objects.get(username="nnguyen")
    assert user.check_password("a long first passphrase")


def test_it_shows_the_password_rules_and_refuses_a_weak_password(county):
    client = as_(county.coordinator)
    form = _html(client.get("/directory/staff/new/"))
    for rule in password_validators_help_texts():
        assert escape(rule) in form
    response = client.post(
        "/directory/staff/new/", _staff_form(agency=county.court.pk, password="short")
    )
    page = _html(response)
    assert 'id="id_password-error"' in page
    assert not User.objects.filter(username="nnguyen").exists()


def test_it_does_not_offer_the_coordinator_role_to_an_agency_admin(county):
    client = as_(county.defender_admin)
    assert 'value="coordinator"' not in _html(client.get("/directory/staff/new/"))
    response = client.post("/directory/staff/new/", _staff_form(roles=["coordinator"]))
    assert response.status_code == 200
    assert 'id="id_roles-error"' in _html(response)
    assert not User.objects.filter(username="nnguyen").exists()


def test_it_shows_a_taken_username_next_to_the_field(county):
    response = as_(county.defender_admin).post(
        "/directory/staff/new/", _staff_form(username="Defender_Attorney")
    )
    page = _html(response)
    assert 'id="id_username-error"' in page
    assert "already taken" in page


def test_it_refuses_a_unit_of_another_agency_when_adding_staff(county):
    jail_unit = create_unit(county.jail, "Booking", actor=SYSTEM)
    response = as_(county.coordinator).post(
        "/directory/staff/new/", _staff_form(agency=county.defender.pk, unit=jail_unit.pk)
    )
    assert 'id="id_unit-error"' in _html(response)
    assert not User.objects.filter(username="nnguyen").exists()


def test_it_lets_an_agency_admin_edit_a_staff_members_details(county):
    profile = county.defender_attorney.staff
    unit = _unit(county)
    response = as_(county.defender_admin).post(
        f"/directory/staff/{profile.pk}/edit/",
        {
            "title": "Senior Trial Attorney",
            "phone": "555-0111",
            "unit": unit.pk,
            "roles": ["attorney", "supervisor"],
            "bar_number": "T-1001",
            "licensed_clinician": "on",
        },
    )
    assert response.status_code == 302
    profile = StaffProfile.objects.with_roles().get(pk=profile.pk)
    assert (profile.title, profile.phone, profile.unit) == (
        "Senior Trial Attorney",
        "555-0111",
        unit,
    )
    assert profile.roles == {"attorney", "supervisor"}
    assert profile.attributes == {"bar_number": "T-1001", "licensed_clinician": True}


def test_it_keeps_the_coordinator_role_when_a_council_admin_edits_a_coordinator(county):
    council_admin = add_staff(
        county.council,
        actor=SYSTEM,
        username="council_admin",
        first_name="Council",
        last_name="Admin",
        email="ca@test.invalid",
        roles=["agency_admin"],
    ).user
    from accord.core.testing import enrol_test_authenticator

    enrol_test_authenticator(council_admin, actor=SYSTEM)
    coordinator = county.coordinator.staff
    response = as_(council_admin).post(
        f"/directory/staff/{coordinator.pk}/edit/",
        {"title": "Council Coordinator", "roles": ["auditor"]},
    )
    assert response.status_code == 302
    coordinator = StaffProfile.objects.with_roles().get(pk=coordinator.pk)
    assert coordinator.title == "Council Coordinator"
    assert coordinator.roles == {"coordinator", "auditor"}


def test_it_refuses_a_unit_of_another_agency_when_editing_staff(county):
    jail_unit = create_unit(county.jail, "Booking", actor=SYSTEM)
    profile = county.defender_attorney.staff
    response = as_(county.coordinator).post(
        f"/directory/staff/{profile.pk}/edit/", {"unit": jail_unit.pk, "roles": ["attorney"]}
    )
    assert response.status_code == 200
    assert 'id="id_unit-error"' in _html(response)
    profile.refresh_from_db()
    assert profile.unit is None
