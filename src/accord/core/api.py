"""The API shell: /api/v1/ with token and session authentication, RFC 9457 problem
details for every error, strict input schemas and cursor pagination. Each app adds its
router in ``ROUTERS`` below."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.pagination import CursorPagination
from ninja.security import APIKeyCookie, HttpBearer
from pydantic import ConfigDict

from accord.core.actors import Actor
from accord.core.errors import AccordError, PermissionDenied

PROBLEM_TYPE = "https://accord.invalid/problems/"


class StrictSchema(Schema):
    """Input schema that rejects unknown fields (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid")


class FieldError(Schema):
    field: str
    reason: str


class Problem(Schema):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] = []


# Every operation declares these, so that every answer the API gives is in the schema.
ERRORS: dict[int, Any] = {
    400: Problem,
    401: Problem,
    403: Problem,
    404: Problem,
    409: Problem,
    422: Problem,
}


class AccordCursorPagination(CursorPagination):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("ordering", ("-id",))
        kwargs.setdefault("page_size", settings.NINJA_PAGINATION_PER_PAGE)
        kwargs.setdefault("max_page_size", settings.NINJA_PAGINATION_MAX_LIMIT)
        super().__init__(**kwargs)


class TokenAuth(HttpBearer):
    """``Authorization: Bearer acc_<prefix>_<secret>`` — an agency system's token."""

    openapi_description = "An agency API token, created by an agency administrator."

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        from accord.accounts.actions import authenticate_token
        from accord.accounts.identity import actor_for_token, actor_for_user

        anonymous = actor_for_user(None, request)
        found = authenticate_token(token, actor=anonymous)
        if found is None:
            return None
        request.actor = actor_for_token(found, request)  # type: ignore[attr-defined]
        return found


class FullSessionAuth(APIKeyCookie):
    """The browser session, only once fully signed in (second factor and banner passed).
    Unsafe methods also need the CSRF token, as for any form."""

    param_name = settings.SESSION_COOKIE_NAME
    openapi_description = "A signed-in browser session (send X-CSRFToken on writes)."

    def __init__(self) -> None:
        super().__init__()
        self.csrf = True

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        from accord.accounts.actions import SESSION_BANNER
        from accord.accounts.identity import actor_for_user, is_verified

        user = request.user
        if not (user.is_authenticated and is_verified(user)):
            return None
        if not request.session.get(SESSION_BANNER):
            return None
        request.actor = actor_for_user(user, request)  # type: ignore[attr-defined]
        return user


def actor_of(request: HttpRequest) -> Actor:
    actor = getattr(request, "actor", None)
    if not isinstance(actor, Actor):
        raise PermissionDenied("Not signed in.")
    return actor


def require_scope(request: HttpRequest, scope: str) -> Actor:
    actor = actor_of(request)
    if not actor.has_scope(scope):
        raise PermissionDenied(f"This token lacks the scope {scope}.")
    return actor


api = NinjaAPI(
    title="Accord API",
    version="1",
    description=(
        "Agreements, secure data sharing, shared case management and coordination for a "
        "public defender and its partner agencies. Every error is an RFC 9457 problem."
    ),
    urls_namespace="api",
    auth=[TokenAuth(), FullSessionAuth()],
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def _problem(
    request: HttpRequest, status: int, title: str, detail: str, errors: list[dict[str, str]]
) -> HttpResponse:
    body = {
        "type": PROBLEM_TYPE + title.lower().replace(" ", "-"),
        "title": title,
        "status": status,
        "detail": detail,
        "errors": errors,
    }
    response = api.create_response(request, body, status=status)
    response["Content-Type"] = "application/problem+json"
    return response


@api.exception_handler(AccordError)
def _accord_error(request: HttpRequest, exc: AccordError) -> HttpResponse:
    return _problem(request, exc.status, exc.title, exc.detail, exc.errors)


def _field_name(loc: Any) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "payload", "data")]
    return ".".join(parts) or "body"


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {"field": _field_name(e.get("loc", ())), "reason": str(e.get("msg", ""))}
        for e in exc.errors
    ]
    detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
    return _problem(request, 422, "Invalid input", detail, errors)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _problem(
        request,
        401,
        "Unauthorized",
        "Send a valid API token (Authorization: Bearer …) or sign in.",
        [],
    )
    response["WWW-Authenticate"] = 'Bearer realm="accord"'
    return response


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _problem(request, exc.status_code, "Error", str(exc), [])


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _problem(request, 404, "Not found", str(exc) or "Not found.", [])


def register_routers() -> None:
    from accord.accounts.api import router as accounts_router
    from accord.audit.api import router as audit_router
    from accord.directory.api import router as directory_router

    api.add_router("/directory", directory_router)
    api.add_router("/accounts", accounts_router)
    api.add_router("/audit", audit_router)

    from accord.agreements.api import router as agreements_router
    from accord.consent.api import router as consent_router
    from accord.policy.api import router as policy_router

    api.add_router("/policy", policy_router)
    api.add_router("/consents", consent_router)
    api.add_router("/agreements", agreements_router)

    from accord.people.api import router as people_router

    api.add_router("/people", people_router)

    from accord.cases.api import router as cases_router

    api.add_router("/cases", cases_router)

    from accord.exchange.api import events_router
    from accord.exchange.api import router as exchange_router

    api.add_router("/events", events_router)
    api.add_router("/exchange", exchange_router)


register_routers()
