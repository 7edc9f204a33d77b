"""Consent to disclosure in a real browser (Playwright on the system Chromium): a Part 2
program's case worker records a consent, is told which 42 CFR 2.31(a) element is missing,
fixes it and puts the consent in force; the client's attorney then sees the program's
record, why, and the 42 CFR 2.32 notice. Any console error (a CSP violation, a script
error) fails the test."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accord.agreements.testing import make_agreement, term
from accord.consent.models import Consent, ConsentStatus
from accord.core.actors import SYSTEM
from accord.core.testing import as_, build_county
from accord.policy.actions import register_record

DEFENSE = "defense_representation"


def _signed_in(page, user) -> None:
    cookie = as_(user).cookies["sessionid"].value
    page.context.clear_cookies()
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


def _tick(page, label: str) -> None:
    # USWDS draws the box on the label: people click the label.
    page.locator("label.usa-checkbox__label", has_text=re.compile(f"^{re.escape(label)}$")).click()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_it_takes_a_part2_consent_and_lets_the_attorney_see_the_record(page):
    county = build_county()
    make_agreement(
        "QSOA-1",
        [(county.defender, county.defender_admin), (county.provider, county.provider_case_worker)],
        [
            term(
                "4.1",
                county.provider,
                county.defender,
                ["substance_use_part2"],
                [DEFENSE],
                consent="part2",
            )
        ],
        kind="qsoa",
    )
    register_record(
        county.provider,
        actor=SYSTEM,
        client_key="C-42",
        category="substance_use_part2",
        summary="Intake assessment completed",
    )
    errors = _console_errors(page)
    _signed_in(page, county.provider_case_worker)

    page.goto(page.base + "/consents/new")
    page.get_by_label("Kind of consent").select_option(label="42 CFR Part 2 consent")
    page.get_by_label("Client identifier").fill("C-42")
    page.get_by_label("(1) Client's name").fill("Pat Doe")
    page.get_by_label("(2) Agencies permitted to disclose").select_option(
        label=county.provider.name
    )
    page.get_by_label("(3) The information, described specifically").fill("Treatment dates")
    _tick(page, "Substance use (42 CFR Part 2)")
    page.get_by_label("(4) Recipient agencies").select_option(label=county.defender.name)
    _tick(page, "Defense representation")
    page.get_by_label("(5) Each purpose, described").fill("So my lawyer can defend me")
    page.get_by_label("(6) The right to revoke, and how").fill("")
    page.get_by_label("(7) Expires on").fill("2031-01-01")
    page.get_by_label("(8) Signed by").fill("Pat Doe")
    page.get_by_label("(8) Signed as").select_option(label="The client")
    page.get_by_label("(8) How it was signed").select_option(
        label="Electronic: typed name with intent to sign"
    )
    page.get_by_label("(9) Date and time signed").fill("2026-01-05T10:00")
    page.get_by_role("button", name="Save and put in force").click()

    expect(page.locator("#id_revocation_statement-error")).to_contain_text("42 CFR 2.31(a)(6)")
    assert not Consent.objects.exists()
    page.get_by_label("(6) The right to revoke, and how").fill("Write to the program to revoke.")
    page.get_by_role("button", name="Save and put in force").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("42 CFR Part 2 consent")
    assert Consent.objects.get().status == ConsentStatus.ACTIVE

    _signed_in(page, county.defender_attorney)
    page.goto(page.base + "/policy/")
    expect(page.get_by_text("Intake assessment completed")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Allowed by QSOA-1 §4\.1"))).to_be_visible()
    expect(page.get_by_role("note", name="42 CFR Part 2 notice")).to_contain_text(
        "protected by Federal confidentiality rules (42 CFR part 2)"
    )
    assert errors == []
