"""Clients: the list, taking one on, and the client page — every case of the client across
courts on one screen, upcoming court dates, custody, the team, and what partner agencies
shared about them."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accord.cases import actions
from accord.cases.access import active_on, opens_cases_of
from accord.cases.forms import (
    ClientEditForm,
    ClientFilterForm,
    ClientForm,
    CustodyForm,
    ReleaseForm,
)
from accord.cases.guards import may_change_client
from accord.cases.models import (
    Assignment,
    Case,
    CaseStatus,
    Client,
    CourtEvent,
    CustodyStatus,
    EventStatus,
    Tickler,
    TicklerStatus,
)
from accord.cases.partners.shared import shared_about
from accord.cases.views.common import errors_as_pages, form_page, page_of, reader
from accord.core.access import access_object
from accord.core.actors import Actor
from accord.core.errors import PermissionDenied
from accord.directory.models import Agency
from accord.policy.actions import record_disclosures


@require_GET
@errors_as_pages
def client_list(request: HttpRequest) -> HttpResponse:
    actor = reader(request)
    filters = ClientFilterForm(request.GET or None)
    clients = Client.objects.visible_to(actor)
    searching = False
    if filters.is_valid() and filters.cleaned_data["q"]:
        clients = clients.search(filters.cleaned_data["q"])
        searching = True
    clients = (
        clients.select_related("person")
        .annotate(
            open_cases=Count("cases", filter=Q(cases__status=CaseStatus.OPEN)),
            all_cases=Count("cases"),
        )
        .order_by("person__last_name", "person__first_name", "pk")
    )
    page, numbers = page_of(request, clients)
    return render(
        request,
        "cases/client_list.html",
        {
            "filters": filters,
            "page": page,
            "page_numbers": numbers,
            "searching": searching,
            "can_open": opens_cases_of(actor) is not None,
        },
    )


def _aliases(text: str) -> list[dict[str, str]]:
    """ "Dee Brookes; Darnell B. Brooks" as the people app's alias objects."""
    found = []
    for chunk in text.split(";"):
        words = chunk.split()
        if words:
            found.append(
                {
                    "first_name": words[0] if len(words) > 1 else "",
                    "middle_name": " ".join(words[1:-1]),
                    "last_name": words[-1],
                }
            )
    return found


@require_http_methods(["GET", "POST"])
@errors_as_pages
def client_new(request: HttpRequest) -> HttpResponse:
    actor = reader(request)
    agency_id = opens_cases_of(actor)
    if agency_id is None:
        raise PermissionDenied("Only the office's attorneys and supervisors take on clients.")
    agency = Agency.objects.get(pk=agency_id)

    def save(data: dict[str, Any]) -> tuple[str, str]:
        person = {k: data[k] for k in ("first_name", "middle_name", "last_name", "suffix")}
        person["date_of_birth"] = data["date_of_birth"]
        if data["aliases"]:
            person["aliases"] = _aliases(data["aliases"])
        client = actions.create_client(agency, actor=actor, number=data["number"], **person)
        return reverse("cases:client-detail", args=[client.pk]), (
            f"Client {client.number} taken on. Open a case to check them for conflicts."
        )

    return form_page(
        request,
        ClientForm,
        save=save,
        title="Take on a client",
        back=reverse("cases:client-list"),
        submit="Take on the client",
    )


@require_GET
@errors_as_pages
def client_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = reader(request)
    client: Client = access_object(
        Client.objects.select_related("person", "supervision_agency").prefetch_related(
            "person__aliases"
        ),
        actor,
        pk,
    )
    cases = list(
        Case.objects.visible_to(actor)
        .filter(client=client)
        .select_related("court", "case_type", "warrant_source__source_agency")
        .with_conflict_state()
        .annotate(
            event_count=Count("events", distinct=True),
            charge_count=Count("charges", distinct=True),
        )
        .prefetch_related(
            Prefetch(
                "assignments",
                queryset=Assignment.objects.filter(active_on()).select_related("staff__user"),
                to_attr="current_team",
            )
        )
        .order_by("status", "-opened_on", "-pk")
    )
    now = timezone.now()
    upcoming = list(
        CourtEvent.objects.filter(
            case__in=[c.pk for c in cases], status=EventStatus.SCHEDULED, starts_at__gte=now
        )
        .select_related("case__court")
        .order_by("starts_at", "pk")[:50]
    )
    ticklers = list(
        Tickler.objects.filter(case__in=[c.pk for c in cases], status=TicklerStatus.OPEN)
        .select_related("case")
        .order_by("due_on", "pk")[:50]
    )
    custody = list(CustodyStatus.objects.filter(client=client).order_by("-in_custody_since")[:10])
    open_cases = [c for c in cases if c.status == CaseStatus.OPEN]
    return render(
        request,
        "cases/client_detail.html",
        {
            "client": client,
            "cases": cases,
            "open_count": len(open_cases),
            "upcoming": upcoming,
            "ticklers": ticklers,
            "custody": custody,
            "current_custody": next((c for c in custody if c.in_custody), None),
            "can_open": opens_cases_of(actor) is not None,
            "can_change": may_change_client(client, actor),
            "today": timezone.localdate(),
            **_shared(request, client, cases, actor),
        },
    )


SHARED_PAGE_SIZE = 10


def _shared(
    request: HttpRequest, client: Client, cases: list[Case], actor: Actor
) -> dict[str, Any]:
    """One page of what partner agencies shared about the client, each item with its
    clause; what the page shows is disclosed now, and recorded (docs/policy.md)."""
    paginator = Paginator(shared_about(client, cases, actor), SHARED_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    numbers = list(paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1))
    shown = [d for item in page.object_list for d in item.decisions]
    if shown:
        record_disclosures(shown, actor=actor)
    return {"page": page, "page_numbers": numbers}


def _client_for_change(request: HttpRequest, pk: int) -> tuple[Actor, Client]:
    actor = reader(request)
    client: Client = access_object(Client.objects.select_related("person"), actor, pk)
    if not may_change_client(client, actor):
        raise PermissionDenied("Only the client's team and supervisors change the client.")
    return actor, client


@require_http_methods(["GET", "POST"])
@errors_as_pages
def client_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor, client = _client_for_change(request, pk)

    def save(data: dict[str, Any]) -> tuple[str, str]:
        actions.update_client(client, actor=actor, **data)
        return reverse("cases:client-detail", args=[client.pk]), (
            "Saved. The client's open cases were checked for conflicts again."
        )

    person = client.person
    return form_page(
        request,
        ClientEditForm,
        save=save,
        title=f"Client {client.number}: details",
        back=reverse("cases:client-detail", args=[client.pk]),
        initial={
            "first_name": person.first_name,
            "middle_name": person.middle_name,
            "last_name": person.last_name,
            "suffix": person.suffix,
            "date_of_birth": person.date_of_birth,
        },
    )


@require_http_methods(["GET", "POST"])
@errors_as_pages
def custody_new(request: HttpRequest, pk: int) -> HttpResponse:
    actor, client = _client_for_change(request, pk)

    def save(data: dict[str, Any]) -> tuple[str, str]:
        actions.record_custody(client, actor=actor, **data)
        return reverse("cases:client-detail", args=[client.pk]), "Custody recorded."

    return form_page(
        request,
        CustodyForm,
        save=save,
        title=f"Client {client.number}: in custody",
        back=reverse("cases:client-detail", args=[client.pk]),
        initial={"in_custody_since": timezone.localdate()},
    )


@require_http_methods(["GET", "POST"])
@errors_as_pages
def custody_release(request: HttpRequest, pk: int) -> HttpResponse:
    actor = reader(request)
    custody: CustodyStatus = access_object(
        CustodyStatus.objects.select_related("client"), actor, pk
    )
    _client_for_change(request, custody.client_id)

    def save(data: dict[str, Any]) -> tuple[str, str]:
        actions.record_release(custody, actor=actor, released_on=data["released_on"])
        return reverse("cases:client-detail", args=[custody.client_id]), "Release recorded."

    return form_page(
        request,
        ReleaseForm,
        save=save,
        title=f"Client {custody.client.number}: released",
        back=reverse("cases:client-detail", args=[custody.client_id]),
        initial={"released_on": timezone.localdate()},
    )
