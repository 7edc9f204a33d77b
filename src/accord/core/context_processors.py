from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from accord.core.navigation import navigation_for


def _fully_signed_in(request: HttpRequest) -> bool:
    from accord.accounts.actions import SESSION_BANNER
    from accord.accounts.identity import is_verified

    session = getattr(request, "session", None)
    return bool(is_verified(request.user) and session is not None and session.get(SESSION_BANNER))


def accord(request: HttpRequest) -> dict[str, Any]:
    actor = getattr(request, "actor", None)
    # The menu waits for the whole sign-in (password, second factor, banner): someone half
    # signed in sees no map of the system.
    show_nav = actor is not None and _fully_signed_in(request)
    return {
        "ACCORD_MODE": settings.MODE,
        "DEMO": settings.DEMO,
        "nav_items": navigation_for(actor, request.path) if show_nav and actor else [],
        "actor": actor,
    }
