"""API tokens: the page and the API; shown once, hashed at rest, scoped, expiring, revocable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accord.accounts.actions import create_api_token
from accord.accounts.identity import actor_for_user
from accord.accounts.models import ApiToken
from accord.accounts.tests.helpers import mark_reauthenticated, text
from accord.core.testing import as_, check_matrix, with_token

pytestmark = pytest.mark.django_db

LIST = "/accounts/tokens/"
NEW = "/accounts/tokens/new/"


def _admin(user):
    client = as_(user)
    mark_reauthenticated(client)
    return client


def _form(county, **overrides):
    data = {
        "agency": county.defender.pk,
        "name": "Case management system",
        "scopes": ["directory:read", "events:read"],
        "expires_on": (timezone.localdate() + timedelta(days=30)).isoformat(),
    }
    data.update(overrides)
    return data


def _token(county, agency=None, **kwargs):
    return create_api_token(
        agency or county.defender,
        kwargs.pop("name", "Feed"),
        kwargs.pop("scopes", ["directory:read"]),
        timezone.now() + timedelta(days=30),
        actor=actor_for_user(county.coordinator),
    )


def test_it_shows_the_token_pages_only_to_administrators(county):
    expected = {
        None: 302,
        "defender_admin": 200,
        "coordinator": 200,
        "defender_attorney": 403,
        "outsider": 403,
    }
    check_matrix(county, "GET", LIST, expected)


def test_it_lists_an_agencys_tokens_to_its_administrator_only(
    county, django_assert_max_num_queries
):
    for i in range(6):
        _token(county, name=f"Defender feed {i}")
    _token(county, agency=county.jail, name="Jail booking feed")
    client = as_(county.defender_admin)
    with django_assert_max_num_queries(20):
        response = client.get(LIST)
    names = {t.name for t in response.context["page"].object_list}
    assert "Jail booking feed" not in names
    assert len(names) == 6
    everything = as_(county.coordinator).get(LIST)
    assert "Jail booking feed" in {t.name for t in everything.context["page"].object_list}
    assert "Jail booking feed" in text(as_(county.coordinator).get(f"{LIST}?q=booking"))


def test_it_shows_an_empty_state(county):
    assert "No tokens yet." in text(as_(county.defender_admin).get(LIST))


def test_it_offers_the_form_with_the_default_expiry_and_every_scope(county):
    page = _admin(county.defender_admin).get(NEW)
    body = text(page)
    default = (timezone.localdate() + timedelta(days=90)).isoformat()
    assert f'value="{default}"' in body
    assert 'type="date"' in body
    for scope in ("directory:read", "directory:write", "audit:read", "events:write"):
        assert f'value="{scope}"' in body
    agency_choices = list(page.context["form"].fields["agency"].queryset)
    assert agency_choices == [county.defender]
    coordinator_choices = _admin(county.coordinator).get(NEW).context["form"].fields["agency"]
    assert len(list(coordinator_choices.queryset)) == len(county.agencies)


def test_it_creates_a_token_and_shows_it_once(county):
    client = _admin(county.defender_admin)
    response = client.post(NEW, _form(county))
    assert response.status_code == 200
    plaintext = response.context["plaintext"]
    assert plaintext.startswith("acc_")
    assert plaintext in text(response)
    assert "shown only this once" in text(response)
    token = ApiToken.objects.get()
    assert plaintext.split("_", 2)[2] not in token.secret_sha256
    assert token.scopes == ["directory:read", "events:read"]
    assert token.created_by_id == county.defender_admin.pk
    assert timezone.localtime(token.expires_at).date() == timezone.localdate() + timedelta(days=30)
    assert plaintext not in text(client.get(LIST))
    me = with_token(plaintext).get("/api/v1/accounts/me")
    assert me.status_code == 200
    assert me.json()["kind"] == "token"
    assert me.json()["scopes"] == ["directory:read", "events:read"]
    assert me.json()["agency"]["id"] == county.defender.pk


def test_it_refuses_an_expiry_beyond_366_days_or_in_the_past(county):
    client = _admin(county.defender_admin)
    too_late = (timezone.localdate() + timedelta(days=367)).isoformat()
    response = client.post(NEW, _form(county, expires_on=too_late))
    assert "at most 366 days ahead" in text(response)
    today = timezone.localdate().isoformat()
    assert "must be in the future" in text(client.post(NEW, _form(county, expires_on=today)))
    latest = (timezone.localdate() + timedelta(days=366)).isoformat()
    assert client.post(NEW, _form(county, expires_on=latest)).context.get("plaintext")


def test_it_needs_a_name_and_a_scope(county):
    response = _admin(county.defender_admin).post(NEW, _form(county, name="", scopes=[]))
    assert "Give the token a name." in text(response)
    assert "Choose at least one scope." in text(response)
    assert not ApiToken.objects.exists()


def test_an_agency_administrator_cannot_create_another_agencys_token(county):
    response = _admin(county.defender_admin).post(NEW, _form(county, agency=county.jail.pk))
    assert "Select a valid choice." in text(response)
    assert not ApiToken.objects.exists()


def test_it_revokes_a_token_which_then_stops_working(county):
    token, plaintext = _token(county)
    assert with_token(plaintext).get("/api/v1/accounts/me").status_code == 200
    client = _admin(county.defender_admin)
    response = client.post(f"/accounts/tokens/{token.pk}/revoke/")
    assert response["Location"] == LIST
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert with_token(plaintext).get("/api/v1/accounts/me").status_code == 401


def test_it_hides_another_agencys_token_from_revocation(county):
    token, _ = _token(county, agency=county.jail)
    assert (
        _admin(county.defender_admin).post(f"/accounts/tokens/{token.pk}/revoke/").status_code
        == 404
    )
    token.refresh_from_db()
    assert token.revoked_at is None


# --- the API ---------------------------------------------------------------------------------


def test_the_api_lists_tokens_with_a_bounded_number_of_queries(
    county, django_assert_max_num_queries
):
    for i in range(5):
        _token(county, name=f"Feed {i}")
    client = as_(county.defender_admin)
    with django_assert_max_num_queries(15):
        response = client.get("/api/v1/accounts/tokens")
    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 5
    assert {r["status"] for r in results} == {"active"}
    assert results[0]["agency_name"] == county.defender.name
    assert "secret_sha256" not in results[0]


def test_the_api_creates_and_revokes_tokens(county):
    client = _admin(county.defender_admin)
    created = client.post(
        "/api/v1/accounts/tokens",
        {"agency_id": county.defender.pk, "name": "Jail feed reader", "scopes": ["events:read"]},
        content_type="application/json",
    )
    assert created.status_code == 201
    body = created.json()
    assert body["plaintext"].startswith("acc_")
    expires = ApiToken.objects.get().expires_at
    assert timedelta(days=89) < expires - timezone.now() <= timedelta(days=90)
    revoked = client.post(f"/api/v1/accounts/tokens/{body['token']['id']}/revoke")
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked"
    again = client.post(f"/api/v1/accounts/tokens/{body['token']['id']}/revoke")
    assert again.status_code == 409


def test_the_api_refuses_unknown_scopes_and_other_agencies(county):
    client = _admin(county.defender_admin)
    unknown = client.post(
        "/api/v1/accounts/tokens",
        {"agency_id": county.defender.pk, "name": "X", "scopes": ["everything"]},
        content_type="application/json",
    )
    assert unknown.status_code == 422
    other = client.post(
        "/api/v1/accounts/tokens",
        {"agency_id": county.jail.pk, "name": "X", "scopes": ["events:read"]},
        content_type="application/json",
    )
    assert other.status_code == 403


def test_a_token_cannot_make_tokens(county):
    _, plaintext = _token(county, scopes=["directory:write"])
    client = with_token(plaintext)
    assert client.get("/api/v1/accounts/tokens").json()["results"] == []
    refused = client.post(
        "/api/v1/accounts/tokens",
        {"agency_id": county.defender.pk, "name": "X", "scopes": ["events:read"]},
        content_type="application/json",
    )
    assert refused.status_code == 403


def test_the_api_says_who_a_person_is(county):
    me = as_(county.defender_attorney).get("/api/v1/accounts/me").json()
    assert me["kind"] == "person"
    assert me["username"] == "defender_attorney"
    assert me["agency"]["short_name"] == "TPD"
    assert me["roles"] == ["attorney"]
    assert me["attributes"] == {"bar_number": "T-1001"}
    assert me["scopes"] is None


def test_the_api_needs_a_credential_for_who_am_i(county):
    check_matrix(county, "GET", "/api/v1/accounts/me", {None: 401, "outsider": 200})
