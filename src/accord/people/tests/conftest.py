"""Fixtures of the people tests: a few people the test defender knows, with their roles."""

from __future__ import annotations

from datetime import date

import pytest

from accord.core.actors import SYSTEM
from accord.people.actions import record_person, set_person_role


def add_person(
    agency, source_id, first, last, dob=None, *, middle="", aliases=None, link=False, **values
):
    extra = {"aliases": aliases} if aliases is not None else {}
    return record_person(
        agency,
        source_id,
        actor=SYSTEM,
        link=link,
        first_name=first,
        middle_name=middle,
        last_name=last,
        date_of_birth=dob,
        **extra,
        **values,
    )


@pytest.fixture
def known(county):
    """People of the defender's matters: clients, a victim, a witness with an alias."""
    defender = county.agencies["defender"]
    people = {
        "william": add_person(defender, "PD-1", "William", "Harper", date(1990, 3, 4)),
        "maria": add_person(defender, "PD-2", "Maria", "Garcia Lopez", date(1985, 11, 20)),
        "smith": add_person(defender, "PD-3", "John", "Smith", date(1978, 6, 5)),
        "dwayne": add_person(
            defender,
            "PD-4",
            "Dwayne",
            "Carter",
            date(1982, 9, 27),
            aliases=[{"first_name": "Lil", "last_name": "Wayne"}],
        ),
        "katherine": add_person(defender, "PD-5", "Katherine", "O'Neill", date(1971, 1, 15)),
    }
    set_person_role(people["william"], "client", "2019-CF-0042", actor=SYSTEM, current=False)
    set_person_role(people["maria"], "victim", "2023-CF-0107", actor=SYSTEM)
    set_person_role(people["smith"], "client", "2024-CF-0001", actor=SYSTEM)
    set_person_role(people["dwayne"], "witness", "2022-MM-0300", actor=SYSTEM)
    # The jail knows William too — the defender's conflict check must never see this one.
    add_person(county.agencies["jail"], "J-77", "William", "Harper", date(1990, 3, 4))
    return people
