"""iCalendar (RFC 5545) for a person's court dates: just enough of the format for every
calendar program, written here rather than pulled in as a dependency (docs/cases.md)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from accord.cases.models import CourtEvent, EventStatus

# A setting's length is not recorded; an hour blocks the time in a calendar program.
DEFAULT_LENGTH = timedelta(hours=1)


def _escape(value: str) -> str:
    # RFC 5545 3.3.11: backslash, semicolon, comma and newlines are escaped in TEXT.
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """RFC 5545 3.1: lines longer than 75 octets continue on the next, after a space."""
    data = line.encode()
    if len(data) <= 75:
        return line
    parts: list[str] = []
    current = b""
    for char in line:
        encoded = char.encode()
        if len(current) + len(encoded) > (75 if not parts else 74):
            parts.append(current.decode())
            current = b""
        current += encoded
    parts.append(current.decode())
    return "\r\n ".join(parts)


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def render(events: Iterable[CourtEvent], name: str) -> str:
    """The calendar of ``events`` (with their case, court and continuation loaded). Only
    what a calendar program needs: the kind of setting, the case number, the court and
    courtroom — no client name and nothing privileged, since calendars sync to other
    services."""
    now = _stamp(timezone.now())
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Accord//Court dates//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_escape(name)}",
    ]
    for event in events:
        court = event.case.court
        where = court.name + (f", {event.courtroom}" if event.courtroom else "")
        summary = f"{event.get_kind_display()} · {event.case.number}"
        description = f"Court date in case {event.case.number} ({court.short_name})."
        off = event.status in (EventStatus.CONTINUED, EventStatus.CANCELLED)
        if event.status == EventStatus.CONTINUED:
            summary = f"Continued: {summary}"
            if event.continued_to is not None:
                moved = timezone.localtime(event.continued_to.starts_at)
                description += f" Continued to {moved:%Y-%m-%d %H:%M}."
        elif event.status == EventStatus.CANCELLED:
            summary = f"Cancelled: {summary}"
        lines += [
            "BEGIN:VEVENT",
            f"UID:court-event-{event.pk}@accord",
            f"SEQUENCE:{event.sequence}",
            f"DTSTAMP:{now}",
            f"DTSTART:{_stamp(event.starts_at)}",
            f"DTEND:{_stamp(event.starts_at + DEFAULT_LENGTH)}",
            f"SUMMARY:{_escape(summary)}",
            f"LOCATION:{_escape(where)}",
            f"DESCRIPTION:{_escape(description)}",
            "STATUS:" + ("CANCELLED" if off else "CONFIRMED"),
            f"LAST-MODIFIED:{_stamp(event.updated_at)}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
