"""Test personas, signed-in clients, the OpenAPI response check and the permission matrix.

Tests read like ``as_(jail_officer).get(url)`` (Healthchecks' alice/bob, Zulip's iago and
hamlet). Every persona is built through the same actions a coordinator would use.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY

from accord.accounts.actions import SESSION_AUTH_AT, SESSION_BANNER
from accord.accounts.banner import BANNER_SHA256
from accord.accounts.models import AuthenticatorDevice, User, UserSession
from accord.core.actions import action
from accord.core.actors import SYSTEM, Actor
from accord.directory.actions import add_staff, create_agency, create_unit
from accord.directory.models import Agency, StaffProfile

PASSWORD = "correct horse battery staple"  # noqa: S105 - test credential


@dataclass
class County:
    """The agencies and people of the test county, by persona name."""

    agencies: dict[str, Agency]
    people: dict[str, User]

    def __getattr__(self, name: str) -> Any:
        people = self.__dict__.get("people", {})
        if name in people:
            return people[name]
        agencies = self.__dict__.get("agencies", {})
        if name in agencies:
            return agencies[name]
        raise AttributeError(name)


AGENCY_SPECS = {
    "defender": ("Test Public Defender", "TPD", "public_defender"),
    "jail": ("Test County Jail", "TCJ", "jail"),
    "court": ("Test Circuit Court", "TCC", "court"),
    "prosecutor": ("Test District Attorney", "TDA", "prosecutor"),
    "provider": ("Test Treatment Provider", "TTP", "service_provider"),
    "council": ("Test Coordinating Council", "TCCC", "coordinating_council"),
    "outsider_org": ("Unaffiliated Community Group", "UCG", "community_organization"),
}

PERSONA_SPECS: dict[str, tuple[str, tuple[str, ...], dict[str, Any]]] = {
    "defender_attorney": ("defender", ("attorney",), {"bar_number": "T-1001"}),
    "defender_social_worker": ("defender", ("social_worker",), {}),
    "defender_investigator": ("defender", ("investigator",), {}),
    "defender_supervisor": ("defender", ("attorney", "supervisor"), {"bar_number": "T-1002"}),
    "defender_admin": ("defender", ("agency_admin",), {}),
    "defender_auditor": ("defender", ("auditor",), {}),
    "jail_officer": ("jail", ("officer",), {"sworn_officer": True}),
    "jail_admin": ("jail", ("agency_admin",), {}),
    "court_clerk": ("court", ("clerk",), {}),
    "prosecutor": ("prosecutor", ("attorney",), {"bar_number": "T-2001"}),
    "provider_case_worker": ("provider", ("case_worker",), {"part2_program": True}),
    "coordinator": ("council", ("coordinator",), {}),
    "council_auditor": ("council", ("auditor",), {}),
    "outsider": ("outsider_org", ("case_worker",), {}),
}


@action
def enrol_test_authenticator(user: User, *, actor: Actor) -> AuthenticatorDevice:
    device = AuthenticatorDevice(user=user, name="Test authenticator", confirmed=True)
    device.set_key(secrets.token_bytes(20))
    device.save()
    return device


def build_county() -> County:
    agencies = {
        key: create_agency(
            actor=SYSTEM, name=name, short_name=short, kind=kind, jurisdiction="Test County"
        )
        for key, (name, short, kind) in AGENCY_SPECS.items()
    }
    create_unit(agencies["defender"], "Felony Team", actor=SYSTEM)
    people: dict[str, User] = {}
    for username, (agency_key, roles, attributes) in PERSONA_SPECS.items():
        first, _, last = username.partition("_")
        profile = add_staff(
            agencies[agency_key],
            actor=SYSTEM,
            username=username,
            first_name=first.title(),
            last_name=(last or "persona").replace("_", " ").title(),
            email=f"{username}@test.invalid",
            roles=roles,
            password=PASSWORD,
            attributes=attributes,
        )
        enrol_test_authenticator(profile.user, actor=SYSTEM)
        people[username] = profile.user
    return County(agencies=agencies, people=people)


@action
def _force_login(client: Client, user: User, *, actor: Actor) -> None:
    # Django's login signal saves last_login on the (protected) user row.
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")


@action
def _record_session(user: User, session_key: str, *, actor: Actor) -> None:
    UserSession.objects.create(user=user, session_key=session_key, source_ip="127.0.0.1")


def sign_in_directly(client: Client, user: User) -> Client:
    """A client past password, second factor and banner, without spending TOTP codes."""
    from django.utils import timezone

    device = AuthenticatorDevice.objects.get(user=user, confirmed=True)
    _force_login(client, user, actor=SYSTEM)
    session = client.session
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[SESSION_AUTH_AT] = timezone.now().timestamp()
    session[SESSION_BANNER] = BANNER_SHA256
    session.save()
    _record_session(user, str(session.session_key), actor=SYSTEM)
    return client


# --- OpenAPI response validation -------------------------------------------------------------


@cache
def openapi_document() -> dict[str, Any]:
    from accord.core.api import api

    document: dict[str, Any] = json.loads(json.dumps(api.get_openapi_schema(path_prefix="/api/v1")))
    return document


@cache
def _operations() -> list[tuple[re.Pattern[str], str, dict[str, Any]]]:
    found = []
    for template, methods in openapi_document()["paths"].items():
        pattern = re.compile("^" + re.sub(r"\{[^}]+\}", r"[^/]+", template) + "$")
        for method, operation in methods.items():
            found.append((pattern, method.upper(), operation))
    return found


class SchemaMismatch(AssertionError):
    pass


def validate_api_response(method: str, path: str, response: Any) -> None:
    """Fail unless ``response`` is a documented answer of a documented operation."""
    from jsonschema import Draft202012Validator

    path = path.split("?", 1)[0]
    matches = [op for pattern, m, op in _operations() if m == method and pattern.match(path)]
    if not matches:
        raise SchemaMismatch(f"{method} {path} is not in the OpenAPI document")
    responses = matches[0].get("responses", {})
    status = str(response.status_code)
    if status not in responses:
        raise SchemaMismatch(
            f"{method} {path} answered {status}, which its operation does not document "
            f"({', '.join(sorted(responses))})"
        )
    content = responses[status].get("content")
    if not content or response.status_code == 204:
        return
    body = json.loads(response.content)
    media = content.get("application/json") or next(iter(content.values()))
    schema = media.get("schema", {})
    # The operation's schema refers to "#/components/…": give it the document's components
    # at its root so those references resolve.
    resource = {**schema, "components": openapi_document().get("components", {})}
    validator = Draft202012Validator(resource)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    if errors:
        raise SchemaMismatch(
            f"{method} {path} {status} does not match its schema: {errors[0].message} "
            f"at {list(errors[0].path)}"
        )


class ApiClient(Client):
    """A test client whose every /api/ answer is checked against the OpenAPI document."""

    def generic(self, method: str, path: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        response = super().generic(method, path, *args, **kwargs)
        if path.startswith("/api/v1/") and not path.startswith(
            ("/api/v1/docs", "/api/v1/openapi.json")
        ):
            validate_api_response(method.upper(), path, response)
        return response


def as_(user: User | None, *, csrf_checks: bool = False) -> ApiClient:
    client = ApiClient(enforce_csrf_checks=csrf_checks)
    if user is not None:
        sign_in_directly(client, user)
    return client


def with_token(raw_token: str) -> ApiClient:
    return ApiClient(HTTP_AUTHORIZATION=f"Bearer {raw_token}")


# --- the permission matrix (NetBox's utilities/testing/views.py) -----------------------------


def check_matrix(
    county: County,
    method: str,
    url: str,
    expected: Mapping[str | None, int],
    data: Any = None,
) -> None:
    """Ask ``url`` as each persona (None = anonymous) and compare the status codes.

    Pages answer a redirect (302) to sign-in for anonymous people; the API answers 401.
    """
    failures = []
    for persona, status in expected.items():
        user = None if persona is None else county.people[persona]
        client = as_(user)
        kwargs: dict[str, Any] = {}
        if data is not None:
            kwargs = {"data": json.dumps(data), "content_type": "application/json"}
        response = (
            client.generic(method, url, **kwargs)
            if data is not None
            else getattr(client, method.lower())(url)
        )
        if response.status_code != status:
            failures.append(
                f"{persona or 'anonymous'}: expected {status}, got {response.status_code}"
            )
    assert not failures, f"{method} {url}: " + "; ".join(failures)


def profile_of(user: User) -> StaffProfile:
    return StaffProfile.objects.get(user=user)


__all__ = [
    "PASSWORD",
    "ApiClient",
    "County",
    "as_",
    "build_county",
    "check_matrix",
    "settings",
    "sign_in_directly",
    "validate_api_response",
    "with_token",
]
