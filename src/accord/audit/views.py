"""The audit log's pages: browse and filter, one event, CSV export, verify the chain.

Only auditors reach them; anyone else is told the pages do not exist (404, not 403), as the
navigation already hides them. Every read is itself audited.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from accord.audit import actions
from accord.audit.access import access_event
from accord.audit.codes import AuditAction, Outcome
from accord.audit.filters import EventFilters, parse_filters
from accord.audit.models import AuditCheckpoint, AuditEvent, AuditEventQuerySet, reads_every_agency
from accord.core.actors import Actor
from accord.core.errors import InvalidInput, NotFound
from accord.directory.models import Agency

PAGE_SIZE = 50
# The CSV's columns: every stored field, in the chain's order.
CSV_COLUMNS = (
    "seq",
    "occurred_at",
    "action",
    "outcome",
    "actor_label",
    "actor_user_id",
    "actor_token_id",
    "agency_id",
    "object_type",
    "object_id",
    "object_label",
    "request_id",
    "source_ip",
    "details",
    "prev_hash",
    "hash",
)
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _auditor(request: HttpRequest) -> Actor:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    if actor.scopes is not None or actor.user_id is None or not actor.has_role("auditor"):
        raise Http404("No such page.")
    return actor


def _agencies(actor: Actor) -> dict[int, str]:
    return dict(Agency.objects.visible_to(actor).order_by("name").values_list("pk", "short_name"))


def _cursor(data: QueryDict, name: str) -> int | None:
    raw = data.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise InvalidInput(
            "The page link is not valid.", errors=[{"field": name, "reason": "not an event number"}]
        )
    return int(raw)


@dataclass(frozen=True)
class Page:
    events: list[AuditEvent]
    newer: int | None  # the "after" cursor of the newer page, if there is one
    older: int | None  # the "before" cursor of the older page, if there is one


def _page(queryset: AuditEventQuerySet, before: int | None, after: int | None) -> Page:
    """Keyset pagination on seq (newest first): each page is one index range scan, however
    long the log, and no COUNT(*) over a million rows on every view."""
    if after is not None:
        rows = list(queryset.filter(seq__gt=after).order_by("seq")[: PAGE_SIZE + 1])
        has_newer = len(rows) > PAGE_SIZE
        events = list(reversed(rows[:PAGE_SIZE]))
        has_older = bool(events) and queryset.filter(seq__lt=events[-1].seq).exists()
    else:
        window = queryset if before is None else queryset.filter(seq__lt=before)
        rows = list(window.order_by("-seq")[: PAGE_SIZE + 1])
        has_older = len(rows) > PAGE_SIZE
        events = rows[:PAGE_SIZE]
        if before is None:
            has_newer = False
        elif events:
            has_newer = queryset.filter(seq__gt=events[0].seq).exists()
        else:
            has_newer = queryset.filter(seq__gte=before).exists()
    newer = None
    if has_newer:
        # An empty page past the end of a filter still leads back to what lies before it.
        newer = events[0].seq if events else (before or 1) - 1
    return Page(events=events, newer=newer, older=events[-1].seq if has_older else None)


def _link(filters: EventFilters, **cursor: int) -> str:
    return "?" + urlencode({**filters.as_query(), **{k: str(v) for k, v in cursor.items()}})


def _verification_summary() -> dict[str, Any] | None:
    last = actions.last_verification()
    if last is None:
        return None
    return {"at": last.occurred_at, "by": last.actor_label, "seq": last.seq, **last.details}


def _list_context(actor: Actor, request: HttpRequest) -> dict[str, Any]:
    agencies = _agencies(actor)
    return {
        "values": {name: request.GET.get(name, "") for name in request.GET},
        "agency_choices": sorted(agencies.items(), key=lambda item: item[1])
        if reads_every_agency(actor)
        else [],
        "action_choices": AuditAction.choices,
        "outcome_choices": Outcome.choices,
        "verification": _verification_summary(),
        "agencies": agencies,
        "field_errors": {},
        "filtered": False,
    }


@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    actor = _auditor(request)
    context = _list_context(actor, request)
    try:
        filters = parse_filters(request.GET)
        before, after = _cursor(request.GET, "before"), _cursor(request.GET, "after")
    except InvalidInput as exc:
        # Nothing of the log is shown, so there is no read to record.
        field_errors: dict[str, list[str]] = {}
        for error in exc.errors:
            field_errors.setdefault(error["field"], []).append(error["reason"])
        context.update(error=exc.detail, field_errors=field_errors, rows=[])
        return render(request, "audit/event_list.html", context)
    queryset = filters.apply(AuditEvent.objects.visible_to(actor)).defer(
        "details", "prev_hash", "hash", "request_id"
    )
    page = _page(queryset, before, after)
    actions.record_audit_viewed(
        filters.as_details(),
        actor=actor,
        via="web",
        cursor=f"before={before}" if before else (f"after={after}" if after else ""),
    )
    agencies = context["agencies"]
    context.update(
        rows=[(event, agencies.get(event.agency_id or 0, "")) for event in page.events],
        filtered=bool(filters.as_details()),
        newer_url=_link(filters, after=page.newer) if page.newer is not None else "",
        older_url=_link(filters, before=page.older) if page.older is not None else "",
        export_url=reverse("audit:event-export") + _link(filters),
    )
    return render(request, "audit/event_list.html", context)


@require_GET
def event_detail(request: HttpRequest, seq: int) -> HttpResponse:
    actor = _auditor(request)
    try:
        event = access_event(actor, seq)
    except NotFound as exc:
        raise Http404(exc.detail) from exc
    visible = AuditEvent.objects.visible_to(actor)
    previous_visible = seq > 1 and visible.filter(seq=seq - 1).exists()
    next_visible = visible.filter(seq=seq + 1).exists()
    checkpoint = AuditCheckpoint.objects.filter(seq__gte=seq).order_by("seq").first()
    actions.record_audit_viewed({}, actor=actor, via="web", event=event)
    agency_name = ""
    if event.agency_id is not None:
        agency_name = _agencies(actor).get(event.agency_id, f"agency {event.agency_id}")
    return render(
        request,
        "audit/event_detail.html",
        {
            "event": event,
            "agency_name": agency_name,
            "details_json": json.dumps(event.details, indent=2, sort_keys=True, ensure_ascii=False),
            "previous_visible": previous_visible,
            "next_visible": next_visible,
            "previous_seq": seq - 1,
            "next_seq": seq + 1,
            "checkpoint": checkpoint,
        },
    )


class _Echo:
    """csv.writer writes into this and gets the line back, so rows can be streamed."""

    def write(self, value: str) -> str:
        return value


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv_value(name: str, value: Any) -> Any:
    if value is None:
        return ""
    if name == "occurred_at":
        return value.isoformat()
    if name == "details":
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return value


def _csv_lines(rows: Iterable[tuple[Any, ...]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for row in rows:
        yield writer.writerow(
            [_cell(_csv_value(name, value)) for name, value in zip(CSV_COLUMNS, row, strict=True)]
        )


@require_GET
def export_csv(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    actor = _auditor(request)
    try:
        filters = parse_filters(request.GET)
    except InvalidInput:
        # The list page shows the same query with its errors next to the fields.
        return HttpResponseRedirect(reverse("audit:event-list") + "?" + request.GET.urlencode())
    queryset = filters.apply(AuditEvent.objects.visible_to(actor)).order_by("seq")
    # Recorded before the first row leaves: an export cut short still counts as one.
    actions.record_audit_exported(filters.as_details(), actor=actor, via="web")
    rows = queryset.values_list(*CSV_COLUMNS).iterator(chunk_size=2000)
    response = StreamingHttpResponse(_csv_lines(rows), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="accord-audit-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def verify(request: HttpRequest) -> HttpResponse:
    actor = _auditor(request)
    result = actions.verify_chain(actor=actor, via="web")
    if result.ok:
        messages.success(request, f"The audit chain is intact: {result.checked} events verified.")
    else:
        messages.error(
            request,
            f"The audit chain does NOT verify: first bad event #{result.first_bad_seq} "
            f"({result.reason}); {result.checked} events before it verified.",
        )
    return HttpResponseRedirect(reverse("audit:event-list"))
