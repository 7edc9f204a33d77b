"""A stream of realistic jail and court events about the defender's clients, so a newcomer
sees notifications arrive live (``accord exchange simulate`` next to ``accord run``).

Each event is posted by a staff member of the sending agency through :func:`ingest_event`,
exactly as an agency's system would post it, and decided by the agreements in force."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.utils import timezone

from accord.accounts.identity import actor_for_user
from accord.core.actors import SYSTEM, Actor
from accord.directory.models import Agency, StaffProfile
from accord.exchange.actions import Ingested, ingest_event, revalidate_subscriptions

FACILITIES = ["Main jail", "North annex", "Work release center"]
HEARINGS = ["arraignment", "status hearing", "pretrial conference", "motion hearing"]


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
    """The defender's clients with open cases: their names, birth dates and case numbers."""
    from accord.cases.models import Case, CaseStatus

    rows = Case.objects.filter(status=CaseStatus.OPEN).select_related("client__person")[:500]
    return [
        {
            "first_name": c.client.person.first_name,
            "last_name": c.client.person.last_name,
            "date_of_birth": c.client.person.date_of_birth,
            "case": c.number,
        }
        for c in rows
    ]


def _event(
    rng: random.Random, subject: dict[str, Any], serial: int
) -> tuple[str, str, dict[str, Any]]:
    person = {"first_name": subject["first_name"], "last_name": subject["last_name"]}
    if subject["date_of_birth"]:
        person["date_of_birth"] = subject["date_of_birth"].isoformat()
    booking = f"SIM-{serial:06d}"
    if rng.random() < 0.5:
        code = rng.choice(["custody.booked", "custody.released"])
        payload: dict[str, Any] = {
            "subject": {"source_id": f"SIM-{subject['case']}", **person},
            "booking_number": booking,
        }
        if code == "custody.booked":
            payload["facility"] = rng.choice(FACILITIES)
        return "jail", code, payload
    when = timezone.now() + timedelta(days=rng.randint(3, 40), hours=rng.randint(0, 6))
    code = rng.choice(["court.hearing_scheduled", "court.hearing_continued"])
    payload = {
        "subject": {"source_id": f"SIM-{subject['case']}", **person},
        "case_reference": subject["case"],
        "hearing_at": when.replace(microsecond=0).isoformat(),
        "hearing_type": rng.choice(HEARINGS),
    }
    if code == "court.hearing_continued":
        payload["continued_from"] = (when - timedelta(days=14)).replace(microsecond=0).isoformat()
        payload["reason"] = "continued on the defense's motion"
    return "court", code, payload


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
    if not subjects:
        say("No open cases: seed the demo county first (accord demo).")
        return 0
    taken = 0
    stamp = int(time.time())
    for serial in range(count):
        kind, code, payload = _event(rng, rng.choice(subjects), serial)
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
