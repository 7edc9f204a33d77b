"""The home page and the health check."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accord.core.home import home_context


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    return render(request, "core/home.html", home_context(actor))


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def _api_problem(request: HttpRequest, status: int, title: str, detail: str) -> HttpResponse | None:
    if not request.path.startswith("/api/"):
        return None
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, "errors": []}
    return JsonResponse(body, status=status, content_type="application/problem+json")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 for pages and problem details for the API (handler404)."""
    problem = _api_problem(request, 404, "Not found", f"No such resource: {request.path}")
    return problem or render(request, "404.html", status=404)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    problem = _api_problem(request, 403, "Forbidden", "Not allowed.")
    return problem or render(request, "403.html", status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    problem = _api_problem(request, 500, "Server error", "Something went wrong; it was logged.")
    return problem or render(request, "500.html", status=500)
