"""The case list (an attorney's own cases first, with search and filters) and the case page
(charges, court events, parties, team, custody, ticklers, conflict hits, notes, documents)."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accord.cases import actions
from accord.cases.access import (
    is_supervisor,
    may_change_case,
    may_write_privileged,
    opens_cases_of,
)
from accord.cases.forms import CaseFilterForm, CaseForm, CloseCaseForm, OpenCaseForm, ReasonForm
from accord.cases.guards import is_assigned
from accord.cases.models import (
    Assignment,
    Case,
    CaseNote,
    CaseStatus,
    Charge,
    Client,
    CourtEvent,
    CustodyStatus,
    Document,
    PartnerUpdate,
    Party,
    TeamRole,
    Tickler,
    hits_visible_to,
)
from accord.cases.models.conflicts import unresolved_decisions
from accord.cases.queries import attorneys_of, filtered_cases
from accord.cases.views.common import (
    case_of,
    case_type_choices,
    court_choices,
    errors_as_pages,
    form_page,
    page_of,
    reader,
)
from accord.core.access import access_object
from accord.core.actors import Actor
from accord.core.errors import PermissionDenied
from accord.directory.models import StaffProfile
from accord.people.access import may_clear_or_confirm
from accord.people.models import HitDecision


@require_GET
@errors_as_pages
def case_list(request: HttpRequest) -> HttpResponse:
    actor = reader(request)
    filters = CaseFilterForm(
        request.GET or None, courts=court_choices(), case_types=case_type_choices()
    )
    data = filters.cleaned_data if filters.is_valid() else {}
    page, numbers = page_of(request, filtered_cases(actor, data))
    attorneys = attorneys_of([c.pk for c in page.object_list])
    for case in page.object_list:
        case.attorneys = attorneys.get(case.pk, [])
    searching = any(v for k, v in data.items() if k not in ("scope", "sort"))
    return render(
        request,
        "cases/case_list.html",
        {
            "filters": filters,
            "page": page,
            "page_numbers": numbers,
            "scope": data.get("scope") or "mine",
            "searching": searching,
            "can_open": opens_cases_of(actor) is not None,
        },
    )


def _hits(actor: Actor, case: Case) -> list[Any]:
    hits = list(
        hits_visible_to(actor, case.pk)
        .select_related("record", "candidate__case_subject__party")
        .order_by("candidate__case_subject__party_id", "-score", "pk")
    )
    # Open and flagged hits first: they are what the page asks a lawyer to decide.
    return sorted(hits, key=lambda h: h.decision not in unresolved_decisions())


@require_GET
@errors_as_pages
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = reader(request)
    case = case_of(actor, pk)
    assigned = is_assigned(case, actor)
    privileged = may_write_privileged(actor, case.agency_id, assigned)
    hits = _hits(actor, case)
    unresolved = [h for h in hits if h.decision in unresolved_decisions()]
    confirmed = [h for h in hits if h.decision == HitDecision.CONFIRMED]
    team = list(
        Assignment.objects.filter(case=case).select_related("staff__user").order_by("-starts_on")
    )
    custody = (
        CustodyStatus.objects.filter(client_id=case.client_id).order_by("-in_custody_since").first()
    )
    updates = _partner_updates(actor, case)
    sources = _event_sources(updates)
    events = list(CourtEvent.objects.filter(case=case).order_by("starts_at", "pk"))
    for event in events:
        event.partner_source = sources.get(event.pk)  # type: ignore[attr-defined]
    context = {
        "case": case,
        "charges": list(Charge.objects.filter(case=case).order_by("position")),
        "events": events,
        "parties": list(Party.objects.present().filter(case=case).select_related("person")),
        "team": team,
        "custody": custody,
        "custody_source": next(
            (
                u
                for u in updates
                if custody is not None and u.custody_id == custody.pk and u.changed
            ),
            None,
        ),
        "partner_updates": updates,
        "ticklers": list(
            Tickler.objects.filter(case=case).order_by(
                F("closed_at").asc(nulls_first=True), "due_on", "pk"
            )[:50]
        ),
        "hits": hits,
        "unresolved": unresolved,
        "confirmed": confirmed,
        "can_change": may_change_case(actor, case.agency_id, assigned),
        "can_assign_attorneys": actor.scopes is None and is_supervisor(actor),
        "can_decide": may_clear_or_confirm(actor, flagged=False),
        "privileged": privileged,
        "today": timezone.localdate(),
        "now": timezone.now(),
    }
    if privileged:
        context["notes"] = list(CaseNote.objects.visible_to(actor).filter(case=case))
        context["documents"] = list(Document.objects.visible_to(actor).filter(case=case))
    return render(request, "cases/case_detail.html", context)


# The case page shows the newest partner updates; the full history is in the audit log.
PARTNER_UPDATES_SHOWN = 20


def _partner_updates(actor: Actor, case: Case) -> list[PartnerUpdate]:
    """What partner agencies' events did to this case and its client's custody, newest
    first, each with its source and clause."""
    return list(
        PartnerUpdate.objects.visible_to(actor)
        .filter(Q(case=case) | Q(client_id=case.client_id, case__isnull=True))
        .select_related("source_agency")
        .order_by("-occurred_at", "-pk")[:PARTNER_UPDATES_SHOWN]
    )


def _event_sources(updates: list[PartnerUpdate]) -> dict[int, PartnerUpdate]:
    """For each court setting a partner event changed, the newest such change."""
    sources: dict[int, PartnerUpdate] = {}
    for update in updates:
        if update.court_event_id is not None and update.changed:
            sources.setdefault(update.court_event_id, update)
    return sources


@require_http_methods(["GET", "POST"])
@errors_as_pages
def case_new(request: HttpRequest, client_pk: int) -> HttpResponse:
    actor = reader(request)
    if opens_cases_of(actor) is None:
        raise PermissionDenied("Only the office's attorneys and supervisors open cases.")
    client: Client = access_object(Client.objects.select_related("person"), actor, client_pk)
    attorneys = [
        (p.pk, str(p.user.get_full_name() or p.user.username))
        for p in StaffProfile.objects.filter(
            agency_id=client.agency_id, role_rows__role=TeamRole.ATTORNEY, user__is_active=True
        ).select_related("user")
    ]

    def save(data: dict[str, Any]) -> tuple[str, str]:
        case = actions.open_case(
            client,
            actor=actor,
            number=data["number"],
            court=data["court"],
            case_type=data["case_type"],
            opened_on=data["opened_on"],
            attorney=data["attorney"],
            charges=[{k: data[k] for k in ("statute", "description", "level", "degree")}],
        )
        return reverse("cases:case-detail", args=[case.pk]), (
            f"Case {case.number} opened. The client was checked for conflicts; add the "
            "other parties to check them too."
        )

    return form_page(
        request,
        OpenCaseForm,
        save=save,
        title=f"Open a case for client {client.number}",
        intro=f"{client.person.full_name}. Opening the case checks the client against every "
        "current and former client and party of the office.",
        back=reverse("cases:client-detail", args=[client.pk]),
        submit="Open the case",
        initial={"opened_on": timezone.localdate()},
        form_kwargs={
            "courts": court_choices(),
            "case_types": case_type_choices(),
            "attorneys": attorneys,
        },
    )


def _changeable(request: HttpRequest, pk: int) -> tuple[Actor, Case]:
    actor = reader(request)
    case = case_of(actor, pk)
    if not may_change_case(actor, case.agency_id, is_assigned(case, actor)):
        raise PermissionDenied("Only the case's team and the office's supervisors change it.")
    return actor, case


@require_http_methods(["GET", "POST"])
@errors_as_pages
def case_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor, case = _changeable(request, pk)

    def save(data: dict[str, Any]) -> tuple[str, str]:
        actions.update_case(case, actor=actor, **data)
        return reverse("cases:case-detail", args=[case.pk]), "The case is saved."

    return form_page(
        request,
        CaseForm,
        save=save,
        title="Case details",
        case=case,
        back=reverse("cases:case-detail", args=[case.pk]),
        initial={
            "number": case.number,
            "court": case.court_id,
            "case_type": case.case_type_id,
            "opened_on": case.opened_on,
        },
        form_kwargs={"courts": court_choices(), "case_types": case_type_choices()},
    )


@require_http_methods(["GET", "POST"])
@errors_as_pages
def case_close(request: HttpRequest, pk: int) -> HttpResponse:
    actor, case = _changeable(request, pk)
    if case.status == CaseStatus.CLOSED:
        return _reopen(request, actor, case)

    def save(data: dict[str, Any]) -> tuple[str, str]:
        actions.close_case(case, actor=actor, **data)
        return reverse("cases:case-detail", args=[case.pk]), (
            "The case is closed; its client and parties are now former."
        )

    today = timezone.localdate()
    return form_page(
        request,
        CloseCaseForm,
        save=save,
        title="Close the case",
        case=case,
        back=reverse("cases:case-detail", args=[case.pk]),
        submit="Close the case",
        initial={"disposition_on": today, "closed_on": today},
    )


def _reopen(request: HttpRequest, actor: Actor, case: Case) -> HttpResponse:
    def save(data: dict[str, Any]) -> tuple[str, str]:
        actions.reopen_case(case, actor=actor, reason=data["reason"])
        return reverse("cases:case-detail", args=[case.pk]), "The case is open again."

    return form_page(
        request,
        ReasonForm,
        save=save,
        title="Reopen the case",
        case=case,
        back=reverse("cases:case-detail", args=[case.pk]),
        submit="Reopen the case",
    )
