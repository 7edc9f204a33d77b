"""Measuring obligations from real timestamps.

Each measure kind has a source of occurrences: for "event delivered within N hours", the
event exchange (a later issue) registers a source that yields, per event of the named type
owed by the party, when it happened and when it was delivered; for "request answered
within N days", the discovery and referral requests do the same. Attestations and reports
are recorded here and measured by the built-in sources. Compliance is computed from those
timestamps whenever it is asked for; nothing is stored that could drift from them.
"""

from __future__ import annotations

import statistics
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


def occurrences(obligation: Obligation, since: datetime, until: datetime) -> list[Occurrence]:
    """The occurrences of a clocked obligation whose clock started in [since, until); empty
    when no source measures it (the breach alerts walk these)."""
    source = _Registry.sources.get(obligation.measure)
    return [] if source is None else list(source(obligation, since, until))


def duration_words(span: timedelta) -> str:
    """A short human duration: 45 s, 2 min, 3 h 10 min, 2 d 4 h."""
    seconds = int(span.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


@dataclass(frozen=True)
class Compliance:
    measured: int
    met: int
    late: int
    pending: int
    overdue: int
    target_percent: int
    note: str = ""
    # Median time from the clock's start to completion, over the completed occurrences.
    median: timedelta | None = None

    @property
    def rate(self) -> float | None:
        decided = self.met + self.late + self.overdue
        return None if decided == 0 else self.met / decided

    @property
    def percent(self) -> int | None:
        return None if self.rate is None else round(self.rate * 100)

    @property
    def percent_precise(self) -> float | None:
        """To one decimal (97.8), for the compliance headline."""
        return None if self.rate is None else round(self.rate * 100, 1)

    @property
    def median_words(self) -> str:
        return "" if self.median is None else duration_words(self.median)

    def headline(self, period: str) -> str:
        """One line for a period: "97.8% on time this month (45 of 46), median 2 min"."""
        if self.note:
            return self.note
        if self.percent_precise is None:
            return f"nothing to measure {period} yet"
        decided = self.met + self.late + self.overdue
        line = f"{self.percent_precise:g}% on time {period} ({self.met} of {decided})"
        if self.median is not None:
            line += f", median {duration_words(self.median)}"
        return line

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
    took: list[float] = []
    for occurrence in occurrences:
        measured += 1
        due = occurrence.started_at + allowed
        if occurrence.completed_at is not None:
            took.append((occurrence.completed_at - occurrence.started_at).total_seconds())
            if occurrence.completed_at <= due:
                met += 1
            else:
                late += 1
        elif now > due:
            overdue += 1
        else:
            pending += 1
    median = timedelta(seconds=statistics.median(took)) if took else None
    return Compliance(
        measured, met, late, pending, overdue, obligation.target_percent, median=median
    )


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


def in_force_since(obligation: Obligation) -> datetime:
    """When the obligation's version came into force (its activation, else its date)."""
    version = obligation.version
    return version.activated_at or timezone.make_aware(
        datetime.combine(version.effective_on, datetime.min.time())
    )


def this_month(obligation: Obligation, now: datetime | None = None) -> Compliance:
    """Compliance since the first of the current month in the office's time zone (or since
    the version came into force, if later)."""
    now = now or timezone.now()
    first = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return compliance(obligation, since=max(first, in_force_since(obligation)), until=now, now=now)


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
        since = in_force_since(obligation)
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
