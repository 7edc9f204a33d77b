"""Measuring obligations from real timestamps.

Each measure kind has a source of occurrences: for "event delivered within N hours", the
event exchange (a later issue) registers a source that yields, per event of the named type
owed by the party, when it happened and when it was delivered; for "request answered
within N days", the discovery and referral requests do the same. Attestations and reports
are recorded here and measured by the built-in sources. Compliance is computed from those
timestamps whenever it is asked for; nothing is stored that could drift from them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone

from accord.agreements.models import Obligation, ObligationMeasure


@dataclass(frozen=True)
class Occurrence:
    """One thing the obligation applies to: when the clock started and when it stopped."""

    started_at: datetime
    completed_at: datetime | None
    ref: str = ""


# (obligation, since, until) -> occurrences whose clock started in [since, until)
OccurrenceSource = Callable[[Obligation, datetime, datetime], Iterable[Occurrence]]


class _Registry:
    sources: dict[str, OccurrenceSource] = {}


def register_source(measure: str, source: OccurrenceSource) -> None:
    """Plug in where occurrences of a measure come from (exchange, discovery, referrals)."""
    _Registry.sources[measure] = source


@dataclass(frozen=True)
class Compliance:
    measured: int
    met: int
    late: int
    pending: int
    overdue: int
    target_percent: int
    note: str = ""

    @property
    def rate(self) -> float | None:
        decided = self.met + self.late + self.overdue
        return None if decided == 0 else self.met / decided

    @property
    def percent(self) -> int | None:
        return None if self.rate is None else round(self.rate * 100)

    @property
    def meets_target(self) -> bool | None:
        return None if self.percent is None else self.percent >= self.target_percent

    @property
    def words(self) -> str:
        if self.note:
            return self.note
        if self.percent is None:
            return "nothing to measure in this period yet"
        return (
            f"{self.percent}% on time ({self.met} of {self.met + self.late + self.overdue}); "
            f"{self.late} late, {self.overdue} overdue, {self.pending} still within time; "
            f"target {self.target_percent}%"
        )


def deadline(obligation: Obligation) -> timedelta | None:
    if obligation.measure == ObligationMeasure.EVENT_DELIVERED and obligation.within_hours:
        return timedelta(hours=obligation.within_hours)
    if obligation.measure == ObligationMeasure.REQUEST_ANSWERED and obligation.within_days:
        return timedelta(days=obligation.within_days)
    return None


def _clocked(
    obligation: Obligation, occurrences: Iterable[Occurrence], now: datetime
) -> Compliance:
    allowed = deadline(obligation)
    assert allowed is not None
    met = late = pending = overdue = measured = 0
    for occurrence in occurrences:
        measured += 1
        due = occurrence.started_at + allowed
        if occurrence.completed_at is not None:
            if occurrence.completed_at <= due:
                met += 1
            else:
                late += 1
        elif now > due:
            overdue += 1
        else:
            pending += 1
    return Compliance(measured, met, late, pending, overdue, obligation.target_percent)


def _periods(start: date, end: date, every: int) -> list[tuple[date, date]]:
    periods = []
    cursor = start
    while cursor + timedelta(days=every) <= end + timedelta(days=1):
        periods.append((cursor, cursor + timedelta(days=every - 1)))
        cursor += timedelta(days=every)
    return periods


def _reports(obligation: Obligation, since: date, until: date) -> Compliance:
    """Report every N days: each full period since ``since`` needs one report filed in it
    (an attestation marked met whose period ends inside it)."""
    every = obligation.every_days or 0
    periods = _periods(since, until, every) if every else []
    filed = [
        a.period_end
        for a in obligation.attestations.filter(met=True, period_end__range=(since, until))
    ]
    met = sum(1 for start, end in periods if any(start <= d <= end for d in filed))
    return Compliance(len(periods), met, 0, 0, len(periods) - met, obligation.target_percent)


def _attested(obligation: Obligation, since: date, until: date) -> Compliance:
    rows = list(obligation.attestations.filter(period_end__range=(since, until)))
    met = sum(1 for a in rows if a.met)
    note = "" if rows else "no attestation for this period yet"
    return Compliance(len(rows), met, len(rows) - met, 0, 0, obligation.target_percent, note)


def compliance(
    obligation: Obligation,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime | None = None,
) -> Compliance:
    """How well ``obligation`` was kept between ``since`` and ``until`` (default: since its
    version came into force, until now)."""
    now = now or timezone.now()
    until = until or now
    if since is None:
        version = obligation.version
        start = version.activated_at or timezone.make_aware(
            datetime.combine(version.effective_on, datetime.min.time())
        )
        since = start
    measure = obligation.measure
    if measure == ObligationMeasure.REPORT_EVERY:
        return _reports(obligation, timezone.localdate(since), timezone.localdate(until))
    if measure == ObligationMeasure.ATTESTATION and measure not in _Registry.sources:
        return _attested(obligation, timezone.localdate(since), timezone.localdate(until))
    source = _Registry.sources.get(measure)
    if source is None:
        return Compliance(
            0,
            0,
            0,
            0,
            0,
            obligation.target_percent,
            "not measured yet: the events or requests it counts arrive with the "
            "exchange of a later release",
        )
    return _clocked(obligation, source(obligation, since, until), now)
