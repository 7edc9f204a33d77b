from datetime import date

from accord.people.keys import Name, query_keys, record_keys
from accord.people.names import (
    canonical_forms,
    compare_dobs,
    deletions,
    dob_variants,
    normalize,
    surname_forms,
)


def test_it_normalizes_accents_apostrophes_and_spacing():
    assert normalize("  O'Brien-Núñez ") == "obrien-nunez"
    assert normalize("J.R.  Smith") == "j r smith"
    assert normalize(None) == ""


def test_it_splits_compound_surnames_without_particles():
    assert surname_forms(normalize("García López")) == ["garcialopez", "garcia", "lopez"]
    assert surname_forms(normalize("de la Cruz")) == ["delacruz"]


def test_it_knows_nicknames_both_ways():
    assert "william" in canonical_forms("bill")
    assert canonical_forms("william") & canonical_forms("billy")


def test_one_typo_always_shares_a_deletion():
    for typo in ("smtih", "smih", "smiith", "smoth"):
        assert deletions("smith") & deletions(typo), typo


def test_it_reads_dob_mistakes_in_words():
    assert compare_dobs(date(1990, 3, 4), date(1990, 4, 3)) == (0.85, "DOB day/month swapped")
    assert compare_dobs(date(1990, 3, 4), date(1991, 3, 4))[1] == "DOB year off by one"
    assert compare_dobs(date(1990, 3, 4), date(1990, 3, 7))[1] == "DOB one digit off"
    assert compare_dobs(date(1990, 3, 4), None) == (None, "no DOB to compare")
    assert compare_dobs(date(1990, 3, 4), date(1962, 8, 21))[0] == 0.0


def test_dob_variants_include_swap_and_neighbouring_years():
    variants = dob_variants(date(1990, 3, 4))
    assert variants["day/month swapped"] == date(1990, 4, 3)
    assert variants["year -1"] == date(1989, 3, 4)
    assert "day/month swapped" not in dob_variants(date(1990, 3, 25))


def test_a_query_shares_keys_with_its_record_despite_a_swap_and_a_nickname():
    stored = record_keys([Name.of("William", "", "Harper")], date(1990, 3, 4))
    asked = query_keys(Name.of("Harper", "", "Bill"), None)
    shared = {(k, v) for k, values in asked.items() for v in values} & stored
    assert shared


def _shared(stored: set[tuple[str, str]], asked: dict[str, set[str]], kind: str) -> set[str]:
    return {v for k, v in stored if k == kind} & asked.get(kind, set())


def test_the_dob_key_carries_an_initial_of_either_name_in_either_order():
    stored = record_keys([Name.of("William", "", "Garcia Lopez")], date(1990, 3, 4))
    assert {v for k, v in stored if k == "db"} == {
        "19900304|w",
        "19900304|g",
        "19900304|l",
    }
    # Swapped names, a nickname, one part of the compound surname: one initial is enough.
    assert _shared(stored, query_keys(Name.of("Lopez", "", "Bill"), date(1990, 3, 4)), "db")
    # A mistyped DOB (day and month swapped) is asked too.
    assert _shared(stored, query_keys(Name.of("Bill", "", "Garcia"), date(1990, 4, 3)), "db")


def test_the_dob_key_does_not_gather_everyone_born_that_day():
    stored = record_keys([Name.of("Maria", "", "Nguyen")], date(1975, 7, 21))
    assert not _shared(stored, query_keys(Name.of("Oscar", "", "Baker"), date(1975, 7, 21)), "db")
