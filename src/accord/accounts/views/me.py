"""My account: my live sessions, changing my password, my authenticator and recovery codes."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from accord.accounts.actions import (
    change_password,
    end_session,
    regenerate_recovery_codes,
    sign_out,
)
from accord.accounts.decorators import require_recent_auth
from accord.accounts.forms import ChangePasswordForm, password_rules
from accord.accounts.models import AuthenticatorDevice, RecoveryCode, User, UserSession
from accord.accounts.views.common import access_or_404, actor
from accord.core.errors import AccordError


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # the sign-in gate lets only signed-in people here
    return user


def _security_context(request: HttpRequest, password_form: ChangePasswordForm) -> dict[str, Any]:
    user = _user(request)
    me = actor(request)
    sessions = list(UserSession.objects.visible_to(me).live().order_by("-last_seen_at"))
    return {
        "sessions": sessions,
        "current_key": request.session.session_key,
        "password_form": password_form,
        "password_rules": password_rules(),
        "device": AuthenticatorDevice.objects.filter(user=user, confirmed=True).first(),
        "recovery_left": RecoveryCode.objects.filter(user=user, used_at__isnull=True).count(),
        "is_admin": me.has_role("agency_admin", "coordinator"),
    }


@never_cache
@require_GET
def security_view(request: HttpRequest) -> HttpResponse:
    return render(
        request, "accounts/security.html", _security_context(request, ChangePasswordForm())
    )


@never_cache
@sensitive_post_parameters("current_password", "new_password", "new_password_again")
@require_POST
def change_password_view(request: HttpRequest) -> HttpResponse:
    form = ChangePasswordForm(request.POST)
    if form.is_valid():
        try:
            ended = change_password(
                _user(request),
                form.cleaned_data["current_password"],
                form.cleaned_data["new_password"],
                actor=actor(request),
                request=request,
            )
        except AccordError as exc:
            errors = [
                {**e, "field": "new_password"} if e.get("field") == "password" else e
                for e in exc.errors
            ]
            exc.errors = errors
            form.add_action_errors(exc, "new_password")
        else:
            note = f" {ended} other session(s) were signed out." if ended else ""
            messages.success(request, "Your password has been changed." + note)
            return redirect("accounts:security")
    return render(request, "accounts/security.html", _security_context(request, form), status=200)


@require_POST
def end_session_view(request: HttpRequest, session_id: int) -> HttpResponse:
    me = actor(request)
    record: UserSession = access_or_404(UserSession.objects.live(), me, session_id)
    if record.session_key == request.session.session_key:
        sign_out(request, actor=me)
        messages.success(request, "You have signed out.")
        return redirect("accounts:sign-in")
    try:
        end_session(record, actor=me)
    except AccordError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, "That session has been ended and signed out.")
    return redirect("accounts:security")


@never_cache
@require_POST
@require_recent_auth
def recovery_codes_view(request: HttpRequest) -> HttpResponse:
    codes = regenerate_recovery_codes(_user(request), actor=actor(request))
    return render(
        request,
        "accounts/recovery_codes.html",
        {"codes": codes, "renewed": True, "continue_url": reverse("accounts:security")},
    )
