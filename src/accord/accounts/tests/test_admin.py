"""Account administration: agency administrators for their own agency, coordinators for
every agency; pages, the fragment for staff pages, and the API."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.template.loader import render_to_string
from django.test import RequestFactory

from accord.accounts.actions import may_administer
from accord.accounts.identity import actor_for_user
from accord.accounts.models import AuthenticatorDevice, SignInFailure, User
from accord.accounts.tests.helpers import (
    ENROL,
    LOCKED,
    REAUTH,
    SECOND_FACTOR,
    mark_reauthenticated,
    sign_in_with_password,
    text,
)
from accord.audit.models import AuditEvent
from accord.core.actors import SYSTEM
from accord.core.testing import PASSWORD, as_, check_matrix
from accord.directory.actions import add_staff

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a fresh and rather long passphrase"


def _admin(user):
    client = as_(user)
    mark_reauthenticated(client)
    return client


def _lock(user, client):
    for _ in range(5):
        sign_in_with_password(client, user.username, "wrong password")
    user.refresh_from_db()
    assert user.is_locked


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_it_lists_accounts_only_to_administrators(county):
    check_matrix(
        county,
        "GET",
        "/accounts/users/",
        {
            None: 302,
            "defender_admin": 200,
            "jail_admin": 200,
            "coordinator": 200,
            "defender_attorney": 403,
            "defender_auditor": 403,
            "outsider": 403,
        },
    )


def test_it_lists_an_agency_administrator_only_their_agency(county, django_assert_max_num_queries):
    client = as_(county.defender_admin)
    with django_assert_max_num_queries(20):
        response = client.get("/accounts/users/")
    agencies = {p.agency_id for p in response.context["page"].object_list}
    assert agencies == {county.defender.pk}
    everything = as_(county.coordinator).get("/accounts/users/")
    assert len({p.agency_id for p in everything.context["page"].object_list}) > 1


def test_it_finds_locked_accounts_and_searches_by_name(county, client):
    _lock(county.defender_attorney, client)
    admin = as_(county.defender_admin)
    locked = admin.get("/accounts/users/?status=locked").context["page"].object_list
    assert [p.user_id for p in locked] == [county.defender_attorney.pk]
    found = admin.get("/accounts/users/?q=investigator").context["page"].object_list
    assert [p.user.username for p in found] == ["defender_investigator"]
    empty = admin.get("/accounts/users/?q=zzzz")
    assert "No accounts match this search." in text(empty)


def test_it_shows_an_account_only_to_those_who_administer_it(county):
    target = county.defender_attorney.pk
    check_matrix(
        county,
        "GET",
        f"/accounts/users/{target}/",
        {
            None: 302,
            "defender_admin": 200,
            "coordinator": 200,
            "jail_admin": 404,
            "defender_attorney": 404,
            "defender_supervisor": 404,
        },
    )


def test_an_agency_administrator_unlocks_a_locked_colleague(county, client):
    target = county.defender_attorney
    _lock(target, client)
    admin = _admin(county.defender_admin)
    detail = admin.get(f"/accounts/users/{target.pk}/")
    assert "Unlock" in text(detail)
    assert "Failed attempts in the last 15 minutes" in text(detail)
    response = admin.post(
        f"/accounts/users/{target.pk}/unlock/", {"next": f"/accounts/users/{target.pk}/"}
    )
    assert response["Location"] == f"/accounts/users/{target.pk}/"
    assert "The account is unlocked" in " ".join(_messages(response))
    assert not User.objects.get(pk=target.pk).is_locked
    assert not SignInFailure.objects.filter(username=target.username).exists()
    assert sign_in_with_password(client, target.username)["Location"] == SECOND_FACTOR


def test_it_disables_and_enables_an_account(county, client):
    target = county.defender_attorney
    admin = _admin(county.defender_admin)
    admin.post(f"/accounts/users/{target.pk}/disable/")
    assert not User.objects.get(pk=target.pk).is_active
    assert "The user name or password is not correct." in text(
        sign_in_with_password(client, target.username)
    )
    admin.post(f"/accounts/users/{target.pk}/enable/")
    assert User.objects.get(pk=target.pk).is_active
    assert sign_in_with_password(client, target.username)["Location"] == SECOND_FACTOR
    actions = list(
        AuditEvent.objects.filter(object_id=str(target.pk), action__startswith="account.")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions[-2:] == ["account.disabled", "account.enabled"]


def test_it_resets_an_authenticator_so_the_person_enrols_anew(county, client):
    target = county.defender_attorney
    _admin(county.defender_admin).post(f"/accounts/users/{target.pk}/reset-authenticator/")
    assert not AuthenticatorDevice.objects.filter(user=target).exists()
    assert sign_in_with_password(client, target.username)["Location"] == ENROL


def test_it_sets_a_colleagues_password_and_ends_their_sessions(county, client):
    target = county.defender_attorney
    theirs = as_(target)
    admin = _admin(county.defender_admin)
    page = admin.get(f"/accounts/users/{target.pk}/set-password/")
    assert 'autocomplete="new-password"' in text(page)
    weak = admin.post(
        f"/accounts/users/{target.pk}/set-password/",
        {"new_password": "12345678", "new_password_again": "12345678"},
    )
    assert "This password is too common." in text(weak)
    response = admin.post(
        f"/accounts/users/{target.pk}/set-password/",
        {"new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD},
    )
    assert response["Location"] == f"/accounts/users/{target.pk}/"
    assert theirs.get("/").status_code == 302
    assert sign_in_with_password(client, target.username, NEW_PASSWORD)["Location"] == SECOND_FACTOR


def test_it_refuses_another_agencys_administrator(county):
    target = county.defender_attorney
    jail_admin = _admin(county.jail_admin)
    assert jail_admin.post(f"/accounts/users/{target.pk}/disable/").status_code == 403
    assert jail_admin.get(f"/accounts/users/{target.pk}/set-password/").status_code == 403
    assert User.objects.get(pk=target.pk).is_active


def test_it_refuses_staff_who_are_not_administrators(county):
    target = county.defender_investigator
    attorney = _admin(county.defender_attorney)
    assert attorney.post(f"/accounts/users/{target.pk}/disable/").status_code == 403
    assert attorney.post("/accounts/users/999999/disable/").status_code == 404


def test_an_agency_administrator_cannot_take_over_a_coordinator(county):
    council_admin = add_staff(
        county.council,
        actor=SYSTEM,
        username="council_admin",
        first_name="Council",
        last_name="Admin",
        email="council_admin@test.invalid",
        roles=("agency_admin",),
        password=PASSWORD,
    ).user
    admin_actor = actor_for_user(council_admin)
    assert not may_administer(county.coordinator, admin_actor)
    assert may_administer(county.council_auditor, admin_actor)
    assert may_administer(county.coordinator, actor_for_user(county.coordinator))


def test_it_refuses_to_disable_or_reset_ones_own_account(county):
    admin = _admin(county.defender_admin)
    me = county.defender_admin.pk
    response = admin.post(f"/accounts/users/{me}/disable/")
    assert "You cannot disable your own account." in _messages(response)
    response = admin.post(f"/accounts/users/{me}/reset-authenticator/")
    assert "Ask another administrator" in " ".join(_messages(response))
    assert AuthenticatorDevice.objects.filter(user_id=me).exists()


def test_it_says_when_an_account_is_not_locked(county):
    target = county.defender_attorney
    response = _admin(county.defender_admin).post(f"/accounts/users/{target.pk}/unlock/")
    assert _messages(response) == ["This account is not locked."]


def test_it_asks_for_reauthentication_before_administration(county):
    target = county.defender_attorney
    response = as_(county.defender_admin).post(f"/accounts/users/{target.pk}/unlock/")
    assert response["Location"].startswith(REAUTH)


# --- the fragment for staff pages ------------------------------------------------------------


def _fragment(viewer, target_user) -> str:
    request = RequestFactory().get(f"/directory/staff/{target_user.pk}/")
    request.user = viewer
    request.actor = actor_for_user(viewer)  # type: ignore[attr-defined]
    return render_to_string(
        "accounts/_admin_actions.html", {"target_user": target_user}, request=request
    )


def test_the_fragment_shows_the_buttons_to_those_who_may_use_them(county, client):
    _lock(county.defender_attorney, client)
    target = User.objects.get(pk=county.defender_attorney.pk)
    html = _fragment(county.defender_admin, target)
    assert f'action="/accounts/users/{target.pk}/unlock/"' in html
    assert f'action="/accounts/users/{target.pk}/disable/"' in html
    assert f'action="/accounts/users/{target.pk}/reset-authenticator/"' in html
    assert f'href="/accounts/users/{target.pk}/set-password/"' in html
    assert 'name="next" value="/directory/staff/' in html
    assert "csrfmiddlewaretoken" in html
    assert "Unlock" in _fragment(county.coordinator, target)


def test_the_fragment_is_empty_for_everyone_else(county):
    target = county.defender_attorney
    for viewer in (county.jail_admin, county.defender_supervisor, county.outsider):
        assert _fragment(viewer, target).strip() == ""


def test_the_fragment_offers_no_self_service_buttons_on_ones_own_page(county):
    html = _fragment(county.defender_admin, county.defender_admin)
    assert "/disable/" not in html
    assert "/set-password/" not in html


# --- the API ---------------------------------------------------------------------------------


def test_the_api_administers_accounts_after_reauthentication(county, client):
    target = county.defender_attorney
    _lock(target, client)
    url = f"/api/v1/accounts/users/{target.pk}"
    admin = as_(county.defender_admin)
    assert admin.post(f"{url}/unlock").status_code == 403
    mark_reauthenticated(admin)
    status = admin.get(url).json()
    assert status["locked_at"] is not None
    unlocked = admin.post(f"{url}/unlock")
    assert unlocked.status_code == 200
    assert unlocked.json()["locked_at"] is None
    assert admin.post(f"{url}/unlock").status_code == 409
    theirs = as_(target)
    disabled = admin.post(f"{url}/disable")
    assert disabled.json()["is_active"] is False
    assert theirs.get("/").status_code == 302
    assert admin.post(f"{url}/enable").json()["is_active"] is True
    reset = admin.post(f"{url}/reset-authenticator")
    assert reset.json()["has_authenticator"] is False


def test_the_api_sets_a_password_with_the_reason_for_a_refusal(county):
    target = county.defender_attorney
    admin = as_(county.defender_admin)
    mark_reauthenticated(admin)
    url = f"/api/v1/accounts/users/{target.pk}/set-password"
    weak = admin.post(url, {"password": "short"}, content_type="application/json")
    assert weak.status_code == 422
    assert weak.json()["errors"][0] == {
        "field": "password",
        "reason": "This password is too short: use at least 8 characters.",
    }
    ok = admin.post(url, {"password": NEW_PASSWORD}, content_type="application/json")
    assert ok.status_code == 200


def test_the_api_hides_accounts_from_those_who_do_not_administer_them(county):
    target = county.defender_attorney.pk
    check_matrix(
        county,
        "GET",
        f"/api/v1/accounts/users/{target}",
        {
            None: 401,
            "defender_admin": 200,
            "coordinator": 200,
            "jail_admin": 404,
            "defender_attorney": 404,
        },
    )
    check_matrix(
        county,
        "POST",
        f"/api/v1/accounts/users/{target}/disable",
        {None: 401, "jail_admin": 404, "outsider": 404, "defender_admin": 403},
    )


def test_a_locked_person_sees_the_lockout_message_until_unlocked_through_the_api(county, client):
    target = county.defender_attorney
    _lock(target, client)
    assert LOCKED in text(sign_in_with_password(client, target.username))
    admin = as_(county.coordinator)
    mark_reauthenticated(admin)
    assert admin.post(f"/api/v1/accounts/users/{target.pk}/unlock").status_code == 200
    assert sign_in_with_password(client, target.username)["Location"] == SECOND_FACTOR
