from __future__ import annotations

import pytest

from accord.accounts.identity import actor_for_user
from accord.core.navigation import navigation_for


@pytest.mark.django_db
def test_it_shows_cases_to_defender_staff_only(county):
    attorney = [i.label for i in navigation_for(actor_for_user(county.defender_attorney), "/")]
    prosecutor = [i.label for i in navigation_for(actor_for_user(county.prosecutor), "/")]
    assert "Cases" in attorney
    assert "Cases" not in prosecutor  # an attorney, but of the prosecutor's office


@pytest.mark.django_db
def test_it_shows_administration_to_administrators_only(county):
    admin = [i.label for i in navigation_for(actor_for_user(county.defender_admin), "/")]
    attorney = [i.label for i in navigation_for(actor_for_user(county.defender_attorney), "/")]
    assert {"Accounts", "API tokens"} <= set(admin)
    assert not {"Accounts", "API tokens", "Audit log"} & set(attorney)


@pytest.mark.django_db
def test_it_shows_no_menu_before_the_sign_in_is_complete(client, county):
    from accord.core.testing import PASSWORD

    signed = client.post(
        "/accounts/sign-in/", {"username": "defender_attorney", "password": PASSWORD}
    )
    assert signed.status_code == 302  # password done, second factor not yet
    response = client.get(signed["Location"])
    assert response.status_code == 200
    assert b'aria-label="Primary navigation"' not in response.content
