"""The home page: who you act as, real counts that move with the data, the audit card only
for auditors, what you can do (from the navigation), in a bounded number of queries."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accord.accounts.identity import actor_for_user
from accord.audit.models import AuditEvent
from accord.core.actors import SYSTEM
from accord.core.navigation import navigation_for
from accord.core.testing import as_
from accord.directory.actions import add_staff, create_agency

pytestmark = pytest.mark.django_db

AUDIT_CARD = "Audit events in the last 24 hours"
CARD = re.compile(
    r'<h3 class="usa-card__heading">([^<]+)</h3>.*?data-testid="card-value">(\d+)</p>', re.S
)


def cards(client) -> dict[str, int]:
    response = client.get("/")
    assert response.status_code == 200
    return {label: int(value) for label, value in CARD.findall(response.content.decode())}


def _add_person(agency, username: str) -> None:
    add_staff(
        agency,
        actor=SYSTEM,
        username=username,
        first_name="New",
        last_name="Person",
        email=f"{username}@test.invalid",
        roles=["case_worker"],
    )


def test_it_sends_anonymous_people_to_sign_in(county):
    response = as_(None).get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/sign-in/")


def test_it_shows_the_agency_and_the_roles_of_the_person(county):
    page = as_(county.defender_supervisor).get("/").content.decode()
    assert "Test Public Defender" in page
    assert ">Attorney</span>" in page
    assert ">Supervisor</span>" in page
    assert ">Auditor</span>" not in page


def test_it_counts_partner_agencies_for_real(county):
    client = as_(county.defender_attorney)
    before = cards(client)["Partner agencies"]
    assert before == len(county.agencies)
    create_agency(
        actor=SYSTEM, name="New Partner", short_name="NP", kind="court", jurisdiction="Test"
    )
    assert cards(client)["Partner agencies"] == before + 1


def test_it_counts_only_the_staff_of_ones_own_agency(county):
    attorney = as_(county.defender_attorney)
    officer = as_(county.jail_officer)
    defender_before = cards(attorney)["Staff in your agency"]
    jail_before = cards(officer)["Staff in your agency"]
    assert defender_before == county.defender.staff.count()
    _add_person(county.defender, "new_defender_staff")
    assert cards(attorney)["Staff in your agency"] == defender_before + 1
    assert cards(officer)["Staff in your agency"] == jail_before


def test_it_shows_the_audit_card_to_auditors_only(county):
    for persona in ("defender_attorney", "defender_admin", "coordinator", "outsider"):
        assert AUDIT_CARD not in cards(as_(getattr(county, persona))), persona
    for persona in ("council_auditor", "defender_auditor"):
        assert AUDIT_CARD in cards(as_(getattr(county, persona))), persona


def test_it_counts_the_audit_events_an_auditor_may_read(county):
    auditor = as_(county.defender_auditor)
    before = cards(auditor)[AUDIT_CARD]
    visible = AuditEvent.objects.visible_to(actor_for_user(county.defender_auditor))
    assert before == visible.count()
    _add_person(county.defender, "audited_hire")  # account, profile and roles: 3 events
    _add_person(county.jail, "not_ours")  # another agency's events: not counted
    assert cards(auditor)[AUDIT_CARD] == before + 3


def test_it_counts_ones_open_sessions(county):
    first = as_(county.defender_attorney)
    assert cards(first)["Your open sessions"] == 1
    as_(county.defender_attorney)
    assert cards(first)["Your open sessions"] == 2


def _can_do_links(page: str) -> list[str]:
    section = page.split('id="can-do-heading"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'href="([^"]+)"', section)


def test_it_lists_what_one_can_do_from_the_navigation(county):
    for persona in ("defender_attorney", "defender_admin", "council_auditor"):
        user = getattr(county, persona)
        page = as_(user).get("/").content.decode()
        expected = [
            item.url
            for item in navigation_for(actor_for_user(user), "")
            if item.url != reverse("core:home")
        ]
        assert expected, persona
        assert _can_do_links(page) == expected, persona


def test_it_offers_token_administration_only_to_administrators(county):
    tokens = reverse("accounts:token-list")
    attorney = as_(county.defender_attorney).get("/").content.decode()
    admin = as_(county.defender_admin).get("/").content.decode()
    assert tokens not in _can_do_links(attorney)
    assert tokens in _can_do_links(admin)
    assert reverse("directory:agency-list") in _can_do_links(attorney)


def _home_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    return len(queries)


def test_it_answers_in_a_bounded_number_of_queries(county, django_assert_max_num_queries):
    client = as_(county.council_auditor)
    baseline = _home_queries(client)
    for n in range(30):
        _add_person(county.council, f"council_staff_{n:02}")
        create_agency(
            actor=SYSTEM,
            name=f"Partner {n:02}",
            short_name=f"P{n:02}",
            kind="court",
            jurisdiction="Test",
        )
    assert _home_queries(client) == baseline
    # 16 since the navigation bar counts unread notifications (one query), 17 since it
    # counts the open breach alerts the reader may see (one more).
    with django_assert_max_num_queries(17):
        client.get("/")
