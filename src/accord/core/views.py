"""The home page and the health check."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accord.core.home import home_cards


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    return render(
        request,
        "core/home.html",
        {"cards": home_cards(actor), "since": timezone.now() - timedelta(days=1)},
    )


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
