from __future__ import annotations

import pytest

from accord.accounts.actions import SESSION_PENDING_DEVICE
from accord.accounts.banner import BANNER_PARAGRAPHS, BANNER_SHA256, BANNER_TITLE
from accord.accounts.models import (
    AuthenticatorDevice,
    BannerAcknowledgement,
    RecoveryCode,
    UserSession,
)
from accord.accounts.tests.helpers import (
    BANNER,
    ENROL,
    REFUSED,
    SECOND_FACTOR,
    SIGN_IN,
    SIGN_OUT,
    device_of,
    fresh_code,
    sign_in_through_pages,
    sign_in_with_password,
    text,
)
from accord.audit.models import AuditEvent
from accord.core.actors import SYSTEM
from accord.core.testing import PASSWORD, as_
from accord.directory.actions import add_staff

pytestmark = pytest.mark.django_db


def test_it_signs_in_through_password_code_and_notice_to_the_home_page(county, client):
    user = county.defender_attorney
    response = sign_in_through_pages(client, user)
    assert response.status_code == 302
    assert response["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert "Welcome" in text(home)
    record = UserSession.objects.get(user=user)
    assert record.ended_at is None
    assert BannerAcknowledgement.objects.filter(user=user, banner_sha256=BANNER_SHA256).exists()
    actions = set(
        AuditEvent.objects.filter(object_id=str(user.pk)).values_list("action", flat=True)
    )
    assert {"auth.sign_in", "auth.mfa_verified", "auth.banner_acknowledged"} <= actions


def test_it_labels_every_field_and_names_its_autocomplete_purpose(client):
    page = text(client.get(SIGN_IN))
    assert '<label class="usa-label" for="id_username">User name</label>' in page
    assert '<label class="usa-label" for="id_password">Password</label>' in page
    assert 'autocomplete="username"' in page
    assert 'autocomplete="current-password"' in page
    assert 'class="usa-input"' in page


def test_it_shows_the_system_use_notice_on_the_sign_in_page(client):
    page = text(client.get(SIGN_IN))
    assert BANNER_TITLE in page
    for paragraph in BANNER_PARAGRAPHS:
        assert paragraph in page


def test_it_keeps_a_half_signed_in_person_away_from_everything_but_the_next_step(county, client):
    sign_in_with_password(client, county.defender_attorney.username)
    assert client.get("/")["Location"] == SECOND_FACTOR
    assert client.get("/accounts/security/")["Location"] == SECOND_FACTOR
    assert client.get("/api/v1/accounts/me").status_code == 401
    response = client.post(SECOND_FACTOR, {"code": fresh_code(device_of(county.defender_attorney))})
    assert response["Location"] == BANNER
    assert client.get("/")["Location"] == BANNER


def test_it_answers_the_same_for_a_wrong_password_an_unknown_name_and_a_disabled_account(
    county, client
):
    from accord.accounts.actions import disable_account

    disable_account(county.defender_investigator, actor=SYSTEM)
    answers = [
        sign_in_with_password(client, county.defender_attorney.username, "wrong password!"),
        sign_in_with_password(client, "nobody.at.all", "wrong password!"),
        sign_in_with_password(client, county.defender_investigator.username, PASSWORD),
    ]
    for response in answers:
        assert response.status_code == 200
        assert REFUSED in text(response)
    assert not client.session.get("_auth_user_id")


def test_it_keeps_the_name_typed_but_never_the_password(county, client):
    response = sign_in_with_password(client, county.defender_attorney.username, "wrong password!")
    page = text(response)
    assert f'value="{county.defender_attorney.username}"' in page
    assert "wrong password!" not in page


def test_it_asks_for_both_fields(client):
    page = text(client.post(SIGN_IN, {"username": "", "password": ""}))
    assert "Enter your user name." in page
    assert "Enter your password." in page
    assert "usa-form-group--error" in page


def test_it_returns_to_a_safe_next_page_after_signing_in(county, client):
    client.get("/directory/")  # the gate sends the person to sign in, remembering where
    response = sign_in_with_password(
        client, county.defender_attorney.username, next="/accounts/security/"
    )
    client.post(response["Location"], {"code": fresh_code(device_of(county.defender_attorney))})
    assert client.post(BANNER)["Location"] == "/accounts/security/"


@pytest.mark.parametrize(
    "unsafe", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"]
)
def test_it_ignores_a_next_page_on_another_site(county, client, unsafe):
    response = sign_in_with_password(client, county.defender_attorney.username, next=unsafe)
    client.post(response["Location"], {"code": fresh_code(device_of(county.defender_attorney))})
    assert client.post(BANNER)["Location"] == "/"


def test_it_remembers_the_page_the_gate_sent_the_person_away_from(client):
    response = client.get("/accounts/security/?tab=1")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/sign-in/?next=%2Faccounts%2Fsecurity%2F%3Ftab%3D1"
    page = text(client.get(response["Location"]))
    assert 'name="next" value="/accounts/security/?tab=1"' in page


def test_it_refuses_a_wrong_code_and_counts_it(county, client):
    sign_in_with_password(client, county.defender_attorney.username)
    response = client.post(SECOND_FACTOR, {"code": "000000"})
    assert response.status_code == 200
    assert "That code is not correct." in text(response)
    assert 'autocomplete="one-time-code"' in text(response)
    assert AuditEvent.objects.filter(action="auth.mfa_failed").count() == 1
    assert client.get("/")["Location"] == SECOND_FACTOR


def test_it_accepts_a_recovery_code_once(county, client):
    from accord.accounts.actions import regenerate_recovery_codes
    from accord.accounts.identity import actor_for_user

    user = county.defender_attorney
    codes = regenerate_recovery_codes(user, actor=actor_for_user(user))
    sign_in_with_password(client, user.username)
    assert client.post(SECOND_FACTOR, {"code": codes[0]})["Location"] == BANNER
    assert RecoveryCode.objects.filter(user=user, used_at__isnull=False).count() == 1
    client.post(SIGN_OUT)
    sign_in_with_password(client, user.username)
    again = client.post(SECOND_FACTOR, {"code": codes[0]})
    assert again.status_code == 200
    assert "That code is not correct." in text(again)


def test_it_sends_the_locked_person_to_the_lockout_message_from_the_code_page(county, client):
    from accord.accounts.tests.helpers import LOCKED

    user = county.defender_attorney
    sign_in_with_password(client, user.username)
    for _ in range(4):
        client.post(SECOND_FACTOR, {"code": "000000"})
    response = client.post(SECOND_FACTOR, {"code": "000000"})
    assert LOCKED in text(response)
    user.refresh_from_db()
    assert user.is_locked
    assert not client.session.get("_auth_user_id")


def test_it_signs_out_only_by_post(county):
    client = as_(county.defender_attorney)
    assert client.get(SIGN_OUT).status_code == 405
    response = client.post(SIGN_OUT)
    assert response["Location"] == SIGN_IN
    assert client.get("/").status_code == 302
    record = UserSession.objects.get(user=county.defender_attorney)
    assert record.end_reason == "signed_out"
    assert AuditEvent.objects.filter(action="auth.sign_out").exists()


def test_it_sends_a_signed_in_person_from_the_sign_in_page_home(county):
    assert as_(county.defender_attorney).get(SIGN_IN)["Location"] == "/"


# --- enrolment ---------------------------------------------------------------------------------


def _new_colleague(county):
    return add_staff(
        county.defender,
        actor=SYSTEM,
        username="new.colleague",
        first_name="New",
        last_name="Colleague",
        email="new@test.invalid",
        roles=("attorney",),
        password=PASSWORD,
    ).user


def test_it_enrols_an_authenticator_at_the_first_sign_in(county, client):
    user = _new_colleague(county)
    response = sign_in_with_password(client, user.username)
    assert response["Location"] == ENROL
    page = client.get(ENROL)
    body = text(page)
    assert '<img src="data:image/svg+xml;base64,' in body
    device = AuthenticatorDevice.objects.get(user=user, confirmed=False)
    assert client.session[SESSION_PENDING_DEVICE] == device.pk
    import base64

    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    assert grouped in body
    assert page.context["qr"].startswith("data:image/svg+xml;base64,")
    # Reloading keeps the same secret: the person may have scanned it already.
    client.get(ENROL)
    assert AuthenticatorDevice.objects.get(user=user, confirmed=False).pk == device.pk

    wrong = client.post(ENROL, {"code": "000000"})
    assert "That code is not correct." in text(wrong)

    done = client.post(ENROL, {"code": fresh_code(device)})
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10
    assert all(code in text(done) for code in codes)
    assert "I have saved these" in text(done)
    assert SESSION_PENDING_DEVICE not in client.session
    assert AuthenticatorDevice.objects.get(user=user).confirmed
    assert client.get("/")["Location"] == BANNER
    assert client.post(BANNER)["Location"] == "/"
    assert client.get("/").status_code == 200


def test_it_builds_the_authenticator_uri_apps_read(county):
    from accord.accounts.actions import begin_enrolment
    from accord.accounts.identity import actor_for_user
    from accord.accounts.views.sign_in import base32_secret, otpauth_uri

    user = _new_colleague(county)
    device = begin_enrolment(user, actor=actor_for_user(user))
    uri = otpauth_uri(device, user.username)
    assert uri == (
        f"otpauth://totp/Accord%3Anew.colleague?secret={base32_secret(device)}&issuer=Accord"
    )


def test_it_never_lets_a_password_alone_replace_an_existing_authenticator(county, client):
    user = county.defender_attorney
    sign_in_with_password(client, user.username)
    assert client.get(ENROL)["Location"] == SECOND_FACTOR
    assert client.post(ENROL, {"code": "123456"})["Location"] == SECOND_FACTOR
    assert AuthenticatorDevice.objects.filter(user=user).count() == 1


def test_it_refuses_the_steps_to_someone_not_signed_in(client):
    assert client.get(SECOND_FACTOR)["Location"] == SIGN_IN
    assert client.get(ENROL)["Location"] == SIGN_IN
    assert client.get(BANNER)["Location"] == SIGN_IN
    assert client.post(BANNER)["Location"] == SIGN_IN


def test_it_shows_the_full_notice_before_use(county, client):
    sign_in_with_password(client, county.defender_attorney.username)
    client.post(SECOND_FACTOR, {"code": fresh_code(device_of(county.defender_attorney))})
    page = text(client.get(BANNER))
    assert BANNER_TITLE in page
    assert all(p in page for p in BANNER_PARAGRAPHS)
    assert "I understand and consent" in page
