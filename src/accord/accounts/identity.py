"""Turning a signed-in user or an API token into the :class:`Actor` that actions receive."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accord.accounts.models import ApiToken, User
from accord.core.actors import ANONYMOUS, Actor
from accord.core.middleware import client_ip
from accord.directory.models import StaffProfile


def _request_meta(request: HttpRequest | None) -> tuple[str, str | None]:
    if request is None:
        return "", None
    return getattr(request, "request_id", ""), client_ip(request) or None


def actor_for_user(user: Any, request: HttpRequest | None = None) -> Actor:
    request_id, ip = _request_meta(request)
    if user is None or not user.is_authenticated:
        return ANONYMOUS.within(request_id, ip)
    profile = (
        StaffProfile.objects.select_related("agency")
        .prefetch_related("role_rows")
        .filter(user_id=user.pk)
        .first()
    )
    if profile is None:
        return Actor(label=user.username, user_id=user.pk, request_id=request_id, source_ip=ip)
    attributes = dict(profile.attributes)
    attributes["agency_kind"] = profile.agency.kind
    attributes["agency_suspended"] = profile.agency.is_suspended
    return Actor(
        label=user.username,
        user_id=user.pk,
        agency_id=profile.agency_id,
        roles=profile.roles,
        attributes=attributes,
        request_id=request_id,
        source_ip=ip,
    )


def actor_for_token(token: ApiToken, request: HttpRequest | None = None) -> Actor:
    request_id, ip = _request_meta(request)
    return Actor(
        label=f"token:{token.prefix}",
        token_id=token.pk,
        agency_id=token.agency_id,
        attributes={
            "agency_kind": token.agency.kind,
            "agency_suspended": token.agency.is_suspended,
        },
        scopes=frozenset(token.scopes),
        request_id=request_id,
        source_ip=ip,
    )


def actor_for_username(username: str) -> Actor:
    """For management commands that act as a named person (``--as``)."""
    return actor_for_user(User.objects.get(username=username))


def is_verified(user: Any) -> bool:
    """Past the second factor (django-otp's OTPMiddleware sets ``is_verified``)."""
    check = getattr(user, "is_verified", None)
    return bool(check()) if callable(check) else False
