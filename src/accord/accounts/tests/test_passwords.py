"""Password rules (NIST SP 800-63B 5.1.1.2): length, any printable character including
spaces and every language, no common passwords, and a precise reason for each refusal."""

from __future__ import annotations

import pytest

from accord.accounts.actions import check_password_rules
from accord.accounts.models import UserSession
from accord.accounts.tests.helpers import SECOND_FACTOR, SECURITY, sign_in_with_password, text
from accord.core.errors import InvalidInput
from accord.core.testing import PASSWORD, as_

pytestmark = pytest.mark.django_db

LONG_64 = "Über den Wolken muss die Freiheit wohl grenzenlos sein, 雲の上 ok!!"
LONG_100 = (
    "the quick brown fox waits at the crossing while seven herons fly north over the marsh"
    " — días felices"
)


def _change(client, new: str, current: str = PASSWORD, again: str | None = None):
    return client.post(
        "/accounts/security/password/",
        {"current_password": current, "new_password": new, "new_password_again": again or new},
    )


def test_the_passphrases_have_the_lengths_the_rules_are_about():
    assert len(LONG_64) == 64
    assert len(LONG_100) == 100


def test_it_refuses_seven_characters_and_says_why(county):
    with pytest.raises(InvalidInput) as refused:
        check_password_rules("k3#xq!z", county.defender_attorney)
    assert "too short: use at least 8 characters" in refused.value.detail
    response = _change(as_(county.defender_attorney), "k3#xq!z")
    assert "This password is too short: use at least 8 characters." in text(response)


@pytest.mark.parametrize("passphrase", [LONG_64, LONG_100])
def test_it_accepts_a_long_passphrase_with_spaces_and_any_language(county, passphrase):
    check_password_rules(passphrase, county.defender_attorney)
    client = as_(county.defender_attorney)
    response = _change(client, passphrase)
    assert response.status_code == 302
    assert response["Location"] == SECURITY
    county.defender_attorney.refresh_from_db()
    assert county.defender_attorney.check_password(passphrase)


@pytest.mark.parametrize("common", ["password1", "12345678"])
def test_it_refuses_a_common_password_and_says_why(county, common):
    with pytest.raises(InvalidInput) as refused:
        check_password_rules(common, county.defender_attorney)
    assert "too common" in refused.value.detail
    response = _change(as_(county.defender_attorney), common)
    assert "This password is too common." in text(response)


@pytest.mark.parametrize("control", ["tab\there please", "bell\x07ringing", "zero\u200bwidth!!"])
def test_it_refuses_control_and_invisible_characters(county, control):
    with pytest.raises(InvalidInput) as refused:
        check_password_rules(control, county.defender_attorney)
    assert "control or invisible character" in refused.value.detail


def test_it_shows_the_rules_next_to_the_new_password(county):
    page = text(as_(county.defender_attorney).get(SECURITY))
    assert "Use 8 to 128 characters." in page
    assert 'autocomplete="new-password"' in page
    assert 'autocomplete="current-password"' in page


def test_it_refuses_a_wrong_current_password(county):
    response = _change(as_(county.defender_attorney), LONG_64, current="not my password")
    assert "not correct" in text(response)
    county.defender_attorney.refresh_from_db()
    assert county.defender_attorney.check_password(PASSWORD)


def test_it_refuses_two_different_new_passwords(county):
    response = _change(as_(county.defender_attorney), LONG_64, again=LONG_100)
    assert "The two new passwords are not the same." in text(response)


def test_it_keeps_this_session_and_ends_the_others_after_a_change(county, client):
    here = as_(county.defender_attorney)
    elsewhere = as_(county.defender_attorney)
    assert _change(here, LONG_64)["Location"] == SECURITY
    assert here.get("/").status_code == 200
    assert elsewhere.get("/").status_code == 302
    live = UserSession.objects.filter(user=county.defender_attorney).live()
    assert [s.session_key for s in live] == [here.session.session_key]
    # The new password signs in; the old one no longer does.
    old = sign_in_with_password(client, county.defender_attorney.username, PASSWORD)
    assert old.status_code == 200
    assert "The user name or password is not correct." in text(old)
    new = sign_in_with_password(client, county.defender_attorney.username, LONG_64)
    assert new["Location"] == SECOND_FACTOR
