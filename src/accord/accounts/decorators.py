"""``require_recent_auth``: privileged pages ask for the password and a fresh code first
(OWASP ASVS 3.7.1: re-authenticate before sensitive operations)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from accord.accounts.actions import recently_authenticated

View = Callable[..., HttpResponse]


def safe_next(request: HttpRequest, candidate: str | None, default: str = "") -> str:
    """``candidate`` if it is a local address on this site, else ``default`` (an open
    redirect would let a phishing link bounce off Accord)."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def _come_back_to(request: HttpRequest) -> str:
    # A GET can be repeated after re-authenticating; a POST is not replayed: the person
    # returns to the page the form was on (its ``next`` field) and submits again.
    if request.method == "GET":
        return request.get_full_path()
    return safe_next(request, request.POST.get("next"), reverse("accounts:security"))


def require_recent_auth(view: View) -> View:
    """Let the view run only within ``REAUTH_SECONDS`` of a re-authentication; otherwise
    send the person to the re-authentication page, and back afterwards."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if recently_authenticated(request):
            return view(request, *args, **kwargs)
        target = f"{reverse('accounts:reauth')}?{urlencode({'next': _come_back_to(request)})}"
        messages.info(request, "Confirm it is you: enter your password and a new code.")
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return HttpResponseRedirect(target)

    return wrapper
