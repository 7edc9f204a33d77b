"""Demo mode shows each demo account's current code on the sign-in page; production never
can, whatever the settings say."""

from __future__ import annotations

import re

import pytest

from accord.accounts.actions import enrol_demo_authenticator
from accord.accounts.tests.helpers import SIGN_IN, text
from accord.core.actors import SYSTEM
from accord.directory.actions import add_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_people(county):
    devices = []
    for username, roles in (("dana.demo", ("attorney",)), ("owen.demo", ("officer",))):
        profile = add_staff(
            county.defender,
            actor=SYSTEM,
            username=username,
            first_name=username.split(".")[0].title(),
            last_name="Demo",
            email=f"{username}@demo.invalid",
            roles=roles,
            password="accord-demo-county",
            is_demo=True,
        )
        devices.append(enrol_demo_authenticator(profile.user, actor=SYSTEM))
    return devices


def test_it_shows_demo_accounts_and_their_current_codes_in_demo_mode(client, settings, demo_people):
    settings.PRODUCTION = False
    settings.DEMO_SHOW_CODES = True
    before = [d.current_code() for d in demo_people]
    page = text(client.get(SIGN_IN))
    after = [d.current_code() for d in demo_people]
    assert "Demo accounts" in page
    for device, early, late in zip(demo_people, before, after, strict=True):
        assert device.user.username in page
        # The 30-second step may turn during the request: either code is the current one.
        assert f">{early}<" in page or f">{late}<" in page
    assert "Attorney" in page
    assert "TPD" in page
    assert 'hx-trigger="every 10s"' in page
    assert 'hx-get="/accounts/sign-in/?part=demo-codes"' in page
    # Persona accounts that are not demo accounts are never listed.
    assert "defender_attorney" not in page


def test_it_refreshes_the_codes_through_a_partial(client, settings, demo_people):
    settings.PRODUCTION = False
    settings.DEMO_SHOW_CODES = True
    early = demo_people[0].current_code()
    response = client.get(f"{SIGN_IN}?part=demo-codes", HTTP_HX_REQUEST="true")
    late = demo_people[0].current_code()
    assert response.status_code == 200
    assert "<html" not in text(response)
    assert early in text(response) or late in text(response)
    assert "no-store" in response["Cache-Control"]


def test_production_never_shows_the_codes_even_when_asked_to(client, settings, demo_people):
    settings.PRODUCTION = True
    settings.DEMO_SHOW_CODES = True
    before = [d.current_code() for d in demo_people]
    page = text(client.get(SIGN_IN))
    after = [d.current_code() for d in demo_people]
    assert "Demo accounts" not in page
    assert "dana.demo" not in page
    for code in before + after:
        assert f">{code}<" not in page
    assert "hx-trigger" not in page
    assert client.get(f"{SIGN_IN}?part=demo-codes").status_code == 404


def test_it_shows_no_codes_when_demo_codes_are_off(client, settings, demo_people):
    settings.PRODUCTION = False
    settings.DEMO_SHOW_CODES = False
    assert "Demo accounts" not in text(client.get(SIGN_IN))
    assert client.get(f"{SIGN_IN}?part=demo-codes").status_code == 404


def test_a_demo_account_signs_in_with_the_code_shown(client, settings, demo_people):
    settings.PRODUCTION = False
    settings.DEMO_SHOW_CODES = True
    device = demo_people[0]
    client.post(SIGN_IN, {"username": "dana.demo", "password": "accord-demo-county"})
    shown = text(client.get(f"{SIGN_IN}?part=demo-codes"))
    row = re.search(
        rf"<th scope=\"row\">{device.user.username}</th>.*?data-demo-code>(\d{{6}})<", shown, re.S
    )
    assert row is not None
    code = row.group(1)
    assert client.post("/accounts/sign-in/code/", {"code": code})["Location"] == (
        "/accounts/sign-in/notice/"
    )
