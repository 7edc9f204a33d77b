"""The sign-in steps: password, second factor (or first enrolment), the system-use notice;
signing out; re-authenticating before privileged work. CJIS 5.5.3 to 5.5.5, 5.6.2.2."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import segno
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from accord.accounts.actions import (
    SESSION_BANNER,
    SESSION_PENDING_DEVICE,
    SignInResult,
    acknowledge_banner,
    begin_enrolment,
    confirm_enrolment,
    reauthenticate,
    sign_in_with_password,
    sign_out,
    verify_second_factor,
)
from accord.accounts.decorators import safe_next
from accord.accounts.forms import EnrolForm, ReauthForm, SecondFactorForm, SignInForm
from accord.accounts.identity import is_verified
from accord.accounts.models import AuthenticatorDevice, User
from accord.accounts.views.common import (
    LOCKED_MESSAGE,
    REFUSED_MESSAGE,
    SESSION_NEXT,
    actor,
    banner_context,
    render_locked,
    render_sign_in,
)
from accord.core.errors import AccordError
from accord.directory.models import Role

DEMO_CODES_PART = "demo-codes"


def _home() -> str:
    return reverse("core:home")


def _fully_signed_in(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_authenticated and is_verified(user) and request.session.get(SESSION_BANNER))


# --- demo mode: the accounts and their current codes ------------------------------------------


def demo_codes_enabled() -> bool:
    """Demo mode only: production can never show a second factor on a public page."""
    return bool(settings.DEMO_SHOW_CODES) and not settings.PRODUCTION


@dataclass(frozen=True)
class DemoAccount:
    username: str
    name: str
    roles: str
    agency: str
    code: str


def demo_accounts() -> list[DemoAccount]:
    if not demo_codes_enabled():
        return []
    devices = (
        AuthenticatorDevice.objects.filter(user__is_demo=True, user__is_active=True, confirmed=True)
        .select_related("user__staff__agency")
        .prefetch_related("user__staff__role_rows")
        .order_by("user__username")
    )
    shown = []
    for device in devices:
        user: User = device.user
        profile = user.profile
        roles = (
            ", ".join(sorted(Role(r.role).label for r in profile.role_rows.all()))
            if profile
            else ""
        )
        shown.append(
            DemoAccount(
                username=user.username,
                name=user.get_full_name(),
                roles=roles,
                agency=profile.agency.short_name if profile else "",
                code=device.current_code(),
            )
        )
    return shown


def _demo_codes(request: HttpRequest) -> HttpResponse:
    if not demo_codes_enabled():
        raise Http404("Not found.")
    response = render(request, "accounts/_demo_codes.html", {"demo_accounts": demo_accounts()})
    response["Cache-Control"] = "no-store"
    return response


# --- step 1: password -------------------------------------------------------------------------


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def sign_in_view(request: HttpRequest) -> HttpResponse:
    if request.method == "GET" and request.GET.get("part") == DEMO_CODES_PART:
        return _demo_codes(request)
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if _fully_signed_in(request):
        return redirect(next_url or _home())
    if request.method == "GET":
        return render_sign_in(request, next_url=next_url)
    form = SignInForm(request.POST)
    if not form.is_valid():
        return render_sign_in(request, form, next_url=next_url)
    username = form.cleaned_data["username"]
    result = sign_in_with_password(
        request, username, form.cleaned_data["password"], actor=actor(request)
    )
    if result in (SignInResult.NEEDS_SECOND_FACTOR, SignInResult.NEEDS_ENROLMENT):
        request.session[SESSION_NEXT] = next_url
        step = "second-factor" if result is SignInResult.NEEDS_SECOND_FACTOR else "enrol"
        return redirect(f"accounts:{step}")
    # Keep the name typed, never the password.
    again = SignInForm(initial={"username": username})
    error = LOCKED_MESSAGE if result is SignInResult.LOCKED else REFUSED_MESSAGE
    return render_sign_in(request, again, error=error, next_url=next_url)


# --- step 2: second factor --------------------------------------------------------------------


def _after_second_factor(request: HttpRequest) -> HttpResponse:
    return redirect("accounts:banner")


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def second_factor_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not isinstance(user, User):
        return redirect("accounts:sign-in")
    if is_verified(user):
        return _after_second_factor(request)
    if not AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists():
        return redirect("accounts:enrol")
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = verify_second_factor(request, form.cleaned_data["code"], actor=actor(request))
        if result is None:
            return _after_second_factor(request)
        if result is SignInResult.LOCKED:
            return render_locked(request)
        if result is SignInResult.NEEDS_ENROLMENT:
            return redirect("accounts:enrol")
        form.add_error(
            "code",
            "That code is not correct. Use the code your app shows now; a recovery code "
            "works only once.",
        )
    return render(request, "accounts/second_factor.html", {"form": form})


# --- first sign-in: enrolling an authenticator ------------------------------------------------


def otpauth_uri(device: AuthenticatorDevice, username: str) -> str:
    """The key URI authenticator apps read (Google Authenticator's Key Uri Format)."""
    label = quote(f"{settings.OTP_TOTP_ISSUER}:{username}")
    query = urlencode({"secret": base32_secret(device), "issuer": settings.OTP_TOTP_ISSUER})
    return f"otpauth://totp/{label}?{query}"


def base32_secret(device: AuthenticatorDevice) -> str:
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def qr_data_uri(text: str) -> str:
    """An SVG QR code as a data: URI (the CSP allows img-src data:, never inline script)."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", scale=5, border=2, xmldecl=False)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _pending_device(request: HttpRequest, user: User) -> AuthenticatorDevice:
    """The unconfirmed authenticator of this sign-in, so reloading the page keeps the secret
    the person may already have scanned."""
    pending_id = request.session.get(SESSION_PENDING_DEVICE)
    device = None
    if pending_id is not None:
        device = AuthenticatorDevice.objects.filter(
            pk=pending_id, user=user, confirmed=False
        ).first()
    if device is None:
        device = begin_enrolment(user, actor=actor(request))
        request.session[SESSION_PENDING_DEVICE] = device.pk
    return device


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def enrol_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not isinstance(user, User):
        return redirect("accounts:sign-in")
    if AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists():
        return redirect("accounts:banner" if is_verified(user) else "accounts:second-factor")
    device = _pending_device(request, user)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = confirm_enrolment(
                request, device, form.cleaned_data["code"], actor=actor(request)
            )
        except AccordError as exc:
            form.add_action_errors(exc, "code")
        else:
            if isinstance(result, list):
                request.session.pop(SESSION_PENDING_DEVICE, None)
                return render(
                    request,
                    "accounts/recovery_codes.html",
                    {"codes": result, "continue_url": reverse("accounts:banner")},
                )
            if result is SignInResult.LOCKED:
                return render_locked(request)
            form.add_error("code", "That code is not correct. Enter the code your app shows now.")
    uri = otpauth_uri(device, user.username)
    secret = base32_secret(device)
    return render(
        request,
        "accounts/enrol.html",
        {
            "form": form,
            "qr": qr_data_uri(uri),
            "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
            "secret": secret,
            "issuer": settings.OTP_TOTP_ISSUER,
        },
    )


# --- step 3: the system-use notice -------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def banner_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not isinstance(user, User):
        return redirect("accounts:sign-in")
    if not is_verified(user):
        return redirect("accounts:second-factor")
    if request.method == "POST":
        acknowledge_banner(request, actor=actor(request))
        next_url = safe_next(request, request.session.pop(SESSION_NEXT, ""), _home())
        return redirect(next_url)
    return render(request, "accounts/banner.html", banner_context())


# --- signing out ------------------------------------------------------------------------------


@require_POST
def sign_out_view(request: HttpRequest) -> HttpResponse:
    sign_out(request, actor=actor(request))
    messages.success(request, "You have signed out.")
    return redirect("accounts:sign-in")


# --- re-authentication ------------------------------------------------------------------------


@never_cache
@sensitive_post_parameters("password", "code")
@require_http_methods(["GET", "POST"])
def reauth_view(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(
        request,
        request.POST.get("next") or request.GET.get("next"),
        reverse("accounts:security"),
    )
    form = ReauthForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ok = reauthenticate(
            request,
            form.cleaned_data["password"],
            form.cleaned_data["code"],
            actor=actor(request),
        )
        if ok:
            return redirect(next_url)
        if not request.user.is_authenticated:
            return render_locked(request)  # this failure locked the account
        form.add_error(None, "The password or the code is not correct.")
    return render(request, "accounts/reauth.html", {"form": form, "next": next_url})
