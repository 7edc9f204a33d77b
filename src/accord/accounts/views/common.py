"""What the pages of accounts share: the refusal texts, the lockout page, and lookups."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from accord.accounts.banner import BANNER_PARAGRAPHS, BANNER_TITLE
from accord.accounts.forms import SignInForm
from accord.core.access import access_object
from accord.core.actors import Actor
from accord.core.errors import NotFound

# The same words whether the account exists, is disabled, or the password is wrong, so
# the page never tells which user names exist.
REFUSED_MESSAGE = "The user name or password is not correct."
LOCKED_MESSAGE = (
    "This account is locked after too many failed sign-ins. "
    "Ask your agency administrator to unlock it."
)
SESSION_NEXT = "accord_next"


def actor(request: HttpRequest) -> Actor:
    found: Actor = request.actor  # type: ignore[attr-defined]
    return found


def banner_context() -> dict[str, Any]:
    return {"banner_title": BANNER_TITLE, "banner_paragraphs": BANNER_PARAGRAPHS}


def render_sign_in(
    request: HttpRequest,
    form: SignInForm | None = None,
    *,
    error: str = "",
    next_url: str = "",
    status: int = 200,
) -> HttpResponse:
    from accord.accounts.views.sign_in import demo_accounts, demo_codes_enabled

    context: dict[str, Any] = {
        "form": form or SignInForm(),
        "error": error,
        "next": next_url,
        "show_demo_codes": demo_codes_enabled(),
        **banner_context(),
    }
    if context["show_demo_codes"]:
        from accord.demo.accounts import DEMO_PASSWORD

        context["demo_accounts"] = demo_accounts()
        context["demo_password"] = DEMO_PASSWORD
    return render(request, "accounts/sign_in.html", context, status=status)


def render_locked(request: HttpRequest) -> HttpResponse:
    """The lockout answer, on the sign-in page (the session has already been ended)."""
    return render_sign_in(request, error=LOCKED_MESSAGE)


def access_or_404(queryset: Any, who: Actor, pk: Any) -> Any:
    """``access_object`` for pages: not found and not allowed both answer 404."""
    try:
        return access_object(queryset, who, pk)
    except NotFound as exc:
        raise Http404(exc.detail) from exc
