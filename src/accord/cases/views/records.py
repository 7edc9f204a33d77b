"""The forms that change a case's parts: charges, court events and their outcomes,
parties, the team, and ticklers written by hand."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accord.cases import actions
from accord.cases.access import is_supervisor, may_change_case
from accord.cases.forms import (
    AssignmentForm,
    ChargeEditForm,
    ChargeForm,
    EventForm,
    OutcomeForm,
    PartyForm,
    ReasonForm,
    TicklerForm,
)
from accord.cases.guards import is_assigned
from accord.cases.models import Assignment, Case, Charge, CourtEvent, Party, TeamRole
from accord.cases.views.common import case_of, errors_as_pages, form_page, reader
from accord.core.access import access_object
from accord.core.actors import Actor
from accord.core.errors import AccordError, NotFound, PermissionDenied
from accord.directory.models import StaffProfile


def changeable_case(request: HttpRequest, pk: int) -> tuple[Actor, Case]:
    """The case, if the actor may change it: 404 when they may not see it, 403 when they
    may see but not change it."""
    actor = reader(request)
    case = case_of(actor, pk)
    if not may_change_case(actor, case.agency_id, is_assigned(case, actor)):
        raise PermissionDenied("Only the case's team and the office's supervisors change it.")
    return actor, case


def _part(request: HttpRequest, model: Any, pk: int) -> tuple[Actor, Any, Case]:
    """One part of a case (a charge, an event…) and its case, if the actor may change it."""
    actor = reader(request)
    row = access_object(model.objects.select_related("case"), actor, pk)
    _actor, case = changeable_case(request, row.case_id)
    return actor, row, case


def _back(case: Case, anchor: str) -> str:
    return reverse("cases:case-detail", args=[case.pk]) + f"#{anchor}"


# --- charges ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@errors_as_pages
def charge_new(request: HttpRequest, pk: int) -> HttpResponse:
    actor, case = changeable_case(request, pk)

    def save(data: dict[str, Any]) -> tuple[str, str]:
        actions.add_charge(case, actor=actor, **data)
        return _back(case, "charges"), "Charge added."

    return form_page(
        request,
        ChargeForm,
        save=save,
        title="Add a charge",
        case=case,
        back=_back(case, "charges"),
        initial={"counts": 1},
    )


@require_http_methods(["GET", "POST"])
@errors_as_pages
def charge_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor, charge, case = _part(request, Charge, pk)

    def save(data: dict[str, Any]) -> tuple[str, str]:
        actions.update_charge(charge, actor=actor, **data)
        return _back(case, "charges"), "Charge saved."

    return form_page(
        request,
        ChargeEditForm,
        save=save,
        title=f"Charge {charge.position}",
        case=case,
        back=_back(case, "charges"),
        intro="Recording a disposition sets off the office's rules for it (e.g. the appeal "
        "deadline after a conviction).",
        initial={
            name: getattr(charge, name)
            for name in (
                "statute",
                "description",
                "level",
                "degree",
                "counts",
                "disposition",
                "disposition_on",
            )
        },
    )


# --- court events ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@errors_as_pages
def event_new(request: HttpRequest, pk: int) -> HttpResponse:
    actor, case = changeable_case(request, pk)

    def save(data: dict[str, Any]) -> tuple[str, str]:
        actions.schedule_event(case, actor=actor, **data)
        return _back(case, "events"), "Court date scheduled."

    return form_page(
        request,
        EventForm,
        save=save,
        title="Schedule a court date",
        case=case,
        back=_back(case, "events"),
    )


@require_http_methods(["GET", "POST"])
@errors_as_pages
def event_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor, event, case = _part(request, CourtEvent, pk)

    def save(data: dict[str, Any]) -> tuple[str, str]:
        actions.update_event(event, actor=actor, **data)
        return _back(case, "events"), "Court date saved."

    return form_page(
        request,
        EventForm,
        save=save,
        title="Change a court date",
        case=case,
        back=_back(case, "events"),
        initial={
            "kind": event.kind,
            "starts_at": timezone.localtime(event.starts_at).replace(tzinfo=None),
            "courtroom": event.courtroom,
        },
    )


@require_http_methods(["GET", "POST"])
@errors_as_pages
def event_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    actor, event, case = _part(request, CourtEvent, pk)

    def save(data: dict[str, Any]) -> tuple[str, str]:
        actions.record_event_outcome(event, actor=actor, **data)
        return _back(case, "events"), "Outcome recorded."

    return form_page(
        request,
        OutcomeForm,
        save=save,
        title=f"Outcome of the {event.get_kind_display().lower()}",
        case=case,
        back=_back(case, "events"),
        intro=f"Set for {timezone.localtime(event.starts_at):%Y-%m-%d %H:%M}.",
    )


# --- parties ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@errors_as_pages
def party_new(request: HttpRequest, pk: int) -> HttpResponse:
    actor, case = changeable_case(request, pk)

    def save(data: dict[str, Any]) -> tuple[str, str]:
        party = actions.add_party(case, actor=actor, **data)
        return _back(case, "conflicts"), (
            f"{party.role_label} added and checked for conflicts against the whole office."
        )

    return form_page(
        request,
        PartyForm,
        save=save,
        title="Add a party",
        case=case,
        back=_back(case, "parties"),
        intro="Co-defendants, victims, witnesses and informants are checked against every "
        "current and former client and party of the office before they are recorded.",
    )


@require_http_methods(["GET", "POST"])
@errors_as_pages
def party_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor, party, case = _part(request, Party, pk)
    if party.removed_at is not None:
        raise NotFound("This party was removed from the case.")

    def save(data: dict[str, Any]) -> tuple[str, str]:
        actions.update_party(party, actor=actor, **data)
        return _back(case, "conflicts"), "Party saved and checked for conflicts again."

    person = party.person
    return form_page(
        request,
        PartyForm,
        save=save,
        title="Change a party",
        case=case,
        back=_back(case, "parties"),
        initial={
            "role": party.role,
            "first_name": person.first_name,
            "middle_name": person.middle_name,
            "last_name": person.last_name,
            "date_of_birth": person.date_of_birth,
        },
    )


@require_POST
@errors_as_pages
def party_remove(request: HttpRequest, pk: int) -> HttpResponse:
    actor, party, case = _part(request, Party, pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why the party is removed.")
    else:
        try:
            actions.remove_party(party, actor=actor, reason=form.cleaned_data["reason"])
        except (NotFound, PermissionDenied):
            raise
        except AccordError as exc:
            messages.error(request, exc.detail)
        else:
            messages.success(request, "Party removed; their part in the case is kept as former.")
    return HttpResponseRedirect(_back(case, "parties"))


# --- team ------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@errors_as_pages
def assignment_new(request: HttpRequest, pk: int) -> HttpResponse:
    actor, case = changeable_case(request, pk)
    roles = {TeamRole.INVESTIGATOR, TeamRole.SOCIAL_WORKER}
    if is_supervisor(actor):
        roles.add(TeamRole.ATTORNEY)
    staff = [
        (p.pk, f"{p.user.get_full_name() or p.user.username} ({', '.join(p.role_labels)})")
        for p in StaffProfile.objects.filter(
            agency_id=case.agency_id, role_rows__role__in=roles, user__is_active=True
        )
        .select_related("user")
        .prefetch_related("role_rows")
        .distinct()
    ]

    def save(data: dict[str, Any]) -> tuple[str, str]:
        actions.assign(
            case,
            data["staff"],
            data["role"],
            actor=actor,
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
        )
        return _back(case, "team"), "Assigned. The case was checked for conflicts again."

    return form_page(
        request,
        AssignmentForm,
        save=save,
        title="Assign to the case",
        case=case,
        back=_back(case, "team"),
        intro="Supervisors assign attorneys; the case's attorney brings in investigators and "
        "social workers.",
        initial={"starts_on": timezone.localdate()},
        form_kwargs={"staff": staff},
    )


@require_POST
@errors_as_pages
def assignment_end(request: HttpRequest, pk: int) -> HttpResponse:
    actor, assignment, case = _part(request, Assignment, pk)
    try:
        actions.end_assignment(assignment, actor=actor)
    except (NotFound, PermissionDenied):
        raise
    except AccordError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, "Taken off the case from today.")
    return HttpResponseRedirect(_back(case, "team"))


# --- ticklers by hand ------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@errors_as_pages
def tickler_new(request: HttpRequest, pk: int) -> HttpResponse:
    actor, case = changeable_case(request, pk)

    def save(data: dict[str, Any]) -> tuple[str, str]:
        actions.add_tickler(case, actor=actor, **data)
        return _back(case, "ticklers"), "Tickler added."

    return form_page(
        request,
        TicklerForm,
        save=save,
        title="Add a tickler",
        case=case,
        back=_back(case, "ticklers"),
    )
