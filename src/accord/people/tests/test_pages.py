"""The people pages: permission matrix, what each agency sees, forms, query counts."""

import io
from datetime import date

import pytest

from accord.accounts.identity import actor_for_user
from accord.core.actors import SYSTEM
from accord.core.testing import as_, check_matrix
from accord.people.actions import check_conflicts, record_person
from accord.people.models import ConflictCheck, ConflictHit, HitDecision, MatchReview
from accord.people.tests.conftest import add_person

pytestmark = pytest.mark.django_db

DEFENDER_STAFF = (
    "defender_attorney",
    "defender_social_worker",
    "defender_investigator",
    "defender_supervisor",
    "defender_admin",
    "defender_auditor",
)
OTHERS = (
    "jail_officer",
    "jail_admin",
    "court_clerk",
    "prosecutor",
    "provider_case_worker",
    "coordinator",
    "council_auditor",
    "outsider",
)


def _matrix(defender_status, other_status, anonymous=302):
    expected: dict[str | None, int] = {None: anonymous}
    expected.update(dict.fromkeys(DEFENDER_STAFF, defender_status))
    expected.update(dict.fromkeys(OTHERS, other_status))
    return expected


@pytest.fixture
def check(county, known):
    return check_conflicts(
        county.agencies["defender"],
        [{"first_name": "Bill", "last_name": "Harper", "date_of_birth": "1990-03-04"}],
        actor=actor_for_user(county.defender_attorney),
        reference="2025-CF-1",
    )


@pytest.fixture
def review(county):
    defender = county.agencies["defender"]
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
    return MatchReview.objects.get()


def test_the_record_list_opens_to_every_member_of_the_partnership(county, known):
    check_matrix(county, "GET", "/people/", _matrix(200, 200))


def test_each_agency_lists_only_its_own_records(county, known):
    assert "Harper" in as_(county.defender_attorney).get("/people/").content.decode()
    page = as_(county.jail_officer).get("/people/").content.decode()
    assert "Harper" in page  # the jail's own record of William Harper
    assert "Garcia" not in page
    assert "Garcia" not in as_(county.prosecutor).get("/people/?q=garcia").content.decode()


def test_a_record_is_visible_to_its_source_agency_only(county, known):
    url = f"/people/records/{known['maria'].pk}/"
    check_matrix(county, "GET", url, _matrix(200, 404))


def test_the_record_page_hides_other_agencies_records_of_the_person(county):
    client_record = add_person(
        county.agencies["defender"],
        "D-1",
        "Jon",
        "Smyth",
        date(1990, 3, 4),
        identifiers={"ssn_last4": "1234"},
        link=True,
    )
    add_person(
        county.agencies["jail"],
        "J-1",
        "John",
        "Smith",
        date(1990, 3, 4),
        identifiers={"ssn_last4": "1234"},
        link=True,
    )
    page = as_(county.defender_attorney).get(f"/people/records/{client_record.pk}/")
    text = page.content.decode()
    assert "Linked by the matching model" in text or "First record of this person" in text
    assert "J-1" not in text


def test_the_review_queue_is_for_the_agencys_reviewers(county, review):
    expected = _matrix(403, 403)
    expected.update({"defender_supervisor": 200, "defender_admin": 200, "jail_admin": 200})
    check_matrix(county, "GET", "/people/reviews/", expected)
    expected = _matrix(403, 403)
    expected.update({"defender_supervisor": 200, "defender_admin": 200, "jail_admin": 404})
    check_matrix(county, "GET", f"/people/reviews/{review.pk}/", expected)


def test_a_supervisor_decides_a_review_on_its_page_and_can_undo(county, review):
    client = as_(county.defender_supervisor)
    response = client.post(f"/people/reviews/{review.pk}/", {"decision": "confirmed", "note": "x"})
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.status == "confirmed"
    response = client.post(f"/people/merges/{review.merge_id}/undo/", {"reason": "twins"})
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.status == "split"


def test_conflict_checks_are_the_checking_agencys_alone(county, check):
    check_matrix(county, "GET", "/people/conflicts/", _matrix(200, 200))
    check_matrix(county, "GET", f"/people/conflicts/{check.pk}/", _matrix(200, 404))
    check_matrix(county, "GET", f"/people/conflicts/{check.pk}/hits.csv", _matrix(200, 404))
    assert "2025-CF-1" not in as_(county.prosecutor).get("/people/conflicts/").content.decode()


def test_a_check_from_the_form_shows_ranked_explained_hits(county, known):
    client = as_(county.defender_attorney)
    data = {
        "reference": "2025-CF-77",
        "party-TOTAL_FORMS": "4",
        "party-INITIAL_FORMS": "0",
        "party-MIN_NUM_FORMS": "0",
        "party-MAX_NUM_FORMS": "20",
        "party-0-first_name": "Bill",
        "party-0-last_name": "Harper",
        "party-0-date_of_birth": "1990-03-04",
        "party-0-role": "witness",
    }
    response = client.post("/people/conflicts/new/", data)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "nickname + exact DOB" in page
    assert "former client in 2019-CF-0042" in page


def test_an_empty_form_says_what_is_missing(county, known):
    response = as_(county.defender_attorney).post(
        "/people/conflicts/new/",
        {
            "party-TOTAL_FORMS": "4",
            "party-INITIAL_FORMS": "0",
            "party-MIN_NUM_FORMS": "0",
            "party-MAX_NUM_FORMS": "20",
            "party-0-first_name": "Ann",
        },
    )
    assert response.status_code == 200
    assert "required" in response.content.decode()
    assert not ConflictCheck.objects.exists()


def test_a_csv_upload_reports_each_bad_row_and_checks_the_rest(county, known):
    upload = io.BytesIO(
        b"first_name,last_name,date_of_birth,role\n"
        b"Bill,Harper,1990-03-04,witness\n"
        b",Nobody,,\n"
        b"Mary,Lopez,31/12/1985,victim\n"
    )
    upload.name = "parties.csv"
    client = as_(county.defender_attorney)
    response = client.post(
        "/people/conflicts/new/",
        {
            "reference": "2025-CF-88",
            "parties_file": upload,
            "party-TOTAL_FORMS": "4",
            "party-INITIAL_FORMS": "0",
            "party-MIN_NUM_FORMS": "0",
            "party-MAX_NUM_FORMS": "20",
        },
        follow=True,
    )
    text = response.content.decode()
    assert "line 3: first_name: required" in text
    assert "line 4: date_of_birth: not a date" in text
    check = ConflictCheck.objects.get()
    assert check.candidate_count == 1
    assert check.candidates.get().row == 2


def test_deciding_a_hit_on_the_page(county, check):
    hit = check.hits.get()
    client = as_(county.defender_attorney)
    response = client.post(f"/people/conflicts/hits/{hit.pk}/decide/", {"decision": "cleared"})
    assert response.status_code == 302
    assert ConflictHit.objects.get(pk=hit.pk).decision == HitDecision.OPEN  # a reason is needed
    client.post(
        f"/people/conflicts/hits/{hit.pk}/decide/",
        {"decision": "cleared", "note": "Different person: other SSN"},
    )
    assert ConflictHit.objects.get(pk=hit.pk).decision == HitDecision.CLEARED
    response = as_(county.prosecutor).post(
        f"/people/conflicts/hits/{hit.pk}/decide/", {"decision": "flagged"}
    )
    assert response.status_code == 404


def test_the_record_list_query_count_does_not_grow_with_records(
    county, known, django_assert_max_num_queries
):
    client = as_(county.defender_attorney)
    client.get("/people/")
    for i in range(30):
        add_person(county.agencies["defender"], f"Q-{i}", f"Name{i}", "Quincy")
    with django_assert_max_num_queries(14):
        assert client.get("/people/").status_code == 200


def test_the_check_page_query_count_does_not_grow_with_hits(
    county, known, django_assert_max_num_queries
):
    for i in range(20):
        add_person(county.agencies["defender"], f"S-{i}", "John", "Smith", date(1970, 1, i + 1))
    check = check_conflicts(
        county.agencies["defender"], [{"first_name": "John", "last_name": "Smith"}], actor=SYSTEM
    )
    assert check.hit_count >= 20
    client = as_(county.defender_attorney)
    with django_assert_max_num_queries(14):
        assert client.get(f"/people/conflicts/{check.pk}/").status_code == 200
