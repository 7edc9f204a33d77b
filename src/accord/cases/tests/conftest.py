"""Fixtures of the cases tests: a court case of the test defender, its team, and a second
attorney of the office who is not on it."""

from __future__ import annotations

import secrets
from datetime import date, timedelta

import pytest
from django.utils import timezone

from accord.accounts.identity import actor_for_user
from accord.cases import actions
from accord.cases.models import CaseType
from accord.core.actions import action
from accord.core.actors import SYSTEM
from accord.core.testing import PASSWORD, enrol_test_authenticator, profile_of, with_token
from accord.directory.actions import add_staff

CASE_STAFF = (
    "defender_attorney",
    "defender_social_worker",
    "defender_supervisor",
    "defender_investigator",
    "other_attorney",
)
NOT_CASE_STAFF = (
    "defender_admin",
    "defender_auditor",
    "prosecutor",
    "jail_officer",
    "court_clerk",
    "coordinator",
    "outsider",
)
# On the fixture case's team, or supervising it; the rest of the case staff are not.
TEAM = ("defender_attorney", "defender_social_worker", "defender_supervisor")
OFF_TEAM = ("defender_investigator", "other_attorney")


def matrix(*, team, off_team, others=403, anonymous=302, **overrides):
    """Expected statuses by persona: the case's team (and supervisor), the rest of the
    defender's case staff, everyone else (other defender roles and other agencies)."""
    expected: dict[str | None, int] = {None: anonymous}
    expected.update(dict.fromkeys(TEAM, team))
    expected.update(dict.fromkeys(OFF_TEAM, off_team))
    expected.update(dict.fromkeys(NOT_CASE_STAFF, others))
    expected.update(overrides)
    return expected


def check_many(county, method, urls, expected):
    """``check_matrix`` over several addresses, each persona signed in once (the same
    expectations for each address)."""
    from accord.core.testing import as_

    clients = {p: as_(None if p is None else county.people[p]) for p in expected}
    failures = []
    for url in urls:
        for persona, status in expected.items():
            response = clients[persona].generic(method, url)
            if response.status_code != status:
                failures.append(
                    f"{method} {url} as {persona or 'anonymous'}: expected "
                    f"{status}, got {response.status_code}"
                )
    assert not failures, "\n".join(failures)


@action
def _issue(agency, scopes, *, actor):
    from accord.accounts.actions import _token_secret_hash
    from accord.accounts.models import ApiToken

    prefix, secret = secrets.token_hex(4), secrets.token_urlsafe(32)
    ApiToken.objects.create(
        agency=agency,
        name="case system",
        prefix=prefix,
        secret_sha256=_token_secret_hash(secret),
        scopes=list(scopes),
        expires_at=timezone.now() + timedelta(days=30),
    )
    return f"acc_{prefix}_{secret}"


def token(county, agency_key, *scopes):
    """An API client holding a token of the agency with these scopes. The cases scopes are
    not yet among the scopes an administrator can grant (accounts.ApiScope), so the token
    is issued directly here, as the administrator's action would once they are."""
    return with_token(_issue(county.agencies[agency_key], scopes, actor=SYSTEM))


def actor(user):
    return actor_for_user(user)


def felony_type():
    return CaseType.objects.get(standard="NPDWS-2023", code="felony_mid")


@pytest.fixture
def office(county):
    """The county, plus ``other_attorney``: an attorney of the defender on no case."""
    profile = add_staff(
        county.agencies["defender"],
        actor=SYSTEM,
        username="other_attorney",
        first_name="Other",
        last_name="Attorney",
        email="other_attorney@test.invalid",
        roles=("attorney",),
        password=PASSWORD,
        attributes={"bar_number": "T-1003"},
    )
    enrol_test_authenticator(profile.user, actor=SYSTEM)
    county.people["other_attorney"] = profile.user
    return county


def new_client(county, first="William", last="Harper", dob=date(1990, 3, 4), **extra):
    return actions.create_client(
        county.agencies["defender"],
        actor=actor(county.defender_attorney),
        first_name=first,
        last_name=last,
        date_of_birth=dob,
        **extra,
    )


def open_case_for(county, client, number="2025-CF-000123", **extra):
    values = {
        "number": number,
        "court": county.agencies["court"],
        "case_type": felony_type(),
        "opened_on": timezone.localdate() - timedelta(days=30),
        "charges": [
            {
                "statute": "720 ILCS 5/19-1",
                "description": "Burglary",
                "level": "felony",
                "degree": "Class 2",
            },
        ],
        "parties": [
            {
                "role": "victim",
                "first_name": "Maria",
                "last_name": "Garcia Lopez",
                "date_of_birth": "1985-11-20",
            },
        ],
    }
    values.update(extra)
    return actions.open_case(client, actor=actor(county.defender_attorney), **values)


@pytest.fixture
def case(office):
    """A felony case of William Harper, opened by (and assigned to) defender_attorney, with
    a victim, one charge and a social worker on the team."""
    client = new_client(office)
    opened = open_case_for(office, client)
    actions.assign(
        opened,
        profile_of(office.defender_social_worker),
        "social_worker",
        actor=actor(office.defender_supervisor),
    )
    return opened
