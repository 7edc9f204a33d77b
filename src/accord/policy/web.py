"""Small helpers the pages of the policy, consent and agreements apps share."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse

from accord.core.actors import Actor
from accord.core.errors import NotFound, PermissionDenied

PAGE_SIZE = 25
View = Callable[..., HttpResponse]


def errors_as_pages(view: View) -> View:
    """NotFound and PermissionDenied from access or an action become the 404 and 403 pages."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.detail) from exc
        except PermissionDenied as exc:
            raise DjangoPermissionDenied(exc.detail) from exc

    return wrapper


def actor_of(request: HttpRequest) -> Actor:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    return actor


def paginate(
    request: HttpRequest, queryset: QuerySet[Any], size: int = PAGE_SIZE
) -> tuple[Page[Any], list[Any]]:
    paginator = Paginator(queryset, size)
    page = paginator.get_page(request.GET.get("page"))
    numbers = list(paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1))
    return page, numbers
