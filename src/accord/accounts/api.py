"""Accounts over the API: who am I, re-authentication, API tokens, account administration.

Privileged operations by a signed-in person need a re-authentication within the last
``REAUTH_SECONDS`` (``POST /api/v1/accounts/reauth``), as on the pages (OWASP ASVS 3.7.1).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from accord.accounts.actions import (
    SESSION_REAUTH_AT,
    create_api_token,
    disable_account,
    enable_account,
    may_administer,
    reauthenticate,
    recently_authenticated,
    reset_authenticator,
    revoke_api_token,
    set_password,
    unlock_account,
)
from accord.accounts.models import ApiScope, ApiToken, AuthenticatorDevice, User
from accord.core.access import access_object
from accord.core.actors import Actor
from accord.core.api import ERRORS, AccordCursorPagination, StrictSchema, actor_of
from accord.core.errors import NotFound, PermissionDenied
from accord.directory.models import Agency, StaffProfile

router = Router(tags=["accounts"])

REAUTH_FIRST = "Re-authenticate first: POST /api/v1/accounts/reauth"
TOKEN_DEFAULT_DAYS = 90


def _require_fresh(request: HttpRequest, actor: Actor) -> None:
    """A person's privileged call needs a recent re-authentication. A token never has one:
    the actions refuse tokens these operations anyway."""
    if actor.token_id is None and not recently_authenticated(request):
        raise PermissionDenied(REAUTH_FIRST)


# --- who am I --------------------------------------------------------------------------------


class AgencyRef(Schema):
    id: int
    name: str
    short_name: str
    kind: str


class TokenRef(Schema):
    id: int
    name: str
    prefix: str
    expires_at: datetime


class MeOut(Schema):
    kind: str = Field(description="person or token")
    username: str | None = None
    full_name: str | None = None
    agency: AgencyRef | None = None
    roles: list[str] = []
    attributes: dict[str, Any] = {}
    scopes: list[str] | None = Field(
        None, description="What a token may do; null for a person (limited by roles)."
    )
    token: TokenRef | None = None


def _agency_ref(agency_id: int | None) -> AgencyRef | None:
    if agency_id is None:
        return None
    agency = Agency.objects.filter(pk=agency_id).first()
    if agency is None:
        return None
    return AgencyRef(id=agency.pk, name=agency.name, short_name=agency.short_name, kind=agency.kind)


@router.get(
    "/me",
    response={200: MeOut, **ERRORS},
    summary="Who am I",
    description="The signed-in person (agency, roles, attributes) or the token "
    "(agency, scopes) this request is made with.",
)
def me(request: HttpRequest) -> MeOut:
    actor = actor_of(request)
    if actor.token_id is not None:
        token = ApiToken.objects.get(pk=actor.token_id)
        return MeOut(
            kind="token",
            agency=_agency_ref(actor.agency_id),
            scopes=sorted(actor.scopes or ()),
            token=TokenRef(
                id=token.pk, name=token.name, prefix=token.prefix, expires_at=token.expires_at
            ),
        )
    user = request.user
    assert isinstance(user, User)
    attributes = {
        k: v for k, v in actor.attributes.items() if k not in ("agency_kind", "agency_suspended")
    }
    return MeOut(
        kind="person",
        username=user.username,
        full_name=user.get_full_name(),
        agency=_agency_ref(actor.agency_id),
        roles=sorted(actor.roles),
        attributes=attributes,
        scopes=None,
    )


# --- re-authentication -------------------------------------------------------------------------


class ReauthIn(StrictSchema):
    password: str = Field(max_length=4096)
    code: str = Field(max_length=16, description="The current 6-digit authenticator code.")


class ReauthOut(Schema):
    valid_until: datetime


@router.post(
    "/reauth",
    response={200: ReauthOut, **ERRORS},
    summary="Re-authenticate",
    description="Proves the password and a fresh authenticator code again; privileged "
    "operations of this session are then allowed for a few minutes. Failures count "
    "towards the lockout. Browser sessions only.",
)
def reauth(request: HttpRequest, payload: ReauthIn) -> ReauthOut:
    actor = actor_of(request)
    if actor.token_id is not None:
        raise PermissionDenied("Tokens do not re-authenticate; sign in as a person.")
    if not reauthenticate(request, payload.password, payload.code, actor=actor):
        if not request.user.is_authenticated:
            raise PermissionDenied(
                "The account is now locked after too many failed attempts, and every "
                "session of it has ended."
            )
        raise PermissionDenied("The password or the code is not correct.")
    at = float(request.session[SESSION_REAUTH_AT])
    return ReauthOut(
        valid_until=datetime.fromtimestamp(at, tz=timezone.get_current_timezone())
        + timedelta(seconds=settings.REAUTH_SECONDS)
    )


# --- API tokens -----------------------------------------------------------------------------


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    agency_id: int
    agency_name: str
    scopes: list[str]
    created_at: datetime
    created_by: str | None
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    status: str = Field(description="active, expired or revoked")

    @staticmethod
    def resolve_agency_name(obj: ApiToken) -> str:
        return obj.agency.name

    @staticmethod
    def resolve_created_by(obj: ApiToken) -> str | None:
        return obj.created_by.username if obj.created_by else None

    @staticmethod
    def resolve_status(obj: ApiToken) -> str:
        if obj.revoked_at is not None:
            return "revoked"
        return "active" if obj.is_usable else "expired"


class TokenIn(StrictSchema):
    agency_id: int
    name: str = Field(max_length=100)
    scopes: list[ApiScope] = Field(min_length=1)
    expires_at: datetime | None = Field(
        None, description=f"Default {TOKEN_DEFAULT_DAYS} days from now; at most 366."
    )


class TokenCreatedOut(Schema):
    token: TokenOut
    plaintext: str = Field(description="The token itself. Shown this once; store it now.")


@router.get(
    "/tokens",
    response={200: list[TokenOut], **ERRORS},
    summary="List API tokens",
    description="Agency administrators see their agency's tokens; coordinators see all.",
)
@paginate(AccordCursorPagination)
def list_tokens(request: HttpRequest) -> list[TokenOut]:
    actor = actor_of(request)
    # The paginator slices the queryset, then serialises each row with TokenOut.
    return ApiToken.objects.visible_to(actor).select_related("agency", "created_by")  # type: ignore[return-value]


@router.post(
    "/tokens",
    response={201: TokenCreatedOut, **ERRORS},
    summary="Create an API token",
    description="For one agency's system, limited to the given scopes. " + REAUTH_FIRST + ".",
)
def create_token(request: HttpRequest, payload: TokenIn) -> tuple[int, dict[str, Any]]:
    actor = actor_of(request)
    _require_fresh(request, actor)
    agency = access_object(Agency.objects, actor, payload.agency_id)
    expires_at = payload.expires_at or timezone.now() + timedelta(days=TOKEN_DEFAULT_DAYS)
    if timezone.is_naive(expires_at):
        expires_at = timezone.make_aware(expires_at)
    token, plaintext = create_api_token(
        agency, payload.name, [str(s) for s in payload.scopes], expires_at, actor=actor
    )
    token = ApiToken.objects.select_related("agency", "created_by").get(pk=token.pk)
    # ninja serialises the row through TokenOut (its resolvers read the related rows).
    return 201, {"token": token, "plaintext": plaintext}


@router.post(
    "/tokens/{token_id}/revoke",
    response={200: TokenOut, **ERRORS},
    summary="Revoke an API token",
    description="It stops working at once. " + REAUTH_FIRST + ".",
)
def revoke_token(request: HttpRequest, token_id: int) -> ApiToken:
    actor = actor_of(request)
    _require_fresh(request, actor)
    token: ApiToken = access_object(
        ApiToken.objects.select_related("agency", "created_by"), actor, token_id
    )
    revoke_api_token(token, actor=actor)
    return token


# --- account administration -------------------------------------------------------------------


class AccountOut(Schema):
    id: int
    username: str
    full_name: str
    agency_id: int | None
    is_active: bool
    locked_at: datetime | None
    has_authenticator: bool
    last_login: datetime | None


class SetPasswordIn(StrictSchema):
    password: str = Field(max_length=4096)


def _target(actor: Actor, user_id: int) -> User:
    """The account ``user_id`` if the caller administers it; 404 otherwise (through the
    directory's access rule, then the administrators' rule)."""
    profile: StaffProfile | None = (
        StaffProfile.objects.visible_to(actor)
        .select_related("user")
        .filter(user_id=user_id)
        .first()
    )
    if profile is None or not may_administer(profile.user, actor):
        raise NotFound(f"No account {user_id}.")
    user: User = profile.user
    return user


def account_out(user: User) -> AccountOut:
    user = User.objects.select_related("staff").get(pk=user.pk)
    profile = user.profile
    return AccountOut(
        id=user.pk,
        username=user.username,
        full_name=user.get_full_name(),
        agency_id=profile.agency_id if profile else None,
        is_active=user.is_active,
        locked_at=user.locked_at,
        has_authenticator=AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists(),
        last_login=user.last_login,
    )


@router.get(
    "/users/{user_id}",
    response={200: AccountOut, **ERRORS},
    summary="An account's sign-in status",
    description="For its agency's administrators and for coordinators.",
)
def get_account(request: HttpRequest, user_id: int) -> AccountOut:
    return account_out(_target(actor_of(request), user_id))


def _operate(request: HttpRequest, user_id: int, operation: Any) -> AccountOut:
    actor = actor_of(request)
    target = _target(actor, user_id)
    _require_fresh(request, actor)
    operation(target, actor=actor)
    return account_out(target)


@router.post(
    "/users/{user_id}/unlock",
    response={200: AccountOut, **ERRORS},
    summary="Unlock an account",
    description="After too many failed sign-ins. " + REAUTH_FIRST + ".",
)
def unlock(request: HttpRequest, user_id: int) -> AccountOut:
    return _operate(request, user_id, unlock_account)


@router.post(
    "/users/{user_id}/disable",
    response={200: AccountOut, **ERRORS},
    summary="Disable an account",
    description="Every session of it ends at once. " + REAUTH_FIRST + ".",
)
def disable(request: HttpRequest, user_id: int) -> AccountOut:
    return _operate(request, user_id, disable_account)


@router.post(
    "/users/{user_id}/enable",
    response={200: AccountOut, **ERRORS},
    summary="Enable an account",
    description=REAUTH_FIRST + ".",
)
def enable(request: HttpRequest, user_id: int) -> AccountOut:
    return _operate(request, user_id, enable_account)


@router.post(
    "/users/{user_id}/reset-authenticator",
    response={200: AccountOut, **ERRORS},
    summary="Reset an account's authenticator",
    description="The person sets up a new one at their next sign-in; their sessions end. "
    + REAUTH_FIRST
    + ".",
)
def reset_mfa(request: HttpRequest, user_id: int) -> AccountOut:
    return _operate(request, user_id, reset_authenticator)


@router.post(
    "/users/{user_id}/set-password",
    response={200: AccountOut, **ERRORS},
    summary="Set an account's password",
    description="Checked against the password rules; the person's sessions end. "
    + REAUTH_FIRST
    + ".",
)
def set_account_password(request: HttpRequest, user_id: int, payload: SetPasswordIn) -> AccountOut:
    actor = actor_of(request)
    target = _target(actor, user_id)
    _require_fresh(request, actor)
    set_password(target, payload.password, actor=actor)
    return account_out(target)
