"""A person's work across cases: their ticklers, the office's tickler rules, and the
personal and team calendars of court dates with the iCalendar feed."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accord.cases import actions
from accord.cases.access import active_on, manages_rules_of
from accord.cases.forms import RuleForm, TicklerCloseForm
from accord.cases.models import (
    Assignment,
    CalendarFeed,
    Case,
    CourtEvent,
    EventStatus,
    Tickler,
    TicklerRule,
    TicklerStatus,
)
from accord.cases.ticklers.actions import STANDARD_RULES
from accord.cases.views.common import actor_of, errors_as_pages, form_page, page_of, reader
from accord.core.access import access_object
from accord.core.actors import Actor
from accord.core.errors import AccordError, NotFound, PermissionDenied
from accord.directory.models import Agency, StaffProfile


def own_cases(actor: Actor) -> Any:
    """The cases the actor is on the team of today (their "own" cases)."""
    return Case.objects.visible_to(actor).assigned_to(actor.user_id or 0).values("pk")


def team_cases(actor: Actor) -> Any:
    """The cases of everyone in the actor's unit (just their own without a unit)."""
    unit = (
        StaffProfile.objects.filter(user_id=actor.user_id or 0)
        .values_list("unit_id", flat=True)
        .first()
    )
    if unit is None:
        return own_cases(actor)
    return (
        Case.objects.visible_to(actor)
        .filter(
            pk__in=Assignment.objects.filter(active_on(), staff__unit_id=unit).values("case_id")
        )
        .values("pk")
    )


# --- ticklers --------------------------------------------------------------------------------


WINDOWS = {
    "overdue": "Overdue",
    "week": "Due within 7 days",
    "open": "All open",
    "closed": "Closed",
}


@require_GET
@errors_as_pages
def tickler_list(request: HttpRequest) -> HttpResponse:
    actor = reader(request)
    window = request.GET.get("show") or "open"
    if window not in WINDOWS:
        window = "open"
    today = timezone.localdate()
    ticklers = Tickler.objects.visible_to(actor).filter(case__in=own_cases(actor))
    if window == "closed":
        ticklers = ticklers.exclude(status=TicklerStatus.OPEN).order_by("-closed_at", "-pk")
    else:
        ticklers = ticklers.filter(status=TicklerStatus.OPEN).order_by("due_on", "pk")
        if window == "overdue":
            ticklers = ticklers.filter(due_on__lt=today)
        elif window == "week":
            ticklers = ticklers.filter(due_on__lte=today + timedelta(days=7))
    page, numbers = page_of(request, ticklers.select_related("case__client"))
    return render(
        request,
        "cases/tickler_list.html",
        {
            "page": page,
            "page_numbers": numbers,
            "window": window,
            "windows": WINDOWS.items(),
            "today": today,
            "close_form": TicklerCloseForm(),
        },
    )


def _close_tickler(request: HttpRequest, pk: int, complete: bool) -> HttpResponse:
    actor = reader(request)
    tickler: Tickler = access_object(Tickler.objects.select_related("case"), actor, pk)
    form = TicklerCloseForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        if complete:
            actions.complete_tickler(tickler, actor=actor, note=note)
        else:
            actions.dismiss_tickler(tickler, actor=actor, note=note)
    except (NotFound, PermissionDenied):
        raise
    except AccordError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, "Tickler completed." if complete else "Tickler dismissed.")
    back = request.POST.get("next") or ""
    if back == "case":
        return HttpResponseRedirect(
            reverse("cases:case-detail", args=[tickler.case_id]) + "#ticklers"
        )
    return HttpResponseRedirect(reverse("cases:tickler-list"))


@require_POST
@errors_as_pages
def tickler_complete(request: HttpRequest, pk: int) -> HttpResponse:
    return _close_tickler(request, pk, complete=True)


@require_POST
@errors_as_pages
def tickler_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    return _close_tickler(request, pk, complete=False)


# --- tickler rules ---------------------------------------------------------------------------


def _rule_manager(request: HttpRequest) -> tuple[Actor, Agency]:
    actor = actor_of(request)
    agency_id = manages_rules_of(actor)
    if agency_id is None:
        raise PermissionDenied("The office's supervisors and administrators set tickler rules.")
    return actor, Agency.objects.get(pk=agency_id)


@require_http_methods(["GET", "POST"])
@errors_as_pages
def rule_list(request: HttpRequest) -> HttpResponse:
    actor, agency = _rule_manager(request)
    if request.method == "POST":
        added = actions.add_standard_rules(agency, actor=actor)
        messages.success(request, f"{added} standard rule{'s' if added != 1 else ''} added.")
        return HttpResponseRedirect(reverse("cases:rule-list"))
    rules = list(TicklerRule.objects.visible_to(actor).order_by("trigger", "value", "pk"))
    return render(
        request,
        "cases/rule_list.html",
        {"rules": rules, "standard_count": len(STANDARD_RULES)},
    )


@require_http_methods(["GET", "POST"])
@errors_as_pages
def rule_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    actor, agency = _rule_manager(request)
    rule = access_object(TicklerRule.objects, actor, pk) if pk is not None else None

    def save(data: dict[str, Any]) -> tuple[str, str]:
        actions.save_tickler_rule(agency, actor=actor, rule=rule, **data)
        return reverse("cases:rule-list"), "Rule saved. It applies from now on."

    initial = (
        {k: getattr(rule, k) for k in ("trigger", "value", "offset_days", "label", "active")}
        if rule
        else {"active": True}
    )
    return form_page(
        request,
        RuleForm,
        save=save,
        title="Change a tickler rule" if rule else "Add a tickler rule",
        back=reverse("cases:rule-list"),
        initial=initial,
        intro="A rule sets a deadline on a case when its trigger is recorded, e.g. 30 days "
        "after a conviction (value: convicted) or 14 days after an arraignment is held "
        "(value: arraignment).",
    )


# --- calendars -------------------------------------------------------------------------------


def _period(view: str, start: date) -> tuple[date, date, date, date]:
    """(first day, last day, previous start, next start) of the week or month at ``start``."""
    if view == "month":
        first = start.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        previous = (first - timedelta(days=1)).replace(day=1)
        return first, following - timedelta(days=1), previous, following
    first = start - timedelta(days=start.weekday())
    return first, first + timedelta(days=6), first - timedelta(days=7), first + timedelta(days=7)


def calendar_events(actor: Actor, scope: str, first: date, last: date) -> list[CourtEvent]:
    """The court dates of the actor's own (or team's) cases between two days."""
    cases = team_cases(actor) if scope == "team" else own_cases(actor)
    start = timezone.make_aware(datetime.combine(first, time.min))
    end = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min))
    return list(
        CourtEvent.objects.visible_to(actor)
        .filter(case__in=cases, starts_at__gte=start, starts_at__lt=end)
        .exclude(status=EventStatus.CANCELLED)
        .select_related("case__court", "case__client__person")
        .order_by("starts_at", "pk")
    )


@require_GET
@errors_as_pages
def calendar(request: HttpRequest) -> HttpResponse:
    actor = reader(request)
    view = "month" if request.GET.get("view") == "month" else "week"
    scope = "team" if request.GET.get("scope") == "team" else "mine"
    try:
        start = date.fromisoformat(request.GET.get("start") or "")
    except ValueError:
        start = timezone.localdate()
    first, last, previous, following = _period(view, start)
    events = calendar_events(actor, scope, first, last)
    days: dict[date, list[CourtEvent]] = {}
    for event in events:
        days.setdefault(timezone.localtime(event.starts_at).date(), []).append(event)
    feed = CalendarFeed.objects.visible_to(actor).live().first()
    return render(
        request,
        "cases/calendar.html",
        {
            "view": view,
            "scope": scope,
            "first": first,
            "last": last,
            "previous": previous,
            "following": following,
            "days": sorted(days.items()),
            "count": len(events),
            "feed": feed,
            "today": timezone.localdate(),
        },
    )


@require_POST
@errors_as_pages
def feed_create(request: HttpRequest) -> HttpResponse:
    actor = reader(request)
    feed, secret = actions.create_calendar_feed(actor=actor)
    url = request.build_absolute_uri(reverse("api:cases_calendar_feed", args=[secret]))
    # Shown once, on this answer only: the address is not kept anywhere it can be read back.
    response = render(request, "cases/feed_created.html", {"feed": feed, "url": url})
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@errors_as_pages
def feed_revoke(request: HttpRequest) -> HttpResponse:
    actor = reader(request)
    feed = CalendarFeed.objects.visible_to(actor).live().first()
    if feed is None:
        messages.error(request, "You have no calendar feed address.")
    else:
        actions.revoke_calendar_feed(feed, actor=actor)
        messages.success(request, "The feed address is revoked: it no longer answers.")
    return HttpResponseRedirect(reverse("cases:calendar"))
