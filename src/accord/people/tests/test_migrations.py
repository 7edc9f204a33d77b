"""Data migrations of the people app, run on rows the current code wrote."""

import importlib
from datetime import date

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from accord.people.keys import Name, record_keys
from accord.people.models import PersonKey
from accord.people.tests.conftest import add_person

pytestmark = pytest.mark.django_db

REFILE = importlib.import_module("accord.people.migrations.0004_dob_keys_with_initials")


def _historical_apps():
    state = MigrationLoader(connection).project_state(("people", "0004_dob_keys_with_initials"))
    return state.apps


def _dob_keys(record):
    return set(PersonKey.objects.filter(record=record, kind="db").values_list("value", flat=True))


def test_dob_keys_are_filed_again_with_initials_and_back(county):
    defender = county.agencies["defender"]
    record = add_person(
        defender,
        "PD-9",
        "Maria",
        "Garcia Lopez",
        date(1985, 11, 20),
        aliases=[{"first_name": "Maria", "last_name": "Zamora"}],
    )
    no_dob = add_person(defender, "PD-10", "John", "Doe")
    others = set(PersonKey.objects.exclude(kind="db").values_list("record_id", "kind", "value"))
    expected = {
        v
        for k, v in record_keys(
            [Name.of("Maria", "", "Garcia Lopez"), Name.of("Maria", "", "Zamora")],
            date(1985, 11, 20),
        )
        if k == "db"
    }
    assert _dob_keys(record) == expected == {f"19851120|{i}" for i in "mglz"}

    REFILE.without_initials(_historical_apps(), None)
    assert _dob_keys(record) == {"19851120"}

    REFILE.with_initials(_historical_apps(), None)
    assert _dob_keys(record) == expected
    assert _dob_keys(no_dob) == set()
    # The other kinds of keys are untouched.
    assert (
        set(PersonKey.objects.exclude(kind="db").values_list("record_id", "kind", "value"))
        == others
    )
