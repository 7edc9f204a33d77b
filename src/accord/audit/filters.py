"""The filters of the audit log, shared by its page, its CSV export and its API, so the three
always select the same events for the same question."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from accord.audit.codes import AuditAction, Outcome
from accord.audit.models import AuditEventQuerySet
from accord.core.errors import InvalidInput

# The query-string names, in the order the page shows them.
FILTER_NAMES = (
    "actor",
    "agency",
    "object_type",
    "object_id",
    "action",
    "outcome",
    "date_from",
    "date_to",
)
MAX_TEXT = {"actor": 150, "object_type": 64, "object_id": 64}


@dataclass(frozen=True)
class EventFilters:
    """What an auditor asked for. Empty values mean "any"."""

    actor: str = ""
    agency: int | None = None
    object_type: str = ""
    object_id: str = ""
    action: str = ""
    outcome: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def apply(self, queryset: AuditEventQuerySet) -> AuditEventQuerySet:
        if self.actor:
            queryset = queryset.filter(actor_label__icontains=self.actor)
        if self.agency is not None:
            queryset = queryset.filter(agency_id=self.agency)
        if self.object_type:
            queryset = queryset.filter(object_type=self.object_type)
        if self.object_id:
            queryset = queryset.filter(object_id=self.object_id)
        if self.action:
            queryset = queryset.filter(action=self.action)
        if self.outcome:
            queryset = queryset.filter(outcome=self.outcome)
        if self.date_from is not None:
            queryset = queryset.filter(occurred_at__gte=_start_of(self.date_from))
        if self.date_to is not None:
            # "to" is inclusive: everything before the start of the next day.
            queryset = queryset.filter(occurred_at__lt=_start_of(self.date_to + timedelta(days=1)))
        return queryset

    def as_details(self) -> dict[str, Any]:
        """The filters that were set, JSON-ready, for the audit event recording the read."""
        return {
            name: value.isoformat() if isinstance(value, date) else value
            for name, value in asdict(self).items()
            if value not in ("", None)
        }

    def as_query(self) -> dict[str, str]:
        """The filters as query-string parameters (for links that keep them)."""
        return {name: str(value) for name, value in self.as_details().items()}


def _start_of(day: date) -> datetime:
    # Dates are the partnership's local days (TIME_ZONE), as a person reading the page means.
    return timezone.make_aware(datetime.combine(day, time.min))


def _date(raw: str, name: str, errors: list[dict[str, str]]) -> date | None:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors.append({"field": name, "reason": "a date as YYYY-MM-DD"})
        return None


def parse_filters(data: Mapping[str, Any]) -> EventFilters:
    """Filters from a query string (or the API's parsed query); InvalidInput names each bad
    field. Unknown parameters are left to the caller (pagination cursors live beside these)."""
    raw = {name: str(data.get(name) or "").strip() for name in FILTER_NAMES}
    errors: list[dict[str, str]] = []
    for name, limit in MAX_TEXT.items():
        if len(raw[name]) > limit:
            errors.append({"field": name, "reason": f"at most {limit} characters"})
    agency = None
    if raw["agency"]:
        if raw["agency"].isdigit():
            agency = int(raw["agency"])
        else:
            errors.append({"field": "agency", "reason": "choose an agency from the list"})
    if raw["action"] and raw["action"] not in AuditAction.values:
        errors.append({"field": "action", "reason": "choose an action from the list"})
    if raw["outcome"] and raw["outcome"] not in Outcome.values:
        errors.append({"field": "outcome", "reason": "choose an outcome from the list"})
    date_from = _date(raw["date_from"], "date_from", errors) if raw["date_from"] else None
    date_to = _date(raw["date_to"], "date_to", errors) if raw["date_to"] else None
    if date_from and date_to and date_to < date_from:
        errors.append({"field": "date_to", "reason": "must not be before the start date"})
    if errors:
        raise InvalidInput("Some filters are not valid.", errors=errors)
    return EventFilters(
        actor=raw["actor"],
        agency=agency,
        object_type=raw["object_type"],
        object_id=raw["object_id"],
        action=raw["action"],
        outcome=raw["outcome"],
        date_from=date_from,
        date_to=date_to,
    )
