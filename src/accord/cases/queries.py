"""Reads shared by the case pages and the API: the filtered case list and what its rows
show, and one case with all its parts."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from accord.cases.access import active_on
from accord.cases.models import (
    Assignment,
    Case,
    Charge,
    CourtEvent,
    EventStatus,
    Party,
    TeamRole,
    Tickler,
    hits_visible_to,
)
from accord.core.access import access_object
from accord.core.actors import Actor
from accord.directory.models import StaffProfile


def next_court_date() -> Subquery:
    return Subquery(
        CourtEvent.objects.filter(
            case=OuterRef("pk"), status=EventStatus.SCHEDULED, starts_at__gte=timezone.now()
        )
        .order_by("starts_at")
        .values("starts_at")[:1]
    )


def filtered_cases(actor: Actor, data: dict[str, Any]) -> Any:
    """The cases the list shows for these filters, annotated for its columns. One rule for
    the page and the API."""
    cases = Case.objects.visible_to(actor)
    scope = data.get("scope") or "mine"
    if actor.user_id is None:
        scope = "office"  # a system's token has no cases of its own
    if scope == "mine":
        cases = cases.assigned_to(actor.user_id)  # type: ignore[arg-type]
    elif scope == "team":
        unit = (
            StaffProfile.objects.filter(user_id=actor.user_id or 0)
            .values_list("unit_id", flat=True)
            .first()
        )
        members = (
            StaffProfile.objects.filter(unit_id=unit)
            if unit
            else StaffProfile.objects.filter(user_id=actor.user_id or 0)
        )
        cases = cases.filter(
            pk__in=Assignment.objects.filter(active_on(), staff__in=members.values("pk")).values(
                "case_id"
            )
        )
    if data.get("q"):
        cases = cases.search(data["q"])
    if data.get("status"):
        cases = cases.filter(status=data["status"])
    if data.get("court"):
        cases = cases.filter(court_id=data["court"])
    if data.get("case_type"):
        cases = cases.filter(case_type_id=data["case_type"])
    cases = cases.with_conflict_state().annotate(next_date=next_court_date())
    if data.get("conflict") == "unresolved":
        cases = cases.filter(unresolved_hits=True)
    elif data.get("conflict") == "conflict":
        cases = cases.filter(confirmed_conflict=True)
    order = {
        "next": (F("next_date").asc(nulls_last=True), "-pk"),
        "number": ("number", "pk"),
    }.get(data.get("sort") or "", ("-opened_on", "-pk"))
    return cases.select_related("client__person", "court", "case_type").order_by(*order)


def attorneys_of(case_ids: list[int]) -> dict[int, list[str]]:
    """The current attorneys of these cases, by case (one query for a page of cases)."""
    found: dict[int, list[str]] = defaultdict(list)
    rows = (
        Assignment.objects.filter(active_on(), case_id__in=case_ids, role=TeamRole.ATTORNEY)
        .select_related("staff__user")
        .order_by("starts_on", "pk")
    )
    for row in rows:
        found[row.case_id].append(row.staff.user.get_full_name() or row.staff.user.username)
    return found


def case_with_parts(actor: Actor, pk: int) -> Case:
    """One case the actor may read, its parts loaded into ``case.loaded`` (a query each)."""
    case: Case = access_object(
        Case.objects.select_related("client", "court", "case_type")
        .with_conflict_state()
        .annotate(next_date=next_court_date()),
        actor,
        pk,
    )
    case.loaded = {  # type: ignore[attr-defined]
        "charges": Charge.objects.filter(case=case).order_by("position"),
        "events": CourtEvent.objects.filter(case=case).order_by("starts_at", "pk"),
        "parties": Party.objects.present().filter(case=case).select_related("person"),
        "team": Assignment.objects.filter(case=case).select_related("staff__user"),
        "ticklers": Tickler.objects.filter(case=case).select_related("case"),
        "hits": hits_visible_to(actor, case.pk)
        .select_related("candidate__case_subject")
        .order_by("candidate__row", "-score", "pk"),
    }
    return case
