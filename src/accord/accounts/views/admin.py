"""Account administration: agency administrators manage their own agency's accounts,
coordinators every account (the rule of ``accounts.actions._require_admin_of``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accord.accounts.actions import (
    disable_account,
    enable_account,
    may_administer,
    reset_authenticator,
    set_password,
    unlock_account,
)
from accord.accounts.decorators import require_recent_auth, safe_next
from accord.accounts.forms import SetPasswordForm
from accord.accounts.models import AuthenticatorDevice, SignInFailure, User
from accord.accounts.views.common import actor
from accord.core.actors import Actor
from accord.core.errors import AccordError, PermissionDenied
from accord.directory.models import Role, StaffProfile

PAGE_SIZE = 25
ADMIN_ROLES = (Role.AGENCY_ADMIN, Role.COORDINATOR)

# operation → (action, what to tell the administrator afterwards)
OPERATIONS: dict[str, tuple[Callable[..., Any], str]] = {
    "unlock": (unlock_account, "The account is unlocked: the person can sign in again."),
    "disable": (
        disable_account,
        "The account is disabled and every session of it has been signed out.",
    ),
    "enable": (enable_account, "The account is enabled."),
    "reset-authenticator": (
        reset_authenticator,
        "The authenticator is removed and the person signed out: they set up a new one at "
        "their next sign-in.",
    ),
}


def _require_admin(me: Actor) -> None:
    if not me.has_role(*ADMIN_ROLES):
        raise DjangoPermissionDenied("Only agency administrators and coordinators manage accounts.")


def target_profile(me: Actor, user_id: int) -> StaffProfile:
    """The staff profile of account ``user_id``, through the directory's access rule."""
    profile: StaffProfile | None = (
        StaffProfile.objects.visible_to(me).with_roles().filter(user_id=user_id).first()
    )
    if profile is None:
        raise Http404("No such account.")
    return profile


@require_GET
def user_list_view(request: HttpRequest) -> HttpResponse:
    me = actor(request)
    _require_admin(me)
    profiles = StaffProfile.objects.visible_to(me).manageable_by(me).with_roles()
    if not me.has_role(Role.COORDINATOR):
        profiles = profiles.exclude(role_rows__role=Role.COORDINATOR)
    query = request.GET.get("q", "").strip()[:100]
    if query:
        profiles = profiles.filter(
            Q(user__username__icontains=query)
            | Q(user__first_name__icontains=query)
            | Q(user__last_name__icontains=query)
        )
    status = request.GET.get("status", "")
    if status == "locked":
        profiles = profiles.filter(user__locked_at__isnull=False)
    elif status == "disabled":
        profiles = profiles.filter(user__is_active=False)
    else:
        status = ""
    page = Paginator(
        profiles.order_by("user__last_name", "user__first_name", "user__username"), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/user_list.html",
        {"page": page, "q": query, "status": status},
    )


@never_cache
@require_GET
def user_detail_view(request: HttpRequest, user_id: int) -> HttpResponse:
    me = actor(request)
    profile = target_profile(me, user_id)
    if not may_administer(profile.user, me):
        raise Http404("No such account.")
    since = timezone.now() - timedelta(seconds=settings.LOCKOUT_WINDOW_SECONDS)
    return render(
        request,
        "accounts/user_detail.html",
        {
            "profile": profile,
            "target_user": profile.user,
            "has_authenticator": AuthenticatorDevice.objects.filter(
                user_id=user_id, confirmed=True
            ).exists(),
            "recent_failures": SignInFailure.objects.filter(
                username__iexact=profile.user.username, at__gte=since
            )
            .exclude(stage="name_locked")
            .count(),
        },
    )


def _back(request: HttpRequest, user_id: int) -> str:
    return safe_next(
        request, request.POST.get("next"), reverse("accounts:user-detail", args=[user_id])
    )


@require_POST
@require_recent_auth
def user_operation_view(request: HttpRequest, user_id: int, operation: str) -> HttpResponse:
    if operation not in OPERATIONS:
        raise Http404("No such operation.")
    me = actor(request)
    target: User = target_profile(me, user_id).user
    perform, done = OPERATIONS[operation]
    try:
        perform(target, actor=me)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.detail) from exc
    except AccordError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, done)
    return redirect(_back(request, user_id))


@never_cache
@sensitive_post_parameters("new_password", "new_password_again")
@require_http_methods(["GET", "POST"])
@require_recent_auth
def set_password_view(request: HttpRequest, user_id: int) -> HttpResponse:
    me = actor(request)
    profile = target_profile(me, user_id)
    target: User = profile.user
    if not may_administer(target, me):
        raise DjangoPermissionDenied("Only an administrator of this person's agency can do this.")
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            set_password(target, form.cleaned_data["new_password"], actor=me)
        except AccordError as exc:
            exc.errors = [
                {**e, "field": "new_password"} if e.get("field") == "password" else e
                for e in exc.errors
            ]
            form.add_action_errors(exc, "new_password")
        else:
            messages.success(
                request,
                f"The password of {target.username} is set and their sessions have ended. "
                "Give it to them in person or by phone, never by e-mail.",
            )
            return redirect("accounts:user-detail", user_id=target.pk)
    return render(
        request,
        "accounts/set_password.html",
        {"form": form, "profile": profile, "target_user": target},
    )
