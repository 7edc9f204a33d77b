"""Pages of consents: the list, recording (every 42 CFR 2.31(a) element, with the missing
ones named), the consent with its checklist, revocation and the end by event."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accord.consent import actions
from accord.consent.elements import ELEMENTS, GENERAL_ELEMENTS, missing_elements
from accord.consent.forms import ConsentFilterForm, ConsentForm, EndForm, RevokeForm
from accord.consent.models import CONSENT_ROLES, Consent, ConsentStatus
from accord.core.access import access_object
from accord.core.errors import AccordError, PermissionDenied
from accord.directory.models import Agency
from accord.policy.forms import show_errors
from accord.policy.notices import PART2_NOTICE
from accord.policy.vocabulary import ConsentKind
from accord.policy.web import actor_of, errors_as_pages, paginate


def _may_record(actor: Any) -> bool:
    return actor.agency_id is not None and actor.scopes is None and actor.has_role(*CONSENT_ROLES)


def _may_revoke(actor: Any, consent: Consent) -> bool:
    """The recording agency, or a named discloser, records a revocation or an end."""
    if not _may_record(actor):
        return False
    if consent.recorded_by_id == actor.agency_id:
        return True
    return consent.disclosers.filter(pk=actor.agency_id).exists()


def _require(allowed: bool) -> None:
    # Who may is decided before the form is read: a refusal does not depend on the input.
    if not allowed:
        raise PermissionDenied("Only the recording agency or a named discloser can do this.")


def _agencies(actor: Any) -> list[tuple[int, str]]:
    return list(Agency.objects.visible_to(actor).values_list("pk", "name"))


@require_GET
def consent_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    filters = ConsentFilterForm(request.GET or None)
    consents = Consent.objects.visible_to(actor).select_related("recorded_by")
    searching = False
    if filters.is_valid():
        data = filters.cleaned_data
        if data["q"]:
            consents = consents.filter(
                Q(client_key__icontains=data["q"]) | Q(client_name__icontains=data["q"])
            )
        if data["kind"]:
            consents = consents.filter(kind=data["kind"])
        if data["status"]:
            consents = consents.filter(status=data["status"])
        searching = any(data.values())
    page, numbers = paginate(request, consents.order_by("-created_at", "-pk"))
    return render(
        request,
        "consent/consent_list.html",
        {
            "filters": filters,
            "page": page,
            "page_numbers": numbers,
            "searching": searching,
            "can_record": _may_record(actor),
        },
    )


@require_http_methods(["GET", "POST"])
@errors_as_pages
def consent_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if not _may_record(actor):
        raise PermissionDenied("Only staff who take consents with clients record them.")
    form = ConsentForm(
        request.POST or None,
        agencies=_agencies(actor),
        initial={"recipients": [], "disclosers": []},
    )
    if request.method == "POST" and form.is_valid():
        activate = "activate" in request.POST
        try:
            consent = actions.record_consent(actor=actor, activate=activate, **form.values())
        except AccordError as exc:
            show_errors(form, exc)
        else:
            messages.success(
                request,
                "The consent is in force." if activate else "The consent was saved as a draft.",
            )
            return HttpResponseRedirect(reverse("consent:detail", args=[consent.pk]))
    return render(request, "consent/consent_form.html", {"form": form, "consent": None})


@require_http_methods(["GET", "POST"])
@errors_as_pages
def consent_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    consent = access_object(Consent.objects, actor, pk)
    if not _may_record(actor) or consent.recorded_by_id != actor.agency_id:
        raise PermissionDenied("Only the recording agency changes a consent.")
    initial = actions.current_values(consent)
    initial["disclosers"] = [str(v) for v in initial["disclosers"]]
    initial["recipients"] = [str(v) for v in initial["recipients"]]
    form = ConsentForm(request.POST or None, agencies=_agencies(actor), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_consent(consent, actor=actor, **form.values())
            if "activate" in request.POST:
                actions.activate_consent(consent, actor=actor)
        except AccordError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, "The consent was saved.")
            return HttpResponseRedirect(reverse("consent:detail", args=[consent.pk]))
    return render(request, "consent/consent_form.html", {"form": form, "consent": consent})


def checklist(consent: Consent) -> list[dict[str, Any]]:
    """Each required element and whether the consent has it (42 CFR 2.31(a))."""
    terms = actions.terms_of(consent)
    missing = {m.field for m in missing_elements(terms)}
    needed = ELEMENTS.keys() if consent.kind != ConsentKind.GENERAL else GENERAL_ELEMENTS
    return [
        {"citation": e.citation, "words": e.words, "present": e.field not in missing}
        for name, e in ELEMENTS.items()
        if name in needed
    ]


@require_GET
@errors_as_pages
def consent_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    consent = access_object(Consent.objects.select_related("recorded_by"), actor, pk)
    is_recorder = _may_record(actor) and consent.recorded_by_id == actor.agency_id
    may_revoke = _may_revoke(actor, consent)
    return render(
        request,
        "consent/consent_detail.html",
        {
            "consent": consent,
            "checklist": checklist(consent),
            "disclosers": list(consent.disclosers.all()),
            "recipients": list(consent.recipients.all()),
            "is_recorder": is_recorder,
            "may_revoke": may_revoke
            and consent.status in (ConsentStatus.ACTIVE, ConsentStatus.DRAFT),
            "may_end": may_revoke and consent.status == ConsentStatus.ACTIVE,
            "revoke_form": RevokeForm(),
            "end_form": EndForm(),
            "notice": PART2_NOTICE,
        },
    )


def _after(request: HttpRequest, consent: Consent, done: str) -> HttpResponse:
    messages.success(request, done)
    return HttpResponseRedirect(reverse("consent:detail", args=[consent.pk]))


@require_POST
@errors_as_pages
def consent_activate(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    consent = access_object(Consent.objects, actor, pk)
    _require(_may_record(actor) and consent.recorded_by_id == actor.agency_id)
    try:
        actions.activate_consent(consent, actor=actor)
    except AccordError as exc:
        if isinstance(exc, PermissionDenied):
            raise
        messages.error(request, exc.detail)
        return HttpResponseRedirect(reverse("consent:detail", args=[consent.pk]))
    return _after(request, consent, "The consent is in force.")


@require_POST
@errors_as_pages
def consent_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    consent = access_object(Consent.objects, actor, pk)
    _require(_may_revoke(actor, consent))
    form = RevokeForm(request.POST)
    if form.is_valid():
        try:
            actions.revoke_consent(consent, actor=actor, **form.cleaned_data)
        except AccordError as exc:
            if isinstance(exc, PermissionDenied):
                raise
            messages.error(request, exc.detail)
        else:
            return _after(
                request,
                consent,
                "The consent is revoked: nothing more flows under "
                "it from now on. What was disclosed before stays on record.",
            )
    else:
        messages.error(request, "Say how the client revoked.")
    return HttpResponseRedirect(reverse("consent:detail", args=[consent.pk]))


@require_POST
@errors_as_pages
def consent_end(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    consent = access_object(Consent.objects, actor, pk)
    _require(_may_revoke(actor, consent))
    form = EndForm(request.POST)
    if form.is_valid():
        try:
            actions.end_consent(consent, actor=actor, note=form.cleaned_data["note"])
        except AccordError as exc:
            if isinstance(exc, PermissionDenied):
                raise
            messages.error(request, exc.detail)
        else:
            return _after(request, consent, "The consent has ended.")
    else:
        messages.error(request, "Say what happened.")
    return HttpResponseRedirect(reverse("consent:detail", args=[consent.pk]))
