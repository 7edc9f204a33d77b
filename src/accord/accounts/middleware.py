"""Session limits and the sign-in gate: nothing but the sign-in steps is reachable until a
person has passed the password, the second factor and the logon banner — default deny."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.http import urlencode

from accord.accounts import actions
from accord.accounts.identity import actor_for_user, is_verified
from accord.accounts.models import UserSession

# Paths reachable without a finished sign-in. The API authenticates each request itself.
PUBLIC_PREFIXES = ("/static/", "/api/", "/healthz", "/favicon.ico")
SIGN_IN_STEPS = (
    "accounts:sign-in",
    "accounts:sign-out",
    "accounts:second-factor",
    "accounts:enrol",
    "accounts:banner",
)
ACTIVITY_EVERY_SECONDS = 60


class _Paths:
    @cached_property
    def steps(self) -> dict[str, str]:
        return {name: reverse(name) for name in SIGN_IN_STEPS}


_paths = _Paths()


class SessionPolicyMiddleware:
    """Ends sessions past the absolute limit, or ended elsewhere (another browser, an admin
    disabling the account). Idle expiry is the session cookie age, renewed per request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.actor = SimpleLazyObject(lambda: actor_for_user(request.user, request))  # type: ignore[attr-defined]
        if request.user.is_authenticated:
            expired = self._expired_reason(request)
            if expired:
                actions.expire_session(request, expired, actor=request.actor)  # type: ignore[attr-defined]
                request.actor = actor_for_user(None, request)  # type: ignore[attr-defined]
        return self.get_response(request)

    def _expired_reason(self, request: HttpRequest) -> str | None:
        now = timezone.now().timestamp()
        auth_at = request.session.get(actions.SESSION_AUTH_AT)
        if not auth_at or now - float(auth_at) > settings.SESSION_ABSOLUTE_SECONDS:
            return "absolute_limit"
        if not is_verified(request.user):
            return None  # half signed in: no session record yet
        key = request.session.session_key or ""
        record = (
            UserSession.objects.filter(session_key=key).only("ended_at", "last_seen_at").first()
        )
        if record is None or record.ended_at is not None:
            return "ended_elsewhere"
        if (timezone.now() - record.last_seen_at).total_seconds() > ACTIVITY_EVERY_SECONDS:
            actions.note_session_activity(key, actor=request.actor)  # type: ignore[attr-defined]
        return None


class SignInGateMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path
        if path.startswith(PUBLIC_PREFIXES) or path in _paths.steps.values():
            return self.get_response(request)
        target = self._next_step(request)
        if target is not None:
            if request.headers.get("HX-Request"):
                response = HttpResponse(status=204)
                response["HX-Redirect"] = target
                return response
            return HttpResponseRedirect(target)
        return self.get_response(request)

    def _next_step(self, request: HttpRequest) -> str | None:
        user = request.user
        steps = _paths.steps
        if not user.is_authenticated:
            return f"{steps['accounts:sign-in']}?{urlencode({'next': request.get_full_path()})}"
        if not is_verified(user):
            return steps["accounts:second-factor"]
        if not request.session.get(actions.SESSION_BANNER):
            return steps["accounts:banner"]
        return None
