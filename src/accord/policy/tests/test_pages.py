"""The policy pages: permission matrix, disclosures written for what a list shows, the
Part 2 notice, the explain page and screens, and bounded query counts."""

from __future__ import annotations

import pytest

from accord.agreements.testing import make_agreement, term
from accord.consent.testing import make_consent
from accord.core.actors import SYSTEM
from accord.core.testing import as_, check_matrix
from accord.policy.actions import register_record, screen_staff
from accord.policy.models import Disclosure, EthicalScreen
from accord.policy.notices import PART2_NOTICE

pytestmark = pytest.mark.django_db
DEFENSE = "defense_representation"
EVERYONE = {
    None: 302,
    "defender_attorney": 200,
    "jail_officer": 200,
    "coordinator": 200,
    "council_auditor": 200,
    "outsider": 200,
}


@pytest.fixture
def shared(county):
    make_agreement(
        "MOU-JAIL",
        [(county.defender, county.defender_admin), (county.jail, county.jail_admin)],
        [term("3.2", county.jail, county.defender, ["custody"], [DEFENSE])],
    )
    make_agreement(
        "QSOA",
        [(county.defender, county.defender_admin), (county.provider, county.provider_case_worker)],
        [
            term(
                "4.1",
                county.provider,
                county.defender,
                ["substance_use_part2"],
                [DEFENSE],
                consent="part2",
            )
        ],
    )
    make_consent(
        county.provider,
        kind="part2",
        client_key="C-2",
        disclosers=[county.provider],
        recipients=[county.defender],
        categories=["substance_use_part2"],
        purposes=[DEFENSE],
    )
    return {
        "booking": register_record(
            county.jail, actor=SYSTEM, client_key="C-1", category="custody", summary="Booked 02:10"
        ),
        "note": register_record(
            county.defender,
            actor=SYSTEM,
            client_key="C-1",
            category="privileged_work_product",
            summary="Theory of case",
        ),
        "treatment": register_record(
            county.provider,
            actor=SYSTEM,
            client_key="C-2",
            category="substance_use_part2",
            summary="Intake",
        ),
    }


def test_it_lets_every_signed_in_person_open_the_policy_pages(county, shared):
    for url in (
        "/policy/",
        "/policy/explain",
        "/policy/disclosures",
        "/policy/screens",
        "/policy/rules",
        "/policy/disclosures/C-1",
        "/policy/records/new",
    ):
        check_matrix(county, "GET", url, EVERYONE)


def test_it_shows_other_agencies_records_only_under_a_term_and_records_the_disclosure(
    county, shared
):
    response = as_(county.defender_attorney).get("/policy/", {"purpose": DEFENSE})
    body = response.content.decode()
    assert "Booked 02:10" in body
    assert "Theory of case" in body
    assert "Intake" in body
    assert "MOU-JAIL §3.2" in body
    assert PART2_NOTICE[:60] in body
    disclosures = Disclosure.objects.order_by("discloser_id")
    assert {(d.client_key, tuple(d.categories)) for d in disclosures} == {
        ("C-1", ("custody",)),
        ("C-2", ("substance_use_part2",)),
    }
    jail = as_(county.jail_officer).get("/policy/", {"purpose": DEFENSE}).content.decode()
    assert "Theory of case" not in jail
    outsider = as_(county.outsider).get("/policy/", {"purpose": DEFENSE}).content.decode()
    assert "Booked 02:10" not in outsider


def test_it_lists_records_in_a_bounded_number_of_queries(
    county, shared, django_assert_max_num_queries
):
    for n in range(30):
        register_record(
            county.jail,
            actor=SYSTEM,
            client_key=f"C-{n + 10}",
            category="custody",
            summary=f"Booking {n}",
        )
    client = as_(county.defender_attorney)
    client.get("/policy/", {"purpose": DEFENSE})
    with django_assert_max_num_queries(30):
        response = client.get("/policy/", {"purpose": DEFENSE, "page": "2"})
    assert response.status_code == 200


def test_it_explains_each_category_in_the_words_of_the_agreement(county, shared):
    response = as_(county.defender_attorney).get(
        "/policy/explain",
        {
            "subject": county.defender_attorney.pk,
            "purpose": DEFENSE,
            "action": "view",
            "client_key": "C-1",
            "owner": county.jail.pk,
        },
    )
    body = response.content.decode()
    assert "MOU-JAIL §3.2" in body
    assert "no agreement in force allows" in body


def test_it_explains_others_only_to_those_who_supervise_them(county, shared):
    params = {
        "subject": county.jail_officer.pk,
        "purpose": DEFENSE,
        "action": "view",
        "client_key": "C-1",
        "owner": county.jail.pk,
    }
    refused = as_(county.defender_attorney).get("/policy/explain", params)
    assert refused.status_code == 200
    assert "Select a valid choice" in refused.content.decode()
    allowed = as_(county.coordinator).get("/policy/explain", params)
    assert "may use its own records" in allowed.content.decode()


def test_it_lets_supervisors_set_and_lift_screens(county, shared):
    data = {"staff": county.defender_attorney.pk, "client_key": "C-1", "reason": "Conflict"}
    assert as_(county.defender_attorney).post("/policy/screens", data).status_code == 403
    assert as_(county.defender_supervisor).post("/policy/screens", data).status_code == 302
    screen = EthicalScreen.objects.get()
    page = as_(county.defender_attorney).get("/policy/", {"purpose": DEFENSE}).content.decode()
    assert "Booked 02:10" not in page
    url = f"/policy/screens/{screen.pk}/lift"
    check_matrix(county, "POST", url, {None: 302, "jail_admin": 404, "outsider": 404})
    assert as_(county.defender_attorney).post(url, {"reason": "x"}).status_code == 403
    assert as_(county.defender_supervisor).post(url, {"reason": "Cleared"}).status_code == 302
    screen.refresh_from_db()
    assert not screen.in_force


def test_it_prints_a_clients_accounting_for_the_defender(county, shared):
    as_(county.defender_attorney).get("/policy/", {"purpose": DEFENSE})
    printable = as_(county.defender_attorney).get("/policy/disclosures/C-2?print=1")
    body = printable.content.decode()
    assert "Accounting of disclosures" in body
    assert "QSOA §4.1" in body
    assert PART2_NOTICE[:60] in body
    other = as_(county.jail_officer).get("/policy/disclosures/C-2").content.decode()
    assert "QSOA §4.1" not in other


def test_it_shows_the_compiled_policy_set_only_to_the_council(county, shared):
    assert "permit (" in as_(county.coordinator).get("/policy/rules").content.decode()
    assert "permit (" not in as_(county.defender_attorney).get("/policy/rules").content.decode()


def test_it_registers_a_record_for_the_readers_own_agency(county):
    client = as_(county.jail_officer)
    response = client.post(
        "/policy/records/new", {"client_key": "C-5", "category": "custody", "summary": "Released"}
    )
    assert response.status_code == 302
    refused = client.post(
        "/policy/records/new", {"client_key": "", "category": "custody", "summary": ""}
    )
    assert refused.status_code == 200
    assert "usa-error-message" in refused.content.decode()


def test_it_never_shows_a_screened_client_to_the_screened_person(county, shared):
    screen_staff(county.defender_attorney, actor=SYSTEM, client_key="C-2", reason="Conflict")
    body = as_(county.defender_attorney).get("/policy/", {"purpose": DEFENSE}).content.decode()
    assert "Intake" not in body


def test_it_lists_disclosures_and_screens_in_bounded_queries(
    county, shared, django_assert_max_num_queries
):
    for n in range(5):
        as_(county.defender_attorney).get("/policy/", {"purpose": DEFENSE, "q": f"C-{n}"})
        screen_staff(
            county.defender_investigator, actor=SYSTEM, client_key=f"C-{n + 50}", reason="Conflict"
        )
    client = as_(county.defender_supervisor)
    client.get("/policy/disclosures")
    with django_assert_max_num_queries(15):
        assert client.get("/policy/disclosures").status_code == 200
    with django_assert_max_num_queries(15):
        assert client.get("/policy/screens").status_code == 200
    with django_assert_max_num_queries(15):
        assert client.get("/api/v1/policy/disclosures").status_code == 200


def test_it_refuses_to_lift_a_screen_before_reading_the_form(county, shared):
    screen = screen_staff(
        county.defender_attorney, actor=SYSTEM, client_key="C-9", reason="Conflict"
    )
    check_matrix(
        county,
        "POST",
        f"/policy/screens/{screen.pk}/lift",
        {None: 302, "defender_attorney": 403, "defender_auditor": 403},
    )
