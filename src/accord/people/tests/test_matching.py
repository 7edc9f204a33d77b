"""The conflict matcher on small data: what it finds, how it explains it, what it never sees."""

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.people.matching import Party, find_matches
from accord.people.tests.conftest import add_person

pytestmark = pytest.mark.django_db


def _find(county, first, last, dob=None, middle=""):
    return find_matches(
        county.agencies["defender"].pk,
        Party(first_name=first, last_name=last, middle_name=middle, date_of_birth=dob),
    )


def _top(matches):
    assert matches, "no hit"
    return matches[0]


def test_it_finds_a_person_by_exact_name_and_dob(county, known):
    top = _top(_find(county, "William", "Harper", date(1990, 3, 4)))
    assert top.record_id == known["william"].pk
    assert top.explanation == "same name + exact DOB"
    assert top.score == 100.0


def test_it_finds_a_nickname_with_the_exact_dob(county, known):
    top = _top(_find(county, "Bill", "Harper", date(1990, 3, 4)))
    assert top.record_id == known["william"].pk
    assert top.explanation == "nickname + exact DOB"


def test_it_explains_a_typo_and_a_swapped_day_and_month(county, known):
    top = _top(_find(county, "William", "Harpre", date(1990, 4, 3)))
    assert top.record_id == known["william"].pk
    assert top.explanation == "edit distance 1 in surname + DOB day/month swapped"


def test_it_finds_swapped_first_and_last_names(county, known):
    top = _top(_find(county, "Harper", "William"))
    assert top.record_id == known["william"].pk
    assert "first and last names swapped" in top.explanation


def test_it_finds_one_part_of_a_compound_surname(county, known):
    top = _top(_find(county, "Maria", "Lopez", date(1985, 11, 20)))
    assert top.record_id == known["maria"].pk
    assert "compound surname part" in top.explanation


def test_it_finds_an_alias(county, known):
    top = _top(_find(county, "Lil", "Wayne"))
    assert top.record_id == known["dwayne"].pk
    assert "(alias)" in top.explanation
    assert top.matched_name == "lil wayne"


def test_it_finds_a_name_without_apostrophe_and_a_first_initial(county, known):
    assert _top(_find(county, "Katherine", "Oneill")).record_id == known["katherine"].pk
    assert _top(_find(county, "K", "O'Neill", date(1971, 1, 15))).record_id == known["katherine"].pk


def test_it_finds_a_year_off_by_one_even_with_a_spelling_variant(county, known):
    top = _top(_find(county, "Jon", "Smyth", date(1979, 6, 5)))
    assert top.record_id == known["smith"].pk
    assert "DOB year off by one" in top.explanation


def test_it_ranks_the_dob_match_above_a_namesake(county, known):
    other = add_person(county.agencies["defender"], "PD-9", "John", "Smith", date(1950, 1, 1))
    matches = _find(county, "John", "Smith", date(1978, 6, 5))
    assert [m.record_id for m in matches][:2] == [known["smith"].pk, other.pk]


def test_it_leaves_out_unrelated_people(county, known):
    assert _find(county, "Zebulon", "Quackenbush", date(2001, 2, 2)) == []


def test_it_never_searches_another_agency(county, known):
    jail_matches = find_matches(
        county.agencies["jail"].pk, Party(first_name="William", last_name="Harper")
    )
    assert len(jail_matches) == 1
    assert jail_matches[0].record_id != known["william"].pk
    defender = {m.record_id for m in _find(county, "William", "Harper")}
    assert jail_matches[0].record_id not in defender


def test_a_look_up_is_one_query_once_the_connection_knows_it(
    county, known, django_assert_num_queries
):
    # One round trip per look-up (on PostgreSQL a prepared statement, prepared by the
    # first look-up of a connection); the latency target depends on it.
    _find(county, "William", "Harper", date(1990, 3, 4))
    with django_assert_num_queries(1):
        assert _find(county, "Bill", "Harpr", date(1990, 4, 3))


# --- properties -------------------------------------------------------------------------------

FIRST_NAMES = [
    "William",
    "Robert",
    "Elizabeth",
    "Katherine",
    "Margaret",
    "James",
    "Jose",
    "Guadalupe",
    "Nguyen",
    "Anne-Marie",
    "Siobhan",
    "Giovanni",
    "Dolores",
    "Richard",
]
LAST_NAMES = [
    "Harper",
    "García López",
    "O'Connor",
    "Nguyen",
    "Smith",
    "de la Cruz",
    "Kowalski",
    "Schmidt",
    "Van Buren",
    "Okafor",
    "Rossi",
    "Johnson-Whitaker",
    "Lee",
    "Murphy",
]
NICKNAMED = {
    "William": "Bill",
    "Robert": "Bob",
    "Elizabeth": "Liz",
    "Katherine": "Kate",
    "Margaret": "Peggy",
    "James": "Jim",
    "Richard": "Dick",
}
people = st.tuples(
    st.sampled_from(FIRST_NAMES),
    st.sampled_from(LAST_NAMES),
    st.dates(min_value=date(1930, 1, 1), max_value=date(2010, 12, 31)),
)
PROPERTY = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _recorded(county, person, n):
    first, last, dob = person
    return add_person(county.agencies["defender"], f"H-{n}", first, last, dob)


@PROPERTY
@given(person=people, n=st.uuids())
def test_a_record_always_finds_itself(county, person, n):
    record = _recorded(county, person, n)
    first, last, dob = person
    assert record.pk in {m.record_id for m in _find(county, first, last, dob)}
    assert record.pk in {m.record_id for m in _find(county, first, last)}


@PROPERTY
@given(person=people, n=st.uuids())
def test_swapping_first_and_last_name_still_finds_it(county, person, n):
    record = _recorded(county, person, n)
    first, last, dob = person
    assert record.pk in {m.record_id for m in _find(county, last, first, dob)}
    assert record.pk in {m.record_id for m in _find(county, last, first)}


@PROPERTY
@given(person=people, n=st.uuids())
def test_a_nickname_still_finds_it(county, person, n):
    first, last, dob = person
    record = _recorded(county, person, n)
    nickname = NICKNAMED.get(first, first)
    assert record.pk in {m.record_id for m in _find(county, nickname, last, dob)}
    assert record.pk in {m.record_id for m in _find(county, nickname, last)}


@PROPERTY
@given(person=people, n=st.uuids(), position=st.integers(min_value=1, max_value=30))
def test_one_typo_in_the_surname_still_finds_it(county, person, n, position):
    first, last, _dob = person
    record = _recorded(county, person, n)
    i = 1 + position % (len(last) - 1)
    typo = last[:i] + last[i + 1 :]
    assert record.pk in {m.record_id for m in _find(county, first, typo)}
