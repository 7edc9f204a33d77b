"""Pages of the directory: agencies, their units and the partnership's staff.

Thin by design: every read goes through ``visible_to`` / ``access_object``, every change
through an action, and an action's refusal is shown on the form it came from.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.paginator import Page
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template import TemplateDoesNotExist
from django.template.loader import select_template
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from accord.accounts.decorators import require_recent_auth
from accord.core.access import access_object
from accord.core.actors import Actor
from accord.core.errors import AccordError, InvalidInput, PermissionDenied
from accord.core.pages import actor_of, errors_as_pages, paginate
from accord.directory import actions
from accord.directory.forms import (
    AddStaffForm,
    AgencyFilterForm,
    AgencyForm,
    StaffDetailsForm,
    StaffFilterForm,
    SuspendForm,
    UnitForm,
    show_errors,
)
from accord.directory.models import (
    Agency,
    Role,
    StaffAttribute,
    StaffProfile,
    Unit,
    may_manage_agency,
    may_manage_all,
)

PAGE_SIZE = 25
# How many of an agency's staff its page lists before linking to the full staff list.
AGENCY_PAGE_STAFF = 50
ADMIN_ACTIONS_TEMPLATE = "accounts/_admin_actions.html"

View = Callable[..., HttpResponse]


def _page(request: HttpRequest, queryset: QuerySet[Any]) -> tuple[Page[Any], list[Any]]:
    return paginate(request, queryset, PAGE_SIZE)


def _require_coordinator(actor: Actor) -> None:
    if not may_manage_all(actor):
        raise PermissionDenied("Only a coordinator can do this.")


def _require_manager(actor: Actor, agency_id: int) -> None:
    if not may_manage_agency(actor, agency_id):
        raise PermissionDenied("Only a coordinator or this agency's administrator can do this.")


# --- agencies ------------------------------------------------------------------------------


@require_GET
def agency_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    filters = AgencyFilterForm(request.GET or None)
    agencies = Agency.objects.visible_to(actor)
    searching = False
    if filters.is_valid():
        data = filters.cleaned_data
        agencies = agencies.search(data["q"])
        if data["kind"]:
            agencies = agencies.filter(kind=data["kind"])
        if data["status"]:
            agencies = agencies.filter(status=data["status"])
        searching = any(data.values())
    elif filters.is_bound:
        agencies = agencies.none()
        searching = True
    agencies = agencies.annotate(staff_count=Count("staff")).order_by("name", "pk")
    page, numbers = _page(request, agencies)
    return render(
        request,
        "directory/agency_list.html",
        {
            "filters": filters,
            "page": page,
            "page_numbers": numbers,
            "searching": searching,
            "can_create": may_manage_all(actor),
        },
    )


@require_GET
@errors_as_pages
def agency_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    agency = access_object(Agency.objects, actor, pk)
    units = list(
        Unit.objects.visible_to(actor)
        .filter(agency=agency)
        .annotate(staff_count=Count("staff"))
        .order_by("name")
    )
    staff_qs = StaffProfile.objects.visible_to(actor).with_roles().filter(agency=agency)
    staff_total = staff_qs.count()
    staff = list(staff_qs.order_by("user__last_name", "user__first_name", "pk")[:AGENCY_PAGE_STAFF])
    return render(
        request,
        "directory/agency_detail.html",
        {
            "agency": agency,
            "units": units,
            "staff": staff,
            "staff_total": staff_total,
            "staff_more": staff_total > len(staff),
            "can_manage": may_manage_agency(actor, agency.pk),
            "is_coordinator": may_manage_all(actor),
        },
    )


@require_http_methods(["GET", "POST"])
@errors_as_pages
def agency_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    _require_coordinator(actor)
    form = AgencyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            agency = actions.create_agency(actor=actor, **form.cleaned_data)
        except AccordError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, f"{agency.name} was added to the partnership.")
            return HttpResponseRedirect(reverse("directory:agency-detail", args=[agency.pk]))
    return render(request, "directory/agency_form.html", {"form": form, "agency": None})


@require_http_methods(["GET", "POST"])
@errors_as_pages
def agency_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    agency = access_object(Agency.objects, actor, pk)
    _require_manager(actor, agency.pk)
    coordinator = may_manage_all(actor)
    initial = {name: getattr(agency, name) for name in actions.AGENCY_FIELDS}
    form = AgencyForm(request.POST or None, initial=initial, coordinator=coordinator)
    if request.method == "POST" and form.is_valid():
        editable = actions.AGENCY_FIELDS if coordinator else actions.AGENCY_CONTACT_FIELDS
        values = {name: form.cleaned_data[name] for name in editable}
        try:
            actions.update_agency(agency, actor=actor, **values)
        except AccordError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, "The agency's details were saved.")
            return HttpResponseRedirect(reverse("directory:agency-detail", args=[agency.pk]))
    return render(request, "directory/agency_form.html", {"form": form, "agency": agency})


@require_http_methods(["GET", "POST"])
@errors_as_pages
def agency_suspend(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    agency = access_object(Agency.objects, actor, pk)
    # Who may is checked before asking for a fresh sign-in: a refusal needs no password.
    _require_coordinator(actor)
    return _agency_suspend_confirmed(request, agency)


@require_recent_auth
def _agency_suspend_confirmed(request: HttpRequest, agency: Agency) -> HttpResponse:
    actor = actor_of(request)
    form = SuspendForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.suspend_agency(agency, form.cleaned_data["reason"], actor=actor)
        except AccordError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, f"{agency.name} is suspended: nothing flows to it.")
            return HttpResponseRedirect(reverse("directory:agency-detail", args=[agency.pk]))
    return render(request, "directory/agency_suspend.html", {"form": form, "agency": agency})


@require_http_methods(["GET", "POST"])
@errors_as_pages
def agency_reinstate(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    agency = access_object(Agency.objects, actor, pk)
    _require_coordinator(actor)
    return _agency_reinstate_confirmed(request, agency)


# Reinstating re-opens every data flow the suspension closed: as privileged as suspending.
@require_recent_auth
def _agency_reinstate_confirmed(request: HttpRequest, agency: Agency) -> HttpResponse:
    actor = actor_of(request)
    error = None
    if request.method == "POST":
        try:
            actions.reinstate_agency(agency, actor=actor)
        except AccordError as exc:
            error = exc.detail
        else:
            messages.success(request, f"{agency.name} is reinstated.")
            return HttpResponseRedirect(reverse("directory:agency-detail", args=[agency.pk]))
    return render(request, "directory/agency_reinstate.html", {"agency": agency, "error": error})


# --- units ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@errors_as_pages
def unit_create(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    agency = access_object(Agency.objects, actor, pk)
    _require_manager(actor, agency.pk)
    form = UnitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            unit = actions.create_unit(
                agency,
                form.cleaned_data["name"],
                form.cleaned_data["description"],
                actor=actor,
            )
        except AccordError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, f"The unit {unit.name} was added.")
            return HttpResponseRedirect(reverse("directory:agency-detail", args=[agency.pk]))
    return render(
        request, "directory/unit_form.html", {"form": form, "agency": agency, "unit": None}
    )


@require_http_methods(["GET", "POST"])
@errors_as_pages
def unit_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    unit = access_object(Unit.objects.select_related("agency"), actor, pk)
    _require_manager(actor, unit.agency_id)
    form = UnitForm(
        request.POST or None, initial={"name": unit.name, "description": unit.description}
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_unit(
                unit, form.cleaned_data["name"], form.cleaned_data["description"], actor=actor
            )
        except AccordError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, "The unit was saved.")
            return HttpResponseRedirect(reverse("directory:agency-detail", args=[unit.agency_id]))
    return render(
        request, "directory/unit_form.html", {"form": form, "agency": unit.agency, "unit": unit}
    )


# --- staff ---------------------------------------------------------------------------------


def _agency_choices(queryset: QuerySet[Agency]) -> list[tuple[int, str]]:
    return list(queryset.order_by("name").values_list("pk", "name"))


@require_GET
def staff_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    filters = StaffFilterForm(
        request.GET or None, agencies=_agency_choices(Agency.objects.visible_to(actor))
    )
    staff = StaffProfile.objects.visible_to(actor)
    searching = False
    if filters.is_valid():
        data = filters.cleaned_data
        staff = staff.search(data["q"], actor=actor)
        if data["agency"]:
            staff = staff.filter(agency_id=data["agency"])
        if data["role"]:
            staff = staff.filter(role_rows__role=data["role"])
        searching = any(data.values())
    elif filters.is_bound:
        staff = staff.none()
        searching = True
    staff = staff.with_roles().order_by("user__last_name", "user__first_name", "pk")
    page, numbers = _page(request, staff)
    return render(
        request,
        "directory/staff_list.html",
        {
            "filters": filters,
            "page": page,
            "page_numbers": numbers,
            "searching": searching,
            "can_add": Agency.objects.manageable_by(actor).exists(),
        },
    )


def _has_admin_actions() -> bool:
    # The account actions fragment belongs to accounts; the page must not depend on it.
    try:
        select_template([ADMIN_ACTIONS_TEMPLATE])
    except TemplateDoesNotExist:
        return False
    return True


@require_GET
@errors_as_pages
def staff_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    profile = access_object(StaffProfile.objects.with_roles(), actor, pk)
    can_manage = may_manage_agency(actor, profile.agency_id)
    attributes = [
        (StaffAttribute(name).label if name in StaffAttribute.values else name, value)
        for name, value in sorted(profile.attributes.items())
    ]
    return render(
        request,
        "directory/staff_detail.html",
        {
            "profile": profile,
            "attributes": attributes,
            "can_manage": can_manage,
            "admin_actions": can_manage and _has_admin_actions(),
        },
    )


def _wanted_unit(form: StaffDetailsForm, units: list[Unit]) -> Unit | None:
    chosen = form.cleaned_data.get("unit")
    if chosen is None:
        return None
    for unit in units:
        if unit.pk == chosen:
            return unit
    raise InvalidInput(
        "Choose a unit of the person's agency.",
        errors=[{"field": "unit", "reason": "not a unit of this person's agency"}],
    )


@require_http_methods(["GET", "POST"])
@errors_as_pages
def staff_add(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    manageable = Agency.objects.manageable_by(actor)
    agencies = _agency_choices(manageable)
    if not agencies:
        raise PermissionDenied("Only a coordinator or an agency administrator can add staff.")
    units = list(
        Unit.objects.visible_to(actor)
        .filter(agency__in=manageable)
        .select_related("agency")
        .order_by("agency__name", "name")
    )
    initial: dict[str, Any] = {}
    wanted_agency = request.GET.get("agency", "")
    if wanted_agency.isdigit():
        initial["agency"] = int(wanted_agency)
    form = AddStaffForm(
        request.POST or None,
        initial=initial,
        agencies=agencies,
        units=units,
        grouped_units=len(agencies) > 1,
        coordinator=may_manage_all(actor),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            agency = access_object(Agency.objects, actor, data["agency"])
            unit = _wanted_unit(form, [u for u in units if u.agency_id == agency.pk])
            profile = actions.add_staff(
                agency,
                actor=actor,
                username=data["username"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                roles=data["roles"],
                password=data["password"] or None,
                unit=unit,
                title=data["title"],
                phone=data["phone"],
                attributes=form.attributes(),
            )
        except AccordError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, f"{profile.user.get_full_name()} was added.")
            return HttpResponseRedirect(reverse("directory:staff-detail", args=[profile.pk]))
    return render(request, "directory/staff_form.html", {"form": form, "profile": None})


@require_http_methods(["GET", "POST"])
@errors_as_pages
def staff_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    profile = access_object(StaffProfile.objects.with_roles(), actor, pk)
    _require_manager(actor, profile.agency_id)
    coordinator = may_manage_all(actor)
    units = list(Unit.objects.visible_to(actor).filter(agency_id=profile.agency_id))
    form = StaffDetailsForm(
        request.POST or None,
        initial=StaffDetailsForm.initial_for(profile),
        units=units,
        coordinator=coordinator,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        roles = set(data["roles"])
        if not coordinator and Role.COORDINATOR in profile.roles:
            # The box is not shown to them; keeping the role is not their decision to undo.
            roles.add(Role.COORDINATOR)
        try:
            unit = _wanted_unit(form, units)
            actions.update_staff(
                profile,
                actor=actor,
                title=data["title"],
                phone=data["phone"],
                unit=unit,
                clear_unit=unit is None,
                roles=roles,
                attributes=form.attributes(),
            )
        except AccordError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, "The staff member's details were saved.")
            return HttpResponseRedirect(reverse("directory:staff-detail", args=[profile.pk]))
    return render(request, "directory/staff_form.html", {"form": form, "profile": profile})
