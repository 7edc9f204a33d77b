"""What every case page shares: who is asking, the errors that become 404 and 403, paging,
choice lists, and the one page that shows a form and hands it to an action."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render

from accord.cases.access import reads_cases_of
from accord.cases.models import Case, CaseType
from accord.core.access import access_object
from accord.core.actors import Actor
from accord.core.errors import AccordError, NotFound, PermissionDenied
from accord.directory.forms import show_errors
from accord.directory.models import Agency, AgencyKind

PAGE_SIZE = 25
View = Callable[..., HttpResponse]


def errors_as_pages(view: View) -> View:
    """NotFound answers 404 and PermissionDenied 403, with the site's error pages."""

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


def reader(request: HttpRequest) -> Actor:
    """The actor, if they read the defender's case records at all (403 otherwise)."""
    actor = actor_of(request)
    if reads_cases_of(actor) is None:
        raise PermissionDenied("Case records are kept by the defender's case staff.")
    return actor


def page_of(request: HttpRequest, queryset: QuerySet[Any]) -> tuple[Page[Any], list[Any]]:
    paginator = Paginator(queryset, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    numbers = list(paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1))
    return page, numbers


def case_of(actor: Actor, pk: int) -> Case:
    """One case the actor may read, with what its header shows."""
    case: Case = access_object(
        Case.objects.select_related(
            "client__person", "court", "case_type", "agency", "warrant_source__source_agency"
        ),
        actor,
        pk,
    )
    return case


def court_choices() -> list[tuple[int, str]]:
    return list(
        Agency.objects.filter(kind=AgencyKind.COURT).order_by("name").values_list("pk", "name")
    )


def case_type_choices() -> list[tuple[str, list[tuple[int, str]]]]:
    groups: dict[str, list[tuple[int, str]]] = {}
    for case_type in CaseType.objects.order_by("standard", "-hours_per_case", "code"):
        groups.setdefault(case_type.standard, []).append(
            (case_type.pk, f"{case_type.label} ({case_type.hours_per_case:g} h)")
        )
    # The current national standard first.
    return sorted(groups.items(), key=lambda item: not item[0].startswith("NPDWS"))


def form_page(
    request: HttpRequest,
    form_class: type[forms.Form],
    *,
    save: Callable[[dict[str, Any]], tuple[str, str]],
    title: str,
    back: str,
    case: Case | None = None,
    intro: str = "",
    submit: str = "Save",
    initial: dict[str, Any] | None = None,
    form_kwargs: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
) -> HttpResponse:
    """Show ``form_class``; on a valid POST call ``save(cleaned_data)``, which runs the
    action and returns (where to go, what to say). An action's refusal is shown on the
    form, each field's reason next to it; nothing is saved."""
    kwargs = form_kwargs or {}
    if request.method == "POST":
        form = form_class(request.POST, request.FILES or None, **kwargs)
        if form.is_valid():
            try:
                url, message = save(form.cleaned_data)
            except (NotFound, PermissionDenied):
                raise
            except AccordError as exc:
                show_errors(form, exc)
            else:
                messages.success(request, message)
                return HttpResponseRedirect(url)
    else:
        form = form_class(initial=initial, **kwargs)
    return render(
        request,
        "cases/form.html",
        {
            "form": form,
            "title": title,
            "back": back,
            "case": case,
            "intro": intro,
            "submit": submit,
            "multipart": form.is_multipart(),
            **(context or {}),
        },
    )
