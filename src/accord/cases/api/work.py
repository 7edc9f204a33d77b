"""Ticklers, tickler rules, calendars and calendar feeds over the API."""

from datetime import date, timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from ninja import Query, Schema
from ninja.pagination import paginate

from accord.cases import actions
from accord.cases.access import manages_rules_of
from accord.cases.api import router
from accord.cases.api.common import person, reader, writer
from accord.cases.api.schemas import (
    CalendarEventOut,
    CalendarFeedOut,
    CaseTicklerCloseIn,
    CaseTicklerIn,
    CaseTicklerOut,
    TicklerRuleIn,
    TicklerRuleOut,
)
from accord.cases.calendar import ical
from accord.cases.models import CalendarFeed, Case, Tickler, TicklerRule, TicklerStatus
from accord.cases.views.work import calendar_events, own_cases
from accord.core.access import access_object
from accord.core.actors import Actor
from accord.core.api import ERRORS, AccordCursorPagination, actor_of
from accord.core.errors import InvalidInput, NotFound, PermissionDenied
from accord.directory.models import Agency


class TicklerFilters(Schema):
    status: TicklerStatus = TicklerStatus.OPEN
    case_id: int | None = None
    due_before: date | None = None


@router.get("/ticklers", response={200: list[CaseTicklerOut], **ERRORS})
@paginate(AccordCursorPagination)
def tickler_list(request: HttpRequest, filters: Query[TicklerFilters]) -> Any:
    """Deadlines: of one case (``case_id``), or else of the caller's own cases."""
    actor = reader(request)
    ticklers = Tickler.objects.visible_to(actor).filter(status=filters.status)
    if filters.case_id is not None:
        ticklers = ticklers.filter(case=access_object(Case.objects, actor, filters.case_id))
    else:
        ticklers = ticklers.filter(case__in=own_cases(actor))
    if filters.due_before is not None:
        ticklers = ticklers.filter(due_on__lt=filters.due_before)
    return ticklers.select_related("case")


@router.post("/cases/{case_id}/ticklers", response={201: CaseTicklerOut, **ERRORS})
def tickler_create(request: HttpRequest, case_id: int, payload: CaseTicklerIn) -> Any:
    actor = writer(request)
    case = access_object(Case.objects, actor, case_id)
    tickler = actions.add_tickler(case, actor=actor, label=payload.label, due_on=payload.due_on)
    return 201, Tickler.objects.select_related("case").get(pk=tickler.pk)


def _close(request: HttpRequest, tickler_id: int, note: str, complete: bool) -> Any:
    actor = writer(request)
    tickler = access_object(Tickler.objects.select_related("case"), actor, tickler_id)
    if complete:
        return actions.complete_tickler(tickler, actor=actor, note=note)
    return actions.dismiss_tickler(tickler, actor=actor, note=note)


@router.post("/ticklers/{tickler_id}/complete", response={200: CaseTicklerOut, **ERRORS})
def tickler_complete(request: HttpRequest, tickler_id: int, payload: CaseTicklerCloseIn) -> Any:
    return _close(request, tickler_id, payload.note, complete=True)


@router.post("/ticklers/{tickler_id}/dismiss", response={200: CaseTicklerOut, **ERRORS})
def tickler_dismiss(request: HttpRequest, tickler_id: int, payload: CaseTicklerCloseIn) -> Any:
    """Set a deadline aside as not applying; the note says why."""
    return _close(request, tickler_id, payload.note, complete=False)


# --- rules -----------------------------------------------------------------------------------


@router.get("/tickler-rules", response={200: list[TicklerRuleOut], **ERRORS})
def rule_list(request: HttpRequest) -> Any:
    """The office's tickler rules (data: trigger, value, offset, label)."""
    actor = actor_of(request)
    if actor.attributes.get("agency_kind") != "public_defender":
        raise PermissionDenied("Tickler rules are the defender's.")
    return list(TicklerRule.objects.visible_to(actor))


def _rule_agency(request: HttpRequest) -> tuple[Actor, Agency]:
    actor = actor_of(request)
    agency_id = manages_rules_of(actor)
    if agency_id is None:
        raise PermissionDenied("The office's supervisors and administrators set tickler rules.")
    return actor, Agency.objects.get(pk=agency_id)


@router.post("/tickler-rules", response={201: TicklerRuleOut, **ERRORS})
def rule_create(request: HttpRequest, payload: TicklerRuleIn) -> Any:
    actor, agency = _rule_agency(request)
    return 201, actions.save_tickler_rule(agency, actor=actor, **payload.dict())


@router.put("/tickler-rules/{rule_id}", response={200: TicklerRuleOut, **ERRORS})
def rule_update(request: HttpRequest, rule_id: int, payload: TicklerRuleIn) -> Any:
    """Change a rule (it applies to triggers recorded from now on)."""
    actor, agency = _rule_agency(request)
    rule = access_object(TicklerRule.objects, actor, rule_id)
    return actions.save_tickler_rule(agency, actor=actor, rule=rule, **payload.dict())


# --- calendar --------------------------------------------------------------------------------


class CalendarFilters(Schema):
    start: date | None = None
    days: int = 7
    scope: str = "mine"


@router.get("/calendar", response={200: list[CalendarEventOut], **ERRORS})
def calendar(request: HttpRequest, filters: Query[CalendarFilters]) -> Any:
    """Court dates of the caller's own cases (``scope=mine``) or their unit's (``team``),
    from ``start`` (default today) for ``days`` days (at most 62)."""
    actor = person(request)
    if not 1 <= filters.days <= 62:
        raise InvalidInput("Too long a period.", errors=[{"field": "days", "reason": "1 to 62"}])
    if filters.scope not in ("mine", "team"):
        raise InvalidInput("Unknown scope.", errors=[{"field": "scope", "reason": "mine or team"}])
    first = filters.start or timezone.localdate()
    return calendar_events(actor, filters.scope, first, first + timedelta(days=filters.days - 1))


@router.post("/calendar/feed", response={201: CalendarFeedOut, **ERRORS})
def feed_create(request: HttpRequest) -> Any:
    """A new private feed address for the caller's court dates (iCalendar); the previous
    one stops working. The address is in this answer only."""
    actor = person(request)
    feed, secret = actions.create_calendar_feed(actor=actor)
    url = request.build_absolute_uri(reverse("api:cases_calendar_feed", args=[secret]))
    return 201, {"id": feed.pk, "url": url, "created_at": feed.created_at}


@router.delete("/calendar/feed", response={204: None, **ERRORS})
def feed_revoke(request: HttpRequest) -> Any:
    """Revoke the caller's feed address: it answers 404 from now on."""
    actor = person(request)
    feed = CalendarFeed.objects.visible_to(actor).live().first()
    if feed is None:
        raise NotFound("You have no calendar feed address.")
    actions.revoke_calendar_feed(feed, actor=actor)
    return 204, None


@router.get(
    "/calendar/feeds/{secret}.ics",
    response={200: None, 404: ERRORS[404]},
    auth=None,
    url_name="cases_calendar_feed",
    openapi_extra={
        "responses": {"200": {"description": "The owner's court dates as iCalendar (RFC 5545)"}}
    },
)
def feed_read(request: HttpRequest, secret: str) -> Any:
    """A person's court dates for their calendar program, at the secret address made for
    them (no sign-in: the address is the credential). Revoked or unknown: 404."""
    from accord.accounts.identity import actor_for_user

    found = actions.read_calendar_feed(secret, actor=actor_for_user(None, request))
    if found is None:
        raise NotFound("No such calendar feed.")
    owner, events = found
    response = HttpResponse(
        ical.render(events, f"Court dates ({owner.label.removeprefix('calendar feed of ')})"),
        content_type="text/calendar; charset=utf-8",
    )
    response["Cache-Control"] = "private, no-store"
    return response
