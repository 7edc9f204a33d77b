"""Pages of people: the agency's person records, the match review queue, and conflict checks.

Thin by design: reads through ``visible_to`` / ``access_object``, changes through actions,
an action's refusal shown on the form it came from.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.paginator import Page
from django.db.models import Count, Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accord.core.access import access_object
from accord.core.actors import Actor
from accord.core.errors import AccordError, NotFound, PermissionDenied
from accord.core.pages import actor_of, errors_as_pages, paginate
from accord.directory.forms import show_errors
from accord.directory.models import Agency
from accord.people import actions
from accord.people.access import (
    checks_conflicts_of,
    may_clear_or_confirm,
    reads_people_of,
    reviews_for,
)
from accord.people.csvio import HIT_COLUMNS, hit_rows, read_parties, write_rows
from accord.people.forms import (
    ConflictCheckForm,
    HitDecisionForm,
    PartyFormSet,
    ReasonForm,
    RecordFilterForm,
    ReviewDecisionForm,
)
from accord.people.models import (
    CheckSource,
    ConflictCheck,
    ConflictHit,
    HitDecision,
    MasterMerge,
    MatchReview,
    PersonLink,
    PersonRecord,
    ReviewStatus,
)

PAGE_SIZE = 25
View = Callable[..., HttpResponse]


def _page(request: HttpRequest, queryset: QuerySet[Any]) -> tuple[Page[Any], list[Any]]:
    return paginate(request, queryset, PAGE_SIZE)


def _sections(actor: Actor) -> dict[str, bool]:
    return {
        "can_read_people": reads_people_of(actor) is not None,
        "can_check": checks_conflicts_of(actor) is not None,
        "can_review": reviews_for(actor) is not None,
    }


# --- person records ----------------------------------------------------------------------------


@require_GET
def record_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    filters = RecordFilterForm(request.GET or None)
    records = PersonRecord.objects.visible_to(actor)
    searching = False
    if filters.is_valid() and filters.cleaned_data["q"]:
        records = records.search(filters.cleaned_data["q"])
        searching = True
    records = records.annotate(role_count=Count("roles")).order_by("last_name", "first_name", "pk")
    page, numbers = _page(request, records)
    return render(
        request,
        "people/record_list.html",
        {
            "filters": filters,
            "page": page,
            "page_numbers": numbers,
            "searching": searching,
            "section": "records",
            **_sections(actor),
        },
    )


@require_GET
@errors_as_pages
def record_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    record = access_object(
        PersonRecord.objects.select_related("agency").prefetch_related("aliases", "roles"),
        actor,
        pk,
    )
    link = PersonLink.objects.filter(record=record).select_related("linked_to").first()
    same_person: list[PersonRecord] = []
    if link is not None:
        # Only the records of the person the actor may see: other agencies' stay hidden.
        same_person = list(
            PersonRecord.objects.visible_to(actor)
            .filter(link__master_id=link.master_id)
            .exclude(pk=record.pk)
            .select_related("link")
        )
    linked_to_visible = bool(
        link
        and link.linked_to_id
        and PersonRecord.objects.visible_to(actor).filter(pk=link.linked_to_id).exists()
    )
    return render(
        request,
        "people/record_detail.html",
        {
            "record": record,
            "link": link,
            "linked_to_visible": linked_to_visible,
            "same_person": same_person,
            "can_split": reviews_for(actor) == record.agency_id and link is not None,
            "split_form": ReasonForm(),
            "section": "records",
            **_sections(actor),
        },
    )


@require_POST
@errors_as_pages
def record_split(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    record = access_object(PersonRecord.objects, actor, pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            actions.split_off_record(record, actor=actor, reason=form.cleaned_data["reason"])
        except NotFound:
            raise
        except AccordError as exc:
            messages.error(request, exc.detail)
        else:
            messages.success(request, "The record is now a person of its own.")
    else:
        messages.error(request, "Say why the record is split off.")
    return HttpResponseRedirect(reverse("people:record-detail", args=[record.pk]))


# --- match reviews -------------------------------------------------------------------------------


def _require_reviewer(actor: Actor) -> None:
    if not actor.is_system and reviews_for(actor) is None:
        raise PermissionDenied("Supervisors and agency administrators review matches.")


@require_GET
@errors_as_pages
def review_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    _require_reviewer(actor)
    status = request.GET.get("status") or ReviewStatus.PENDING
    if status not in ReviewStatus.values:
        status = ReviewStatus.PENDING
    reviews = (
        MatchReview.objects.visible_to(actor)
        .filter(status=status)
        .select_related("record_a", "record_b")
        .order_by("-match_probability", "pk")
    )
    page, numbers = _page(request, reviews)
    return render(
        request,
        "people/review_list.html",
        {
            "page": page,
            "page_numbers": numbers,
            "status": status,
            "statuses": ReviewStatus.choices,
            "section": "reviews",
            **_sections(actor),
        },
    )


@require_http_methods(["GET", "POST"])
@errors_as_pages
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    _require_reviewer(actor)
    queryset = MatchReview.objects.select_related("record_a", "record_b").prefetch_related(
        "record_a__aliases", "record_b__aliases"
    )
    review = access_object(queryset, actor, pk)
    form = ReviewDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.decide_review(
                review, form.cleaned_data["decision"], actor=actor, note=form.cleaned_data["note"]
            )
        except AccordError as exc:
            show_errors(form, exc)
        else:
            messages.success(request, "Decision recorded.")
            return HttpResponseRedirect(reverse("people:review-detail", args=[review.pk]))
    merge = (
        MasterMerge.objects.visible_to(actor).filter(pk=review.merge_id).first()
        if review.merge_id
        else None
    )
    rows = [
        ("Name", review.record_a.full_name, review.record_b.full_name),
        ("Date of birth", review.record_a.date_of_birth, review.record_b.date_of_birth),
        ("Source id", review.record_a.source_id, review.record_b.source_id),
        ("Address", review.record_a.address_line, review.record_b.address_line),
        ("Identifiers", review.record_a.sorted_identifiers, review.record_b.sorted_identifiers),
    ]
    return render(
        request,
        "people/review_detail.html",
        {
            "review": review,
            "rows": rows,
            "form": form,
            "merge": merge,
            "undo_form": ReasonForm(),
            "section": "reviews",
            **_sections(actor),
        },
    )


@require_POST
@errors_as_pages
def merge_undo(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    _require_reviewer(actor)
    merge = access_object(MasterMerge.objects, actor, pk)
    form = ReasonForm(request.POST)
    review = MatchReview.objects.filter(merge=merge).first()
    if form.is_valid():
        try:
            actions.undo_merge(merge, actor=actor, reason=form.cleaned_data["reason"])
        except AccordError as exc:
            messages.error(request, exc.detail)
        else:
            messages.success(request, "The merge is undone: the records are two persons again.")
    else:
        messages.error(request, "Say why the merge is undone.")
    if review is not None:
        return HttpResponseRedirect(reverse("people:review-detail", args=[review.pk]))
    return HttpResponseRedirect(reverse("people:review-list"))


# --- conflict checks ------------------------------------------------------------------------------


def _require_checker(actor: Actor) -> Agency:
    agency_id = checks_conflicts_of(actor)
    if agency_id is None:
        raise PermissionDenied("Only an agency's staff check conflicts against its people.")
    return Agency.objects.get(pk=agency_id)


@require_GET
@errors_as_pages
def check_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    _require_checker(actor)
    checks = ConflictCheck.objects.visible_to(actor).order_by("-created_at", "-pk")
    page, numbers = _page(request, checks)
    return render(
        request,
        "people/check_list.html",
        {"page": page, "page_numbers": numbers, "section": "conflicts", **_sections(actor)},
    )


@require_http_methods(["GET", "POST"])
@errors_as_pages
def check_new(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    agency = _require_checker(actor)
    form = ConflictCheckForm(request.POST or None, request.FILES or None)
    parties = PartyFormSet(request.POST or None, prefix="party")
    row_errors: list[str] = []
    if request.method == "POST" and form.is_valid() and parties.is_valid():
        batch = _parties_from(form, parties)
        if batch is not None:
            candidates, rows, source, row_errors = batch
            if not candidates and not row_errors:
                form.add_error(None, "Enter at least one party, or upload a party list.")
            elif candidates:
                try:
                    check = actions.check_conflicts(
                        agency,
                        candidates,
                        actor=actor,
                        reference=form.cleaned_data["reference"],
                        source=source,
                        rows=rows,
                    )
                except AccordError as exc:
                    _party_errors(
                        exc, parties, form, rows=rows, source=source, row_errors=row_errors
                    )
                else:
                    if row_errors:
                        messages.warning(
                            request,
                            f"{len(row_errors)} problem(s) in the file: those rows were not "
                            "checked. " + "; ".join(row_errors[:20]),
                        )
                    messages.success(
                        request,
                        f"Checked {check.candidate_count} parties: {check.hit_count} possible "
                        "matches to decide.",
                    )
                    return HttpResponseRedirect(reverse("people:check-detail", args=[check.pk]))
    return render(
        request,
        "people/check_form.html",
        {
            "form": form,
            "parties": parties,
            "row_errors": row_errors,
            "section": "conflicts",
            **_sections(actor),
        },
    )


def _parties_from(
    form: ConflictCheckForm, parties: Any
) -> tuple[list[dict[str, Any]], list[int], str, list[str]] | None:
    """The parties typed in, or those of the uploaded file with a report of its bad rows;
    None (with the reason on the form) if the file cannot be read."""
    upload = form.cleaned_data["parties_file"]
    if upload is None:
        filled = [f for f in parties.forms if not f.is_blank()]
        typed = [dict(f.cleaned_data) for f in filled]
        return typed, list(range(1, len(typed) + 1)), CheckSource.FORM, []
    try:
        text = upload.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        form.add_error("parties_file", "The file is not UTF-8 text (save it as CSV UTF-8).")
        return None
    parsed = read_parties(io.StringIO(text))
    return (
        [party for _line, party in parsed.rows],
        [line for line, _party in parsed.rows],
        CheckSource.CSV,
        [str(e) for e in parsed.errors],
    )


def _party_errors(
    exc: AccordError,
    parties: Any,
    form: ConflictCheckForm,
    *,
    rows: list[int],
    source: str,
    row_errors: list[str],
) -> None:
    """Put each party's refusal next to its field (form) or in the row report (CSV)."""
    filled = [f for f in parties.forms if not f.is_blank()]
    other = []
    for error in exc.errors:
        parts = error["field"].split(".")
        if len(parts) == 3 and parts[0] == "candidates" and parts[1].isdigit():
            index = int(parts[1])
            if source == CheckSource.FORM and index < len(filled):
                filled[index].add_error(parts[2], error["reason"])
                continue
            if index < len(rows):
                row_errors.append(f"line {rows[index]}: {parts[2]}: {error['reason']}")
                continue
        other.append(error)
    if other or not exc.errors:
        show_errors(form, AccordError(exc.detail, errors=other))


def _check(actor: Actor, pk: int) -> ConflictCheck:
    hits: QuerySet[ConflictHit] = ConflictHit.objects.select_related("record").order_by(
        "-score", "pk"
    )
    # django-stubs cannot type a Prefetch through two relations; the lookup is checked at
    # run time (and by the tests that open a check).
    prefetch: Any = Prefetch("candidates__hits", queryset=hits)  # type: ignore[arg-type]
    queryset = ConflictCheck.objects.prefetch_related(prefetch)
    check: ConflictCheck = access_object(queryset, actor, pk)
    return check


@require_GET
@errors_as_pages
def check_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    check = _check(actor, pk)
    return render(
        request,
        "people/check_detail.html",
        {
            "check": check,
            "decision_form": HitDecisionForm(),
            "may_decide": may_clear_or_confirm(actor, flagged=False),
            "may_decide_flagged": may_clear_or_confirm(actor, flagged=True),
            "section": "conflicts",
            **_sections(actor),
        },
    )


@require_GET
@errors_as_pages
def check_csv(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    check = access_object(ConflictCheck.objects, actor, pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="conflict-check-{check.pk}.csv"'
    write_rows(response, HIT_COLUMNS, hit_rows(check))  # type: ignore[arg-type]
    return response


@require_POST
@errors_as_pages
def hit_decide(request: HttpRequest, pk: int) -> HttpResponse:
    actor = actor_of(request)
    hit = access_object(ConflictHit.objects.select_related("check_run"), actor, pk)
    form = HitDecisionForm(request.POST)
    if form.is_valid():
        try:
            actions.decide_hit(
                hit, form.cleaned_data["decision"], actor=actor, note=form.cleaned_data["note"]
            )
        except AccordError as exc:
            messages.error(request, exc.message())
        else:
            label = HitDecision(form.cleaned_data["decision"]).label
            messages.success(request, f"Hit #{hit.pk}: {label}.")
    else:
        messages.error(request, "Choose a decision.")
    url = reverse("people:check-detail", args=[hit.check_run_id])
    return HttpResponseRedirect(f"{url}#hit-{hit.pk}")
