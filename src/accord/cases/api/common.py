"""What every cases endpoint shares: the caller's right to read or write case records."""

from __future__ import annotations

from django.http import HttpRequest

from accord.cases.access import (
    CASES_READ_SCOPE,
    CASES_WRITE_SCOPE,
    reads_cases_of,
    writes_cases_of,
)
from accord.core.actors import Actor
from accord.core.api import actor_of
from accord.core.errors import PermissionDenied


def reader(request: HttpRequest) -> Actor:
    """The caller, if they read the defender's case records (403 otherwise)."""
    actor = actor_of(request)
    if reads_cases_of(actor) is None:
        if actor.scopes is not None and CASES_READ_SCOPE not in actor.scopes:
            raise PermissionDenied(f"This token lacks the scope {CASES_READ_SCOPE}.")
        raise PermissionDenied("Case records are kept by the defender's case staff.")
    return actor


def writer(request: HttpRequest) -> Actor:
    """The caller, if they may change the defender's case records at all (which cases:
    the actions decide)."""
    actor = reader(request)
    if writes_cases_of(actor) is None:
        raise PermissionDenied(f"This token lacks the scope {CASES_WRITE_SCOPE}.")
    return actor


def person(request: HttpRequest) -> Actor:
    """Privileged material is for people on the case's team, never a system's token."""
    actor = reader(request)
    if actor.scopes is not None:
        raise PermissionDenied("Privileged notes and documents are never given to a token.")
    return actor
