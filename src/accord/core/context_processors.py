from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from accord.core.navigation import navigation_for


def accord(request: HttpRequest) -> dict[str, Any]:
    actor = getattr(request, "actor", None)
    return {
        "ACCORD_MODE": settings.MODE,
        "DEMO": settings.DEMO,
        "nav_items": navigation_for(actor, request.path) if actor is not None else [],
        "actor": actor,
    }
