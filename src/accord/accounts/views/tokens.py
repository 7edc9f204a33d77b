"""API tokens for agency systems: listed, created (the plain token shown once), revoked."""

from __future__ import annotations

from datetime import date, datetime, time

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accord.accounts.actions import create_api_token, revoke_api_token
from accord.accounts.decorators import require_recent_auth
from accord.accounts.forms import TokenForm
from accord.accounts.models import ApiToken
from accord.accounts.views.admin import ADMIN_ROLES, PAGE_SIZE
from accord.accounts.views.common import access_or_404, actor
from accord.core.actors import Actor
from accord.core.errors import AccordError, PermissionDenied
from accord.directory.models import Agency


def _require_admin(me: Actor) -> None:
    if not me.has_role(*ADMIN_ROLES):
        raise DjangoPermissionDenied("Only agency administrators and coordinators manage tokens.")


def expiry_of(day: date) -> datetime:
    """A token "expires on" a day: it stops working as that day begins, local time."""
    return timezone.make_aware(datetime.combine(day, time.min))


def filter_tokens(tokens: QuerySet[ApiToken], status: str) -> QuerySet[ApiToken]:
    now = timezone.now()
    if status == "active":
        return tokens.filter(revoked_at__isnull=True, expires_at__gt=now)
    if status == "revoked":
        return tokens.filter(revoked_at__isnull=False)
    if status == "expired":
        return tokens.filter(revoked_at__isnull=True, expires_at__lte=now)
    return tokens


@require_GET
def token_list_view(request: HttpRequest) -> HttpResponse:
    me = actor(request)
    _require_admin(me)
    tokens: QuerySet[ApiToken] = ApiToken.objects.visible_to(me).select_related(
        "agency", "created_by"
    )
    query = request.GET.get("q", "").strip()[:100]
    if query:
        tokens = tokens.filter(
            Q(name__icontains=query) | Q(prefix__iexact=query) | Q(agency__name__icontains=query)
        )
    status = request.GET.get("status", "")
    if status not in ("active", "revoked", "expired"):
        status = ""
    tokens = filter_tokens(tokens, status)
    page = Paginator(tokens.order_by("-created_at", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "accounts/token_list.html",
        {
            "page": page,
            "q": query,
            "status": status,
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
@require_recent_auth
def token_create_view(request: HttpRequest) -> HttpResponse:
    me = actor(request)
    _require_admin(me)
    agencies = Agency.objects.visible_to(me).manageable_by(me).order_by("name")
    form = TokenForm(request.POST or None, agencies=agencies)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            token, plaintext = create_api_token(
                data["agency"],
                data["name"],
                list(data["scopes"]),
                expiry_of(data["expires_on"]),
                actor=me,
            )
        except AccordError as exc:
            exc.errors = [
                {**e, "field": "expires_on"} if e.get("field") == "expires_at" else e
                for e in exc.errors
            ]
            form.add_action_errors(exc)
        else:
            response = render(
                request,
                "accounts/token_created.html",
                {"token": token, "plaintext": plaintext},
            )
            response["Cache-Control"] = "no-store"
            return response
    return render(request, "accounts/token_form.html", {"form": form})


@require_POST
@require_recent_auth
def token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    me = actor(request)
    token: ApiToken = access_or_404(ApiToken.objects, me, token_id)
    try:
        revoke_api_token(token, actor=me)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.detail) from exc
    except AccordError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, f"The token “{token.name}” is revoked: it no longer works.")
    return redirect("accounts:token-list")
