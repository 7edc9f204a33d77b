"""Re-authentication before privileged work (OWASP ASVS 3.7.1), on pages and in the API."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.utils import timezone

from accord.accounts.actions import SESSION_REAUTH_AT
from accord.accounts.models import SignInFailure, User
from accord.accounts.tests.helpers import (
    LOCKED,
    REAUTH,
    device_of,
    fresh_code,
    mark_reauthenticated,
    text,
)
from accord.audit.models import AuditEvent
from accord.core.testing import PASSWORD, as_

pytestmark = pytest.mark.django_db

NEW_TOKEN = "/accounts/tokens/new/"


def test_it_sends_a_privileged_page_to_reauthentication_first(county):
    client = as_(county.defender_admin)
    response = client.get(NEW_TOKEN)
    assert response.status_code == 302
    assert response["Location"] == f"{REAUTH}?next={quote(NEW_TOKEN, safe='')}"


def test_it_returns_to_the_page_after_password_and_a_fresh_code(county):
    client = as_(county.defender_admin)
    page = client.get(f"{REAUTH}?next={NEW_TOKEN}")
    body = text(page)
    assert 'autocomplete="current-password"' in body
    assert 'autocomplete="one-time-code"' in body
    assert '<label class="usa-label" for="id_code">' in body
    response = client.post(
        REAUTH,
        {
            "password": PASSWORD,
            "code": fresh_code(device_of(county.defender_admin)),
            "next": NEW_TOKEN,
        },
    )
    assert response["Location"] == NEW_TOKEN
    assert client.get(NEW_TOKEN).status_code == 200
    assert AuditEvent.objects.filter(action="auth.reauthenticated").count() == 1


def test_it_refuses_a_wrong_code_and_counts_it_towards_the_lockout(county):
    client = as_(county.defender_admin)
    response = client.post(REAUTH, {"password": PASSWORD, "code": "000000", "next": NEW_TOKEN})
    assert response.status_code == 200
    assert "The password or the code is not correct." in text(response)
    assert SignInFailure.objects.filter(stage="reauth").count() == 1
    assert AuditEvent.objects.filter(action="auth.reauth_failed").count() == 1
    assert client.get(NEW_TOKEN).status_code == 302


def test_it_locks_and_signs_out_after_five_failed_reauthentications(county):
    client = as_(county.defender_admin)
    for _ in range(4):
        client.post(REAUTH, {"password": "wrong", "code": "000000"})
    response = client.post(REAUTH, {"password": "wrong", "code": "000000"})
    assert LOCKED in text(response)
    assert User.objects.get(pk=county.defender_admin.pk).is_locked
    assert client.get("/").status_code == 302


def test_it_asks_again_once_the_reauthentication_is_ten_minutes_old(county):
    client = as_(county.defender_admin)
    session = client.session
    session[SESSION_REAUTH_AT] = (timezone.now() - timedelta(minutes=11)).timestamp()
    session.save()
    assert client.get(NEW_TOKEN)["Location"].startswith(REAUTH)
    mark_reauthenticated(client)
    assert client.get(NEW_TOKEN).status_code == 200


def test_it_sends_a_privileged_form_back_to_its_page_not_replaying_it(county):
    client = as_(county.defender_admin)
    target = county.defender_attorney
    response = client.post(
        f"/accounts/users/{target.pk}/disable/", {"next": f"/accounts/users/{target.pk}/"}
    )
    assert (
        response["Location"] == f"{REAUTH}?next={quote(f'/accounts/users/{target.pk}/', safe='')}"
    )
    assert User.objects.get(pk=target.pk).is_active


def test_it_ignores_an_unsafe_next_after_reauthentication(county):
    client = as_(county.defender_admin)
    response = client.post(
        REAUTH,
        {
            "password": PASSWORD,
            "code": fresh_code(device_of(county.defender_admin)),
            "next": "https://evil.example/",
        },
    )
    assert response["Location"] == "/accounts/security/"


# --- API -------------------------------------------------------------------------------------


def _token_body(county):
    return {"agency_id": county.defender.pk, "name": "Case system", "scopes": ["directory:read"]}


def test_the_api_refuses_a_privileged_call_until_the_person_reauthenticates(county):
    client = as_(county.defender_admin)
    refused = client.post(
        "/api/v1/accounts/tokens", _token_body(county), content_type="application/json"
    )
    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["detail"] == "Re-authenticate first: POST /api/v1/accounts/reauth"

    reauth = client.post(
        "/api/v1/accounts/reauth",
        {"password": PASSWORD, "code": fresh_code(device_of(county.defender_admin))},
        content_type="application/json",
    )
    assert reauth.status_code == 200
    assert "valid_until" in reauth.json()
    created = client.post(
        "/api/v1/accounts/tokens", _token_body(county), content_type="application/json"
    )
    assert created.status_code == 201


def test_the_api_refuses_a_wrong_reauthentication(county):
    client = as_(county.defender_admin)
    response = client.post(
        "/api/v1/accounts/reauth",
        {"password": PASSWORD, "code": "000000"},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "The password or the code is not correct."


def test_the_api_rejects_unknown_fields_in_a_reauthentication(county):
    response = as_(county.defender_admin).post(
        "/api/v1/accounts/reauth",
        {"password": PASSWORD, "code": "123456", "remember": True},
        content_type="application/json",
    )
    assert response.status_code == 422


def test_the_api_needs_csrf_for_a_browser_session(county):
    client = as_(county.defender_admin, csrf_checks=True)
    response = client.post(
        "/api/v1/accounts/reauth",
        {"password": PASSWORD, "code": "123456"},
        content_type="application/json",
    )
    assert response.status_code in (401, 403)
