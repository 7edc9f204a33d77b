"""A stream of realistic jail and court events about the defender's clients, so a newcomer
sees notifications arrive live and case pages change (``accord demo simulate`` next to
``accord run``, whose worker applies each event to the case records).

Each event is posted by a staff member of the sending agency through :func:`ingest_event`,
exactly as an agency's system would post it, and decided by the agreements in force."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from datetime import time as dtime
from typing import Any

from django.utils import timezone

from accord.accounts.identity import actor_for_user
from accord.core.actors import SYSTEM, Actor
from accord.directory.models import Agency, StaffProfile
from accord.exchange.actions import Ingested, ingest_event, revalidate_subscriptions

FACILITIES = ["Main jail", "North annex", "Work release center"]
HEARINGS = ["arraignment", "status hearing", "pretrial conference", "motion hearing"]
HOURS = ((9, 0), (10, 30), (13, 30), (15, 0))


def _sender(kind: str) -> tuple[Agency, Actor] | None:
    agency = Agency.objects.filter(kind=kind).order_by("pk").first()
    if agency is None:
        return None
    staff = StaffProfile.objects.filter(agency=agency, user__is_active=True).with_roles()
    for profile in staff:
        if profile.roles & {"officer", "clerk"}:
            return agency, actor_for_user(profile.user)
    return None


def _subjects() -> list[dict[str, Any]]:
    """The defender's clients with open cases: their names, birth dates, case numbers, the
    booking they are held under (if in custody) and the case's next court date, so the
    stream releases people who are in and continues hearings that are on the calendar."""
    from accord.cases.models import Case, CaseStatus, CourtEvent, CustodyStatus, EventStatus

    cases = list(Case.objects.filter(status=CaseStatus.OPEN).select_related("client__person")[:500])
    held = {
        client_id: booking or f"HCJ-{pk:06d}"
        for client_id, booking, pk in CustodyStatus.objects.filter(
            client_id__in={c.client_id for c in cases}, released_on__isnull=True
        ).values_list("client_id", "booking_number", "pk")
    }
    upcoming: dict[int, Any] = {}
    for case_id, starts_at, kind in (
        CourtEvent.objects.filter(
            case_id__in=[c.pk for c in cases],
            status=EventStatus.SCHEDULED,
            starts_at__gte=timezone.now(),
        )
        .order_by("-starts_at")
        .values_list("case_id", "starts_at", "kind")
    ):
        upcoming[case_id] = (starts_at, kind)
    return [
        {
            "first_name": c.client.person.first_name,
            "last_name": c.client.person.last_name,
            "date_of_birth": c.client.person.date_of_birth,
            "case": c.number,
            "client": c.client_id,
            "held": held.get(c.client_id, ""),
            "next": upcoming.get(c.pk),
        }
        for c in cases
    ]


def _court_time(rng: random.Random, days: int) -> datetime:
    day = timezone.localdate() + timedelta(days=days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    hour, minute = rng.choice(HOURS)
    return timezone.make_aware(datetime.combine(day, dtime(hour, minute)))


def _event(
    rng: random.Random, subject: dict[str, Any], serial: int, held: dict[int, str]
) -> tuple[str, str, dict[str, Any]]:
    """One event about ``subject``: a booking or a release (whichever fits whether the
    client is held), or a new court date or a continuance of the next one. ``held`` (client
    to booking) is kept up to date as the stream goes."""
    person = {"first_name": subject["first_name"], "last_name": subject["last_name"]}
    if subject["date_of_birth"]:
        person["date_of_birth"] = subject["date_of_birth"].isoformat()
    who = {"source_id": f"SIM-{subject['case']}", **person}
    if rng.random() < 0.5:
        booking = held.pop(subject["client"], "")
        if booking:
            return "jail", "custody.released", {"subject": who, "booking_number": booking}
        booking = f"SIM-{serial:06d}"
        held[subject["client"]] = booking
        payload = {"subject": who, "booking_number": booking, "facility": rng.choice(FACILITIES)}
        return "jail", "custody.booked", payload
    payload = {"subject": who, "case_reference": subject["case"]}
    if subject["next"] is not None and rng.random() < 0.7:
        was, kind = subject["next"]
        when = _court_time(rng, (was.date() - timezone.localdate()).days + rng.randint(7, 35))
        subject["next"] = (when, kind)
        payload |= {
            "hearing_at": when.isoformat(),
            "continued_from": was.isoformat(),
            "hearing_type": kind,
            "reason": "continued on the defense's motion",
        }
        return "court", "court.hearing_continued", payload
    when = _court_time(rng, rng.randint(3, 40))
    if subject["next"] is None:
        subject["next"] = (when, "pretrial")
    payload |= {"hearing_at": when.isoformat(), "hearing_type": rng.choice(HEARINGS)}
    return "court", "court.hearing_scheduled", payload


def simulate(
    count: int,
    interval: float = 2.0,
    seed: int | None = None,
    say: Callable[[str], None] = print,
) -> int:
    """Post ``count`` events, one every ``interval`` seconds; returns how many were taken."""
    rng = random.Random(seed)  # noqa: S311 - a demo stream, not a secret
    revalidate_subscriptions(actor=SYSTEM)
    senders = {kind: _sender(kind) for kind in ("jail", "court")}
    subjects = _subjects()
    held = {s["client"]: s["held"] for s in subjects if s["held"]}
    if not subjects:
        say("No open cases: seed the demo county first (accord demo).")
        return 0
    taken = 0
    stamp = int(time.time())
    for serial in range(count):
        kind, code, payload = _event(rng, rng.choice(subjects), serial, held)
        sender = senders.get(kind)
        if sender is None:
            continue
        agency, actor = sender
        result: Ingested = ingest_event(
            agency, code, payload, f"sim-{stamp}-{serial}", timezone.now(), actor=actor
        )
        taken += 1
        told = result.event.notifications.count()
        case = payload.get("case_reference") or "-"
        say(f"{agency.short_name} {code} for case {case}: {told} notified")
        if interval and serial + 1 < count:
            time.sleep(interval)
    return taken
