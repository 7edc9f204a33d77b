"""Pages of the decision point: client records as policy lets the reader see them (each
cross-agency row shown is a disclosure), the explain page, the accounting of disclosures,
ethical screens, and the rules in force."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accord.core.access import Purpose, access_object, default_purpose
from accord.core.errors import AccordError, PermissionDenied
from accord.directory.models import Agency, StaffProfile
from accord.policy import actions
from accord.policy.cedar import BASE_POLICIES, Effect
from accord.policy.engine import Resource, decide_many, snapshot
from accord.policy.explain import (
    explain_client,
    explain_record,
    explainable_staff,
    subject_actor,
)
from accord.policy.forms import (
    DisclosureFilterForm,
    ExplainForm,
    LiftScreenForm,
    RecordFilterForm,
    RecordForm,
    ScreenForm,
    show_errors,
)
from accord.policy.models import ClientRecord, Disclosure, EthicalScreen
from accord.policy.notices import PART2_NOTICE
from accord.policy.web import actor_of, errors_as_pages, paginate

SCREEN_MANAGERS = ("supervisor", "agency_admin")


def sees_whole_policy(actor: Any) -> bool:
    """Coordinators and the council's auditors read the compiled policy set in full."""
    return bool(
        actor.is_system
        or (actor.has_role("coordinator") and actor.scopes is None)
        or (
            actor.has_role("auditor")
            and actor.attributes.get("agency_kind") == "coordinating_council"
        )
    )


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    snap = snapshot()
    from accord.agreements.models import Agreement

    mine = set(Agreement.objects.visible_to(actor).values_list("pk", flat=True))
    terms = [t for t in snap.terms if t.agreement_id in mine]
    return render(
        request,
        "policy/overview.html",
        {
            "base_policies": BASE_POLICIES,
            "forbid": Effect.FORBID,
            "terms": terms,
            "policy_text": snap.policy_text if sees_whole_policy(actor) else "",
        },
    )


@require_GET
def record_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    data = request.GET.copy()
    data.setdefault("purpose", default_purpose(actor))
    filters = RecordFilterForm(data)
    records = ClientRecord.objects.none()
    purpose = default_purpose(actor)
    if filters.is_valid():
        purpose = filters.cleaned_data["purpose"]
        records = ClientRecord.objects.visible_to(actor, purpose).select_related("owner")
        if filters.cleaned_data["q"]:
            records = records.filter(client_key__icontains=filters.cleaned_data["q"])
        if filters.cleaned_data["category"]:
            records = records.filter(category=filters.cleaned_data["category"])
    page, numbers = paginate(request, records.order_by("-recorded_at", "-pk"))
    rows = list(page.object_list)
    decisions = decide_many(actor, "view", [Resource.of(r) for r in rows], purpose)
    # What is shown across an agency boundary is disclosed, and recorded, now.
    actions.record_disclosures(decisions, actor=actor)
    shown = list(zip(rows, decisions, strict=True))
    return render(
        request,
        "policy/record_list.html",
        {
            "filters": filters,
            "page": page,
            "page_numbers": numbers,
            "rows": shown,
            "part2_shown": any(d.needs_part2_notice for d in decisions),
            "notice": PART2_NOTICE,
            "purpose_label": Purpose(purpose).label,
            "searching": bool(request.GET.get("q") or request.GET.get("category")),
            "can_register": actor.agency_id is not None and actor.scopes is None,
        },
    )


@require_http_methods(["GET", "POST"])
@errors_as_pages
def record_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if actor.agency_id is None:
        raise PermissionDenied("Only staff of an agency register its records.")
    form = RecordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            owner = Agency.objects.get(pk=actor.agency_id)
            actions.register_record(owner, actor=actor, **form.cleaned_data)
        except AccordError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, "The record was registered.")
            return HttpResponseRedirect(reverse("policy:record-list"))
    return render(request, "policy/record_form.html", {"form": form})


@require_GET
@errors_as_pages
def explain(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    staff = explainable_staff(actor)
    subjects = [
        (p.user_id, f"{p.user.get_full_name() or p.user.username} ({p.agency.short_name})")
        for p in staff
    ]
    agencies = list(Agency.objects.visible_to(actor).values_list("pk", "name"))
    data = request.GET.copy() if request.GET else None
    if data is not None:
        data.setdefault("subject", str(actor.user_id))
        data.setdefault("action", "view")
    form = ExplainForm(
        data,
        subjects=subjects,
        agencies=agencies,
        initial={"subject": actor.user_id, "purpose": default_purpose(actor)},
    )
    rows: list[Any] = []
    subject_label = ""
    if form.is_bound and form.is_valid():
        values = form.cleaned_data
        try:
            subject = subject_actor(actor, values["subject"])
            if values.get("record"):
                rows = explain_record(
                    actor,
                    subject,
                    record_id=values["record"],
                    purpose=values["purpose"],
                    action=values["action"],
                )
                about = f"record {values['record']}"
            else:
                rows = explain_client(
                    subject,
                    owner_id=values["owner"],
                    client_key=values["client_key"],
                    purpose=values["purpose"],
                    action=values["action"],
                )
                about = f"client {values['client_key']} at agency {values['owner']}"
            actions.note_explanation(
                actor=actor, subject=f"{subject.label}: {about}", purpose=values["purpose"]
            )
            subject_label = subject.label
        except AccordError as exc:
            show_errors(form, exc)
            rows = []
    return render(
        request, "policy/explain.html", {"form": form, "rows": rows, "subject_label": subject_label}
    )


@require_GET
def disclosure_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    filters = DisclosureFilterForm(request.GET or None)
    disclosures = Disclosure.objects.visible_to(actor).select_related("discloser", "recipient")
    query = ""
    if filters.is_valid() and filters.cleaned_data["q"]:
        query = filters.cleaned_data["q"].strip()
        disclosures = disclosures.filter(client_key__iexact=query)
    page, numbers = paginate(request, disclosures.order_by("-occurred_at", "-pk"))
    return render(
        request,
        "policy/disclosure_list.html",
        {"filters": filters, "page": page, "page_numbers": numbers, "query": query},
    )


@require_GET
def accounting(request: HttpRequest, client_key: str) -> HttpResponse:
    """A client's accounting of disclosures, printable for the client (42 CFR 2.24)."""
    actor = actor_of(request)
    rows = list(
        Disclosure.objects.visible_to(actor)
        .filter(client_key=client_key)
        .select_related("discloser", "recipient")
        .order_by("occurred_at", "pk")
    )
    actions.note_accounting_viewed(
        actor=actor, client_key=client_key, printed=request.GET.get("print") == "1"
    )
    return render(
        request,
        "policy/accounting.html",
        {
            "client_key": client_key,
            "rows": rows,
            "notice": PART2_NOTICE,
            "part2": any(d.notice for d in rows),
            "printable": request.GET.get("print") == "1",
        },
    )


def _screen_staff_choices(actor: Any) -> list[tuple[int, str]]:
    profiles = StaffProfile.objects.filter(agency_id=actor.agency_id).select_related("user")
    return [
        (p.user_id, p.user.get_full_name() or p.user.username)
        for p in profiles.order_by("user__last_name", "user__first_name")
    ]


@require_http_methods(["GET", "POST"])
@errors_as_pages
def screen_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    can_manage = actor.agency_id is not None and actor.has_role(*SCREEN_MANAGERS)
    form = (
        ScreenForm(request.POST or None, staff=_screen_staff_choices(actor)) if can_manage else None
    )
    if request.method == "POST":
        if form is None:
            raise PermissionDenied("Only a supervisor or administrator sets screens.")
        if form.is_valid():
            from accord.accounts.models import User

            try:
                staff = User.objects.get(pk=form.cleaned_data["staff"])
                actions.screen_staff(
                    staff,
                    actor=actor,
                    client_key=form.cleaned_data["client_key"],
                    reason=form.cleaned_data["reason"],
                )
            except AccordError as exc:
                show_errors(form, exc)
            else:
                messages.success(request, "The screen is in force from now on.")
                return HttpResponseRedirect(reverse("policy:screen-list"))
    screens = EthicalScreen.objects.visible_to(actor).select_related("staff", "agency")
    page, numbers = paginate(request, screens.order_by("-created_at", "-pk"))
    return render(
        request,
        "policy/screen_list.html",
        {"form": form, "page": page, "page_numbers": numbers, "can_manage": can_manage},
    )


@require_POST
@errors_as_pages
def screen_lift(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    screen = access_object(EthicalScreen.objects, actor, pk)
    if not (actor.agency_id == screen.agency_id and actor.has_role(*SCREEN_MANAGERS)):
        raise PermissionDenied("Only a supervisor or administrator of this agency lifts screens.")
    form = LiftScreenForm(request.POST)
    if form.is_valid():
        try:
            actions.lift_screen(screen, actor=actor, reason=form.cleaned_data["reason"])
        except AccordError as exc:
            if isinstance(exc, PermissionDenied):
                raise
            messages.error(request, exc.detail)
        else:
            messages.success(request, "The screen is lifted.")
    else:
        messages.error(request, "Give the reason the screen can be lifted.")
    return HttpResponseRedirect(reverse("policy:screen-list"))
