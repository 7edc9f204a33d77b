"""Signing in through the real pages, and authenticator codes that replay protection
accepts."""

from __future__ import annotations

from django.test import Client
from django.utils import timezone

from accord.accounts.actions import SESSION_REAUTH_AT
from accord.accounts.models import AuthenticatorDevice, User
from accord.core.testing import PASSWORD

SIGN_IN = "/accounts/sign-in/"
SECOND_FACTOR = "/accounts/sign-in/code/"
ENROL = "/accounts/sign-in/authenticator/"
BANNER = "/accounts/sign-in/notice/"
SIGN_OUT = "/accounts/sign-out/"
REAUTH = "/accounts/reauth/"
SECURITY = "/accounts/security/"
REFUSED = "The user name or password is not correct."
LOCKED = (
    "This account is locked after too many failed sign-ins. "
    "Ask your agency administrator to unlock it."
)


def device_of(user: User) -> AuthenticatorDevice:
    return AuthenticatorDevice.objects.get(user=user, confirmed=True)


def fresh_code(device: AuthenticatorDevice) -> str:
    """A code for a time step not used yet: the current one, or the next (within the
    one-step tolerance) when the current one was just spent."""
    device.refresh_from_db()
    totp = device.totp()
    totp.drift = 0 if totp.t() > device.last_t else 1
    assert totp.t() > device.last_t, "both usable time steps were already spent"
    code: int = totp.token()
    return f"{code:06d}"


def sign_in_with_password(client: Client, username: str, password: str = PASSWORD, **extra):
    return client.post(SIGN_IN, {"username": username, "password": password, **extra})


def sign_in_through_pages(client: Client, user: User, password: str = PASSWORD):
    """Password, then the current code, then the notice: the answer of the last step."""
    response = sign_in_with_password(client, user.username, password)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == SECOND_FACTOR
    response = client.post(SECOND_FACTOR, {"code": fresh_code(device_of(user))})
    assert response["Location"] == BANNER
    return client.post(BANNER)


def mark_reauthenticated(client: Client) -> None:
    """As if the person had just re-authenticated (the reauth page is tested on its own)."""
    session = client.session
    session[SESSION_REAUTH_AT] = timezone.now().timestamp()
    session.save()


def text(response) -> str:
    return str(response.content.decode())
