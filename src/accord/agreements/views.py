"""Pages of agreements: the list with upcoming reviews, drafting, the editor of terms,
obligations and escalation as tables, parties and signatories, the signing flow (after
re-authentication), the dry run, the side-by-side diff of versions, the agreement page
with its terms in plain language and its compiled policy text, and the compliance overview
where administrators acknowledge breach alerts."""

from __future__ import annotations

import difflib
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accord.accounts.decorators import require_recent_auth
from accord.agreements import actions
from accord.agreements.content import content_hash, rendered_text
from accord.agreements.dryrun import dry_run
from accord.agreements.forms import (
    AgreementCreateForm,
    AgreementFilterForm,
    AttestForm,
    ObligationForm,
    PartyForm,
    ReasonForm,
    SignForm,
    StepForm,
    TermForm,
    VersionForm,
)
from accord.agreements.measurement import compliance, this_month
from accord.agreements.models import (
    IN_FORCE_STATUSES,
    Agreement,
    AgreementParty,
    AgreementVersion,
    BreachAlert,
    BreachAlertState,
    Obligation,
    ObligationMeasure,
    PartyRole,
    Reminder,
    VersionStatus,
)
from accord.core.access import access_object
from accord.core.actors import Actor
from accord.core.errors import AccordError, NotFound, PermissionDenied
from accord.directory.models import Agency, StaffProfile
from accord.policy.cedar import compile_term
from accord.policy.forms import show_errors
from accord.policy.web import actor_of, errors_as_pages, paginate

UPCOMING_DAYS = 60
ALERTS_SHOWN = 20
CLOCKED = (ObligationMeasure.EVENT_DELIVERED, ObligationMeasure.REQUEST_ANSWERED)
# What the compliance page says when no alert is in the chosen state.
EMPTY_ALERTS: dict[str, str] = {
    BreachAlertState.OPEN: "No open breach alerts: every alert raised has been acknowledged, "
    "or none was raised.",
    BreachAlertState.ACKNOWLEDGED: "No acknowledged breach alerts yet.",
    BreachAlertState.ALL: "No breach alerts: every measured occurrence so far was on time or "
    "is still within its deadline.",
}
# Who sees the compliance overview: the council's coordinators (every agreement), the
# parties' administrators and auditors (their own agreements).
OVERSIGHT_ROLES = ("coordinator", "agency_admin", "auditor")


def may_manage(actor: Actor, agreement: Agreement | None = None) -> bool:
    try:
        actions.require_manager(
            agreement, actor, [actor.agency_id] if agreement is None and actor.agency_id else []
        )
    except PermissionDenied:
        return False
    return True


def _agreement(request: HttpRequest, pk: int) -> Agreement:
    return access_object(Agreement.objects, actor_of(request), pk)  # type: ignore[no-any-return]


def _version(agreement: Agreement, number: int) -> AgreementVersion:
    version = agreement.versions.filter(number=number).first()
    if version is None:
        raise NotFound(f"No version {number}.")
    return version


def _parties(agreement: Agreement) -> list[tuple[int, str]]:
    return [
        (p.agency_id, p.agency.name)
        for p in agreement.parties.select_related("agency").order_by("agency__name")
    ]


@require_GET
def agreement_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    filters = AgreementFilterForm(request.GET or None)
    agreements = Agreement.objects.visible_to(actor)
    searching = False
    if filters.is_valid():
        data = filters.cleaned_data
        if data["q"]:
            agreements = agreements.filter(
                Q(reference__icontains=data["q"]) | Q(title__icontains=data["q"])
            )
        if data["status"]:
            agreements = agreements.filter(status=data["status"])
        if data["kind"]:
            agreements = agreements.filter(kind=data["kind"])
        searching = any(data.values())
    agreements = agreements.prefetch_related(
        Prefetch("parties", queryset=AgreementParty.objects.select_related("agency")),
        Prefetch("versions", queryset=AgreementVersion.objects.order_by("-number")),
    ).order_by("reference", "pk")
    page, numbers = paginate(request, agreements)
    today = timezone.localdate()
    horizon = today + timedelta(days=UPCOMING_DAYS)
    visible = Agreement.objects.visible_to(actor).values("pk")
    upcoming = list(
        AgreementVersion.objects.filter(agreement__in=visible, status=VersionStatus.ACTIVE)
        .filter(Q(review_on__range=(today, horizon)) | Q(expires_on__range=(today, horizon)))
        .select_related("agreement")
        .order_by("expires_on")[:20]
    )
    reminders = list(
        Reminder.objects.filter(version__agreement__in=visible)
        .select_related("version__agreement")
        .order_by("-sent_at")[:10]
    )
    return render(
        request,
        "agreements/agreement_list.html",
        {
            "filters": filters,
            "page": page,
            "page_numbers": numbers,
            "searching": searching,
            "can_create": may_manage(actor),
            "upcoming": upcoming,
            "reminders": reminders,
            "today": today,
        },
    )


@require_http_methods(["GET", "POST"])
@errors_as_pages
def agreement_create(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    if not may_manage(actor):
        raise PermissionDenied("Only a coordinator or an agency administrator drafts agreements.")
    agencies = list(Agency.objects.visible_to(actor).values_list("pk", "name"))
    form = AgreementCreateForm(request.POST or None, agencies=agencies)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        chosen = {a.pk: a for a in Agency.objects.filter(pk__in=[int(p) for p in data["parties"]])}
        try:
            agreement = actions.create_agreement(
                actor=actor,
                reference=data["reference"],
                title=data["title"],
                kind=data["kind"],
                effective_on=data["effective_on"],
                expires_on=data["expires_on"],
                review_on=data["review_on"],
                body=data["body"],
                parties=[(a, PartyRole.MUTUAL) for a in chosen.values()],
            )
        except AccordError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, "The draft agreement was created: add its terms.")
            return HttpResponseRedirect(reverse("agreements:edit", args=[agreement.pk, 1]))
    return render(request, "agreements/agreement_form.html", {"form": form})


def _month(obligation: Obligation) -> str:
    """This month's headline of a clocked obligation ("97.8% on time this month (45 of
    46), median 2 min"); attested and reported ones are counted per period instead."""
    if obligation.measure not in CLOCKED:
        return ""
    return this_month(obligation).headline("this month")


def _shown_version(agreement: Agreement, number: str | None) -> AgreementVersion | None:
    if number and number.isdigit():
        return _version(agreement, int(number))
    return agreement.version_in_force() or agreement.latest_version()


@require_GET
@errors_as_pages
def agreement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    agreement = _agreement(request, pk)
    version = _shown_version(agreement, request.GET.get("version"))
    assert version is not None
    terms = list(version.terms.select_related("discloser", "recipient", "version__agreement"))
    obligations = list(version.obligations.select_related("party", "counterparty"))
    parties = list(agreement.parties.select_related("agency", "signatory").order_by("agency__name"))
    signatures = {s.party_id: s for s in version.signatures.filter(voided_at__isnull=True)}
    manager = may_manage(actor, agreement)
    in_force = version.status == VersionStatus.ACTIVE
    return render(
        request,
        "agreements/agreement_detail.html",
        {
            "agreement": agreement,
            "version": version,
            "versions": list(agreement.versions.order_by("-number")),
            "terms": [(t, t.spec().words(), compile_term(t.spec())) for t in terms],
            "obligations": [
                (o, compliance(o) if in_force else None, _month(o) if in_force else "")
                for o in obligations
            ],
            "alerts": list(
                BreachAlert.objects.visible_to(actor)
                .filter(obligation__version=version)
                .select_related("obligation__version")[:ALERTS_SHOWN]
            ),
            "may_acknowledge": {agreement.pk} if manager else set(),
            "steps": list(version.escalation_steps.order_by("position")),
            "parties": [(p, signatures.get(p.pk)) for p in parties],
            "manager": manager,
            "my_signature_due": version.status == VersionStatus.AWAITING_SIGNATURES
            and any(p.signatory_id == actor.user_id and p.pk not in signatures for p in parties),
            "attest_form": AttestForm(),
            "may_attest": in_force
            and actor.has_role("agency_admin", "supervisor")
            and actor.scopes is None,
            "today": timezone.localdate(),
        },
    )


@require_http_methods(["GET", "POST"])
@errors_as_pages
def version_edit(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """One page to edit a version: its text and dates, and its terms, obligations and
    escalation ladder as tables (each form posts here with its own ``form`` name)."""
    actor = actor_of(request)
    agreement = _agreement(request, pk)
    version = _version(agreement, number)
    actions.require_manager(agreement, actor)
    parties = _parties(agreement)
    posted = request.POST.get("form") if request.method == "POST" else None
    data = request.POST if posted else None

    def bound(name: str) -> Any:
        return data if posted == name else None

    version_form = VersionForm(
        bound("version"),
        initial={
            "title": agreement.title,
            "kind": agreement.kind,
            "effective_on": version.effective_on,
            "expires_on": version.expires_on,
            "review_on": version.review_on,
            "reminder_days": agreement.reminder_days,
            "change_summary": version.change_summary,
            "body": version.body,
        },
    )
    term_form = TermForm(
        bound("term"), parties=parties, initial={"actions": ["view"], "consent": "none"}
    )
    obligation_form = ObligationForm(bound("obligation"), parties=parties)
    step_form = StepForm(bound("step"))
    forms_by_name = {
        "version": version_form,
        "term": term_form,
        "obligation": obligation_form,
        "step": step_form,
    }
    if posted:
        done = _apply_edit(request, actor, version, posted, forms_by_name)
        if done:
            messages.success(request, done)
            return HttpResponseRedirect(reverse("agreements:edit", args=[pk, number]))
    return render(
        request,
        "agreements/version_edit.html",
        {
            "agreement": agreement,
            "version": version,
            "editable": version.editable,
            "version_form": version_form,
            "term_form": term_form,
            "obligation_form": obligation_form,
            "step_form": step_form,
            "terms": list(
                version.terms.select_related("discloser", "recipient", "version__agreement")
            ),
            "obligations": list(version.obligations.select_related("party", "counterparty")),
            "steps": list(version.escalation_steps.order_by("position")),
            "clauses": version.clause_numbers,
        },
    )


def _apply_edit(
    request: HttpRequest,
    actor: Actor,
    version: AgreementVersion,
    posted: str,
    forms_by_name: dict[str, Any],
) -> str | None:
    """Run the action a posted form asks for; the success message, or None to re-show."""
    removals: dict[str, tuple[Any, Any, str]] = {
        "delete-term": (version.terms, actions.remove_term, "The term was removed."),
        "delete-obligation": (
            version.obligations,
            actions.remove_obligation,
            "The obligation was removed.",
        ),
        "delete-step": (
            version.escalation_steps,
            actions.remove_escalation_step,
            "The step was removed.",
        ),
    }
    try:
        if posted in removals:
            related, remove, words = removals[posted]
            item = related.filter(pk=request.POST.get("id") or 0).first()
            if item is None:
                raise NotFound("Nothing to remove.")
            remove(item, actor=actor)
            return words
        form = forms_by_name.get(posted)
        if form is None or not form.is_valid():
            return None
        values = dict(form.cleaned_data)
        if posted == "version":
            actions.update_draft(version, actor=actor, **values)
            return "The draft was saved."
        if posted == "term":
            actions.add_term(version, actor=actor, **values)
            return "The sharing term was added."
        if posted == "obligation":
            actions.add_obligation(version, actor=actor, **values)
            return "The obligation was added."
        actions.add_escalation_step(version, actor=actor, **values)
        return "The step was added."
    except AccordError as exc:
        if isinstance(exc, PermissionDenied | NotFound):
            raise
        form = forms_by_name.get(posted)
        if form is not None:
            show_errors(form, exc)
        else:
            messages.error(request, exc.detail)
        return None


@require_http_methods(["GET", "POST"])
@errors_as_pages
def parties(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    agreement = _agreement(request, pk)
    actions.require_manager(agreement, actor)
    agencies = list(Agency.objects.visible_to(actor).values_list("pk", "name"))
    people = [
        (p.user_id, f"{p.user.get_full_name() or p.user.username} ({p.agency.short_name})")
        for p in StaffProfile.objects.select_related("user", "agency")
        .filter(agency_id__in=[pk_ for pk_, _ in agencies])
        .order_by("agency__short_name", "user__last_name")
    ]
    form = PartyForm(
        request.POST if request.POST.get("form") == "party" else None,
        agencies=agencies,
        people=people,
    )
    if request.method == "POST":
        try:
            if request.POST.get("form") == "remove":
                party = agreement.parties.filter(pk=request.POST.get("id") or 0).first()
                if party is None:
                    raise NotFound("No such party.")
                actions.remove_party(party, actor=actor)
                messages.success(request, "The party was removed.")
                return HttpResponseRedirect(reverse("agreements:parties", args=[pk]))
            if form.is_valid():
                from accord.accounts.models import User

                data = form.cleaned_data
                signatory = (
                    User.objects.filter(pk=data["signatory"]).first() if data["signatory"] else None
                )
                actions.set_party(
                    agreement,
                    Agency.objects.get(pk=data["agency"]),
                    actor=actor,
                    role=data["role"],
                    signatory=signatory,
                    signatory_title=data["signatory_title"],
                )
                messages.success(request, "The party was saved.")
                return HttpResponseRedirect(reverse("agreements:parties", args=[pk]))
        except AccordError as exc:
            if isinstance(exc, PermissionDenied | NotFound):
                raise
            show_errors(form, exc)
    return render(
        request,
        "agreements/parties.html",
        {
            "agreement": agreement,
            "form": form,
            "parties": list(
                agreement.parties.select_related("agency", "signatory").order_by("agency__name")
            ),
        },
    )


VERSION_VERBS = {
    "negotiate": (actions.open_negotiation, "The draft is open for negotiation."),
    "send": (actions.request_signatures, "The version is frozen and sent for signature."),
    "withdraw": (actions.withdraw_version, "The version was withdrawn."),
}
AGREEMENT_VERBS = {
    "review": (actions.start_review, "The agreement is under review (still in force)."),
    "finish-review": (actions.finish_review, "The review is finished."),
}


@require_POST
@errors_as_pages
def version_transition(request: HttpRequest, pk: int, number: int, verb: str) -> HttpResponse:
    actor = actor_of(request)
    agreement = _agreement(request, pk)
    version = _version(agreement, number)
    try:
        if verb == "reopen":
            actions.return_to_negotiation(
                version, actor=actor, reason=request.POST.get("reason", "")
            )
            messages.success(request, "The version is back in negotiation; signatures voided.")
        elif verb in VERSION_VERBS:
            act, words = VERSION_VERBS[verb]
            act(version, actor=actor)
            messages.success(request, words)
        else:
            raise NotFound(f"No transition {verb}.")
    except AccordError as exc:
        if isinstance(exc, PermissionDenied | NotFound):
            raise
        messages.error(request, exc.message())
    return HttpResponseRedirect(reverse("agreements:detail", args=[pk]) + f"?version={number}")


@require_POST
@errors_as_pages
def agreement_transition(request: HttpRequest, pk: int, verb: str) -> HttpResponse:
    actor = actor_of(request)
    agreement = _agreement(request, pk)
    try:
        if verb == "amend":
            version = actions.amend(
                agreement, actor=actor, change_summary=request.POST.get("reason", "")
            )
            messages.success(
                request,
                f"Version {version.number} was drafted from the one in "
                "force; it supersedes it once signed and effective.",
            )
            return HttpResponseRedirect(reverse("agreements:edit", args=[pk, version.number]))
        if verb not in AGREEMENT_VERBS:
            raise NotFound(f"No transition {verb}.")
        act, words = AGREEMENT_VERBS[verb]
        act(agreement, actor=actor, note=request.POST.get("reason", ""))
        messages.success(request, words)
    except AccordError as exc:
        if isinstance(exc, PermissionDenied | NotFound):
            raise
        messages.error(request, exc.detail)
    return HttpResponseRedirect(reverse("agreements:detail", args=[pk]))


@require_http_methods(["GET", "POST"])
@errors_as_pages
def terminate(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    agreement = _agreement(request, pk)
    actions.require_manager(agreement, actor)
    return _terminate_confirmed(request, agreement)


# Ending an agreement stops every flow it allowed: as privileged as signing it.
@require_recent_auth
def _terminate_confirmed(request: HttpRequest, agreement: Agreement) -> HttpResponse:
    actor = actor_of(request)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.terminate_agreement(agreement, actor=actor, reason=form.cleaned_data["reason"])
        except AccordError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, "The agreement is terminated: nothing flows under it.")
            return HttpResponseRedirect(reverse("agreements:detail", args=[agreement.pk]))
    return render(request, "agreements/terminate.html", {"agreement": agreement, "form": form})


@require_http_methods(["GET", "POST"])
@errors_as_pages
def sign(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    actor = actor_of(request)
    agreement = _agreement(request, pk)
    version = _version(agreement, number)
    if actor.agency_id is None or actor.user_id is None:
        raise PermissionDenied("Only a party's authorized signatory signs for it.")
    party = agreement.parties.filter(agency_id=actor.agency_id, signatory_id=actor.user_id).first()
    if party is None:
        raise PermissionDenied("Only a party's authorized signatory signs for it.")
    return _sign_confirmed(request, agreement, version)


@require_recent_auth
def _sign_confirmed(
    request: HttpRequest, agreement: Agreement, version: AgreementVersion
) -> HttpResponse:
    actor = actor_of(request)
    form = SignForm(request.POST or None, initial={"content_hash": version.content_hash})
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["content_hash"] != version.content_hash:
            form.add_error(None, "This version changed since you opened it; read it again.")
        else:
            try:
                actions.sign_version(version, actor=actor, reauthenticated=True)
            except AccordError as exc:
                show_errors(form, exc)
            else:
                messages.success(
                    request,
                    "Signed. The agreement is in force once every party "
                    "has signed and its effective date has come.",
                )
                return HttpResponseRedirect(
                    reverse("agreements:detail", args=[agreement.pk]) + f"?version={version.number}"
                )
    return render(
        request,
        "agreements/sign.html",
        {
            "agreement": agreement,
            "version": version,
            "form": form,
            "text": rendered_text(version),
            "current_hash": content_hash(version)
            if version.status == VersionStatus.AWAITING_SIGNATURES
            else version.content_hash,
        },
    )


@require_GET
@errors_as_pages
def version_dry_run(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    actor = actor_of(request)
    agreement = _agreement(request, pk)
    version = _version(agreement, number)
    signatory = agreement.parties.filter(signatory_id=actor.user_id).exists()
    if not (may_manage(actor, agreement) or signatory):
        raise PermissionDenied("Dry runs are for the parties' administrators and signatories.")
    return render(
        request,
        "agreements/dry_run.html",
        {"agreement": agreement, "version": version, "result": dry_run(version)},
    )


def side_by_side(left: str, right: str) -> list[tuple[str, str, str]]:
    """(kind, left line, right line) rows; kind is equal, changed, removed or added."""
    rows = []
    a, b = left.splitlines(), right.splitlines()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            rows += [("equal", x, y) for x, y in zip(a[i1:i2], b[j1:j2], strict=True)]
        else:
            olds, news = a[i1:i2], b[j1:j2]
            for index in range(max(len(olds), len(news))):
                old = olds[index] if index < len(olds) else ""
                new = news[index] if index < len(news) else ""
                kind = "changed" if old and new else ("removed" if old else "added")
                rows.append((kind, old, new))
    return rows


@require_GET
@errors_as_pages
def diff(request: HttpRequest, pk: int) -> HttpResponse:
    agreement = _agreement(request, pk)
    versions = list(agreement.versions.order_by("number"))
    latest = versions[-1].number
    try:
        left_n = int(request.GET.get("from") or max(1, latest - 1))
        right_n = int(request.GET.get("to") or latest)
    except ValueError as exc:
        raise NotFound("No such versions.") from exc
    left, right = _version(agreement, left_n), _version(agreement, right_n)
    return render(
        request,
        "agreements/diff.html",
        {
            "agreement": agreement,
            "left": left,
            "right": right,
            "versions": versions,
            "rows": side_by_side(rendered_text(left), rendered_text(right)),
        },
    )


@require_POST
@errors_as_pages
def attest(request: HttpRequest, pk: int, obligation_id: int) -> HttpResponse:
    actor = actor_of(request)
    agreement = _agreement(request, pk)
    obligation = Obligation.objects.filter(pk=obligation_id, version__agreement=agreement).first()
    if obligation is None:
        raise NotFound("No such obligation.")
    if not (
        actor.agency_id == obligation.party_id
        and actor.scopes is None
        and actor.has_role("agency_admin", "supervisor")
    ):
        raise PermissionDenied("Only a supervisor or administrator of the obligated party attests.")
    form = AttestForm(request.POST)
    if form.is_valid():
        try:
            actions.attest_obligation(obligation, actor=actor, **form.cleaned_data)
        except AccordError as exc:
            if isinstance(exc, PermissionDenied):
                raise
            messages.error(request, exc.message())
        else:
            messages.success(request, "The attestation was recorded.")
    else:
        messages.error(request, "Give the period and whether the obligation was met.")
    return HttpResponseRedirect(reverse("agreements:detail", args=[pk]))


@require_GET
@errors_as_pages
def compliance_overview(request: HttpRequest) -> HttpResponse:
    """The obligations of every agreement in force the reader may see, with this month's
    compliance and the breach alerts raised to the parties (the coordinator's view)."""
    actor = actor_of(request)
    if actor.scopes is not None or not actor.has_role(*OVERSIGHT_ROLES):
        raise PermissionDenied("Coordinators, administrators and auditors see compliance.")
    visible = Agreement.objects.visible_to(actor).filter(status__in=IN_FORCE_STATUSES)
    obligations = list(
        Obligation.objects.filter(
            version__agreement__in=visible.values("pk"), version__status=VersionStatus.ACTIVE
        )
        .select_related("version__agreement", "party", "counterparty")
        .order_by("version__agreement__reference", "clause", "pk")
    )
    state = request.GET.get("state") or BreachAlertState.OPEN
    if state not in BreachAlertState.values:
        state = BreachAlertState.OPEN
    alerts = (
        BreachAlert.objects.visible_to(actor)
        .in_state(state)
        .select_related("obligation__version__agreement")
    )
    page, numbers = paginate(request, alerts.order_by("-raised_at", "-pk"))
    shown = {a.obligation.version.agreement_id for a in page.object_list if a.is_open}
    return render(
        request,
        "agreements/compliance.html",
        {
            "obligations": [(o, compliance(o), _month(o)) for o in obligations],
            "page": page,
            "page_numbers": numbers,
            "state": state,
            "states": BreachAlertState.choices,
            "empty": EMPTY_ALERTS[state],
            "may_acknowledge": _manageable(actor, shown),
        },
    )


def _manageable(actor: Actor, agreement_ids: set[int]) -> set[int]:
    """Which of these agreements' alerts the actor may acknowledge (one query), to show the
    form only to them; the action checks again."""
    if not agreement_ids:
        return set()
    return set(
        Agreement.objects.manageable_by(actor)
        .filter(pk__in=agreement_ids)
        .values_list("pk", flat=True)
    )


@require_POST
@errors_as_pages
def acknowledge_alert(request: HttpRequest, alert_id: int) -> HttpResponse:
    """An administrator's answer to a breach alert, from the compliance or agreement page."""
    actor = actor_of(request)
    alert = access_object(BreachAlert.objects, actor, alert_id)
    try:
        actions.acknowledge_breach_alert(alert, request.POST.get("note", ""), actor=actor)
    except AccordError as exc:
        if isinstance(exc, PermissionDenied | NotFound):
            raise
        messages.error(request, exc.message(fields=True))
    else:
        messages.success(request, "The breach alert is acknowledged.")
    back = request.POST.get("next", "")
    if not back.startswith("/agreements/") or not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("agreements:compliance")
    return HttpResponseRedirect(back)
