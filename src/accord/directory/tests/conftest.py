"""Fixtures of the directory tests: API tokens of a persona's agency, fresh sign-ins."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accord.accounts.actions import SESSION_REAUTH_AT, create_api_token
from accord.core.actors import SYSTEM
from accord.core.testing import as_, with_token


@pytest.fixture
def token_client(county):
    """``token_client("defender", "directory:read")``: an API client holding a token."""

    def make(agency_key: str, *scopes: str):
        _, raw = create_api_token(
            county.agencies[agency_key],
            f"{agency_key} system",
            list(scopes),
            timezone.now() + timedelta(days=30),
            actor=SYSTEM,
        )
        return with_token(raw)

    return make


def freshly_signed_in(user):
    """A client that has just re-authenticated (password and a new code)."""
    client = as_(user)
    session = client.session
    session[SESSION_REAUTH_AT] = timezone.now().timestamp()
    session.save()
    return client


@pytest.fixture
def fresh():
    return freshly_signed_in
