"""The directory in a real browser (Playwright on the system Chromium): an agency
administrator finds a colleague, adds a new one through the form (fixing a refused field
first) and lands on the new person's page. Any console error (a CSP violation, a script
error) fails the test."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accord.core.testing import as_, build_county
from accord.directory.models import StaffProfile


def _signed_in(page, user) -> None:
    # The sign-in journey has its own browser test; here the session starts signed in.
    cookie = as_(user).cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": cookie, "url": page.base}])


def _console_errors(page) -> list[str]:
    errors: list[str] = []
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and not m.location.get("url", "").endswith("/favicon.ico")
            else None
        ),
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_lets_an_agency_admin_find_and_add_staff(page):
    county = build_county()
    _signed_in(page, county.defender_admin)
    errors = _console_errors(page)

    page.goto(page.base + "/directory/staff/")
    page.get_by_label("Search staff").fill("supervisor")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("link", name="Supervisor, Defender")).to_be_visible()
    expect(page.get_by_role("link", name="Officer, Jail")).to_have_count(0)

    page.get_by_role("link", name="Add staff").click()
    expect(page.get_by_label("Agency", exact=True)).to_be_disabled()
    page.get_by_label("Username").fill("Defender_Attorney")
    page.get_by_label("First name").fill("Ngoc")
    page.get_by_label("Last name").fill("Nguyen")
    page.get_by_label("Work e-mail").fill("nnguyen@test.invalid")
    page.get_by_label("Unit", exact=True).select_option(label="Felony Team")
    # USWDS hides the box itself and draws it on the label: people click the label.
    page.locator("label.usa-checkbox__label", has_text=re.compile("^Attorney$")).click()
    page.get_by_label("Bar number").fill("T-3003")
    page.get_by_role("button", name="Add the staff member").click()

    expect(page.locator("#id_username-error")).to_have_text("already taken")
    expect(page.get_by_label("Last name")).to_have_value("Nguyen")
    page.get_by_label("Username").fill("nnguyen")
    page.get_by_role("button", name="Add the staff member").click()

    profile = StaffProfile.objects.get(user__username="nnguyen")
    expect(page).to_have_url(re.compile(rf"/directory/staff/{profile.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Ngoc Nguyen")
    expect(page.get_by_text("T-3003")).to_be_visible()
    assert profile.unit is not None
    assert profile.roles == {"attorney"}
    assert errors == []
