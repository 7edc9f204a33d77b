"""The sign-in journey in a real browser (Playwright on the system Chromium): password,
authenticator code, the system-use notice, the home page; and the lockout message. Any
error in the browser console (a CSP violation, a script error) fails the test."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accord.accounts.models import AuthenticatorDevice
from accord.core.testing import PASSWORD, build_county

LOCKED = (
    "This account is locked after too many failed sign-ins. "
    "Ask your agency administrator to unlock it."
)


def _watch_console(page) -> list[str]:
    """Collect console errors (a CSP violation is one) and uncaught exceptions."""
    errors: list[str] = []

    def on_console(message) -> None:
        if message.type != "error":
            return
        errors.append(f"{message.text} at {message.location.get('url', '')}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_signs_in_with_password_and_code_and_reaches_home_after_the_notice(page):
    county = build_county()
    user = county.defender_attorney
    errors = _watch_console(page)

    page.goto(page.base + "/")
    expect(page).to_have_url(re.compile(r"/accounts/sign-in/\?next=%2F$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    # By keyboard alone: type, Tab to the next field, Enter to submit.
    page.get_by_label("User name").focus()
    page.keyboard.type(user.username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/accounts/sign-in/code/$"))
    device = AuthenticatorDevice.objects.get(user=user, confirmed=True)
    page.get_by_label("Code").fill(device.current_code())
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_url(re.compile(r"/accounts/sign-in/notice/$"))
    expect(page.get_by_role("heading", name="System use notice")).to_be_visible()
    page.get_by_role("button", name="I understand and consent").click()

    expect(page).to_have_url(page.base + "/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    assert errors == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_locked_out_person_sees_the_lockout_message(page):
    county = build_county()
    user = county.jail_officer
    errors = _watch_console(page)

    page.goto(page.base + "/accounts/sign-in/")
    for _ in range(5):
        page.get_by_label("User name").fill(user.username)
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text(LOCKED)

    # The right password does not help until an administrator unlocks the account.
    page.get_by_label("User name").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text(LOCKED)
    expect(page).to_have_url(re.compile(r"/accounts/sign-in/$"))
    assert errors == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_demo_codes_refresh_themselves_under_the_content_security_policy(page, settings):
    from accord.accounts.actions import enrol_demo_authenticator
    from accord.core.actors import SYSTEM
    from accord.directory.actions import add_staff

    settings.PRODUCTION = False
    settings.DEMO_SHOW_CODES = True
    county = build_county()
    profile = add_staff(
        county.defender,
        actor=SYSTEM,
        username="dana.demo",
        first_name="Dana",
        last_name="Demo",
        email="dana@demo.invalid",
        roles=("attorney",),
        password=PASSWORD,
        is_demo=True,
    )
    enrol_demo_authenticator(profile.user, actor=SYSTEM)
    errors = _watch_console(page)

    page.goto(page.base + "/accounts/sign-in/")
    expect(page.get_by_role("table", name=re.compile("Demo accounts"))).to_contain_text("dana.demo")
    # htmx polls the partial every 10 seconds.
    with page.expect_response(lambda r: "part=demo-codes" in r.url, timeout=15_000) as polled:
        pass
    assert polled.value.status == 200
    expect(page.locator("[data-demo-code]")).to_have_text(re.compile(r"^\d{6}$"))
    assert errors == []
