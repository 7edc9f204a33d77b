"""Partner agencies' events applied to the defender's records: a booking puts the client in
custody, a continuance moves the hearing on the case's calendar (and so on the calendar
page and the iCalendar feed), a disposition or a sentence is recorded, a warrant is flagged
on its case until recalled, probation supervision is noted on the client.

Only for an office the agreements let receive the event: the exchange routed it to at least
one of the office's staff (a ``Notification``, which holds the clause that allowed it). An
event no agreement allows reaches nobody, is audited as refused by the exchange, and
changes nothing here.

Order: events count by when they happened (``occurred_at``), never by arrival. A custody
spell and a court setting remember when their state was last decided; an older event that
arrives later is kept as history ("arrived late") and overwrites nothing. Idempotent: one
``PartnerUpdate`` per event and client, so a second run changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from accord.audit.chain import append as audit
from accord.audit.codes import AuditAction
from accord.cases.models import (
    CHANGED,
    Case,
    CaseStatus,
    Client,
    CourtEvent,
    CustodyStatus,
    Disposition,
    EventKind,
    EventStatus,
    PartnerChange,
    PartnerUpdate,
    Trigger,
)
from accord.cases.ticklers import actions as ticklers
from accord.core.actions import action
from accord.core.actors import Actor
from accord.core.errors import PermissionDenied

if TYPE_CHECKING:
    from accord.exchange.models import Event

CUSTODY_CODES = frozenset({"custody.booked", "custody.released", "custody.transferred"})
COURT_CODES = frozenset(
    {
        "court.hearing_scheduled",
        "court.hearing_continued",
        "court.hearing_cancelled",
        "court.hearing_held",
        "court.disposition",
        "court.sentence",
        "court.warrant_issued",
        "court.warrant_recalled",
    }
)
WARRANT_CODES = frozenset({"court.warrant_issued", "court.warrant_recalled"})
SUPERVISION_CODES = frozenset({"probation.supervision_started", "probation.supervision_ended"})
PROBATION_CODES = frozenset({"probation.violation_filed", *SUPERVISION_CODES})
# Words courts use for a setting, to the office's kinds ("pretrial" before "trial").
KIND_WORDS = (
    ("first appearance", EventKind.FIRST_APPEARANCE),
    ("arraign", EventKind.ARRAIGNMENT),
    ("bond", EventKind.BOND_HEARING),
    ("bail", EventKind.BOND_HEARING),
    ("pretrial", EventKind.PRETRIAL),
    ("pre-trial", EventKind.PRETRIAL),
    ("motion", EventKind.MOTION),
    ("probation", EventKind.PROBATION_VIOLATION),
    ("plea", EventKind.PLEA),
    ("sentenc", EventKind.SENTENCING),
    ("trial", EventKind.TRIAL),
    ("review", EventKind.REVIEW),
    ("status", EventKind.REVIEW),
)
# Words for a disposition ("not guilty" before "guilty").
DISPOSITION_WORDS = (
    ("not guilty", Disposition.ACQUITTED),
    ("acquit", Disposition.ACQUITTED),
    ("nolle", Disposition.NOLLE),
    ("dismiss", Disposition.DISMISSED),
    ("divers", Disposition.DIVERTED),
    ("deferred", Disposition.DIVERTED),
    ("reduced", Disposition.REDUCED),
    ("transfer", Disposition.TRANSFERRED),
    ("plea", Disposition.CONVICTED_PLEA),
    ("pleaded", Disposition.CONVICTED_PLEA),
    ("verdict", Disposition.CONVICTED_TRIAL),
    ("guilty", Disposition.CONVICTED_TRIAL),
)


@dataclass
class Outcome:
    """What one event did to one client's records."""

    change: str
    summary: str
    case: Case | None = None
    court_event: CourtEvent | None = None
    custody: CustodyStatus | None = None
    # The case's outstanding warrant is the update this outcome becomes.
    warrant: bool = False


def recipients(event: Event) -> dict[int, str]:
    """Each agency the exchange told about ``event``, with the clauses that allowed it (from
    its first notification to that agency)."""
    from accord.exchange.models import Notification

    found: dict[int, str] = {}
    rows = Notification.objects.filter(event=event).order_by("pk")
    for agency_id, explanation in rows.values_list("agency_id", "explanation"):
        found.setdefault(agency_id, explanation)
    return found


def _people(event: Event, agency_id: int) -> list[Client]:
    if event.master_id is None:
        return []
    return list(
        Client.objects.filter(
            agency_id=agency_id, person__link__master_id=event.master_id
        ).order_by("pk")
    )


def _named_case(client: Client, number: str) -> Case | None:
    """The client's case of that number, whatever its court (a probation agency names the
    court's case number but is not the court)."""
    if not number:
        return None
    found: Case | None = (
        Case.objects.filter(client=client, number=number).order_by("-opened_on", "-pk").first()
    )
    return found


def _only_open_case(client: Client, court_id: int) -> Case | None:
    """The client's open case at that court, when there is exactly one (a warrant naming no
    case is not guessed onto one of several)."""
    cases = list(Case.objects.filter(client=client, court_id=court_id, status=CaseStatus.OPEN)[:2])
    return cases[0] if len(cases) == 1 else None


def _targets(event: Event, agency_id: int, code: str) -> list[tuple[Client, Case | None]]:
    """The office's clients (and, for court events, the case) the event is about: custody and
    probation by the person identity resolution found; court events by the case number at
    that court (a warrant naming no case: the client's only open case at that court)."""
    if code in CUSTODY_CODES:
        return [(client, None) for client in _people(event, agency_id)]
    if code in PROBATION_CODES:
        return [
            (client, _named_case(client, event.case_reference))
            for client in _people(event, agency_id)
        ]
    if not event.case_reference:
        if code in WARRANT_CODES:
            return [
                (client, _only_open_case(client, event.source_agency_id))
                for client in _people(event, agency_id)
            ]
        return []
    cases = Case.objects.filter(
        agency_id=agency_id, number=event.case_reference, court_id=event.source_agency_id
    ).select_related("client")
    return [(case.client, case) for case in cases.order_by("pk")]


@action
def apply_partner_event(event: Event, *, actor: Actor) -> list[PartnerUpdate]:
    """Apply ``event`` to the records of every office the exchange told about it (see the
    module's docstring); returns the updates written by this call (none the second time)."""
    if not actor.is_system:
        raise PermissionDenied("Only Accord itself applies partner agencies' events.")
    code = event.event_type.code
    apply = APPLY.get(code)
    if apply is None:
        return []
    acting = replace(actor, label=f"{event.source_agency.short_name} event {event.pk}"[:150])
    written: list[PartnerUpdate] = []
    for agency_id, basis in recipients(event).items():
        for client, case in _targets(event, agency_id, code):
            # One writer per client at a time: two events about the same person are
            # applied one after the other, each seeing what the other decided.
            Client.objects.select_for_update().filter(pk=client.pk).first()
            if PartnerUpdate.objects.filter(event=event, client=client).exists():
                continue
            outcome = apply(event, client, case, acting)
            update = PartnerUpdate.objects.create(
                agency_id=agency_id,
                client=client,
                case=outcome.case or case,
                court_event=outcome.court_event,
                custody=outcome.custody,
                event=event,
                source_agency_id=event.source_agency_id,
                event_code=code,
                reference=_reference(event),
                occurred_at=event.occurred_at,
                change=outcome.change,
                summary=outcome.summary[:300],
                basis=basis,
            )
            if outcome.warrant and outcome.case is not None:
                outcome.case.warrant_source = update
                outcome.case.save(update_fields=["warrant_source"])
            audit(
                acting,
                AuditAction.PARTNER_EVENT_APPLIED,
                obj=update,
                agency_id=agency_id,
                details={
                    "event": event.pk,
                    "event_type": code,
                    "source_agency": event.source_agency_id,
                    "client": client.number,
                    "case": update.case_id,
                    "court_event": update.court_event_id,
                    "custody": update.custody_id,
                    "change": update.change,
                    "basis": basis[:500],
                },
            )
            written.append(update)
    return written


def _reference(event: Event) -> str:
    payload = event.payload
    named = payload.get("booking_number") or payload.get("warrant_number")
    return str(named or event.case_reference or "")[:80]


def _day(moment: datetime) -> date:
    return timezone.localdate(moment)


def _moment(value: Any) -> datetime | None:
    parsed = parse_datetime(str(value or ""))
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def _when(moment: datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def _match(text: str, words: tuple[tuple[str, str], ...], choices: list[tuple[str, str]]) -> str:
    said = " ".join(text.lower().replace("_", " ").split())
    for value, label in choices:
        if said in (value.replace("_", " "), str(label).lower()):
            return value
    return next((value for needle, value in words if needle in said), "")


def kind_of(text: str) -> str:
    """The office's kind of setting for the words a court used ("status hearing": review)."""
    return _match(text, KIND_WORDS, EventKind.choices) or EventKind.OTHER


def disposition_of(text: str) -> str:
    """The office's disposition code for the court's words ("Dismissed with prejudice")."""
    return _match(text, DISPOSITION_WORDS, Disposition.choices) or Disposition.OTHER


# --- custody ---------------------------------------------------------------------------------


def _spells(client: Client) -> Any:
    return CustodyStatus.objects.select_for_update().filter(client=client)


def _booked(event: Event, client: Client, case: Case | None, actor: Actor) -> Outcome:
    number, facility = str(event.payload["booking_number"]), str(event.payload["facility"])
    since = _day(event.occurred_at)
    spells = _spells(client)
    known = spells.filter(booking_number=number).first()
    if known is not None:
        return Outcome(
            PartnerChange.ALREADY_KNOWN, f"Booking {number} is on record.", custody=known
        )
    release = (
        PartnerUpdate.objects.filter(
            client=client,
            event_code="custody.released",
            reference=number,
            occurred_at__gt=event.occurred_at,
        )
        .order_by("occurred_at")
        .first()
    )
    if release is not None:
        # The release arrived first: this booking is a spell already over.
        released = max(since, _day(release.occurred_at))
        spell = CustodyStatus.objects.create(
            client=client,
            in_custody_since=since,
            facility=facility,
            booking_number=number,
            released_on=released,
            changed_at=release.occurred_at,
        )
        return Outcome(
            PartnerChange.CUSTODY_HISTORY,
            f"Booked at {facility} (booking {number}) on {since}, released on {released}.",
            custody=spell,
        )
    if spells.filter(Q(changed_at__gt=event.occurred_at) | Q(released_on__gt=since)).exists():
        return Outcome(
            PartnerChange.ARRIVED_LATE,
            f"Booking {number} at {facility} on {since}: newer custody events are on record.",
        )
    current = spells.filter(released_on__isnull=True).first()
    if current is not None:
        if current.booking_number:
            return Outcome(
                PartnerChange.ALREADY_KNOWN,
                f"Booking {number} at {facility}: in custody already under booking "
                f"{current.booking_number} since {current.in_custody_since}.",
                custody=current,
            )
        current.booking_number = number
        current.changed_at = event.occurred_at
        current.save(update_fields=["booking_number", "changed_at"])
        return Outcome(
            PartnerChange.CUSTODY_MATCHED,
            f"Booking {number} at {facility} matched to the custody recorded since "
            f"{current.in_custody_since}.",
            custody=current,
        )
    spell = CustodyStatus.objects.create(
        client=client,
        in_custody_since=since,
        facility=facility,
        booking_number=number,
        changed_at=event.occurred_at,
    )
    for open_case in Case.objects.filter(client=client, status=CaseStatus.OPEN):
        ticklers.fire(
            open_case,
            Trigger.CUSTODY_BEGAN,
            actor=actor,
            base=since,
            source=f"custody:{spell.pk}",
        )
    return Outcome(
        PartnerChange.CUSTODY_BEGAN,
        f"Booked at {facility} (booking {number}) on {since}.",
        custody=spell,
    )


def _held_spell(client: Client, number: str, on: date) -> CustodyStatus | None:
    """The spell a release or transfer of booking ``number`` is about: the one under that
    number, else a custody the office recorded by hand that began by then."""
    spells = _spells(client)
    spell: CustodyStatus | None = spells.filter(booking_number=number).first()
    if spell is None:
        spell = spells.filter(
            released_on__isnull=True, booking_number="", in_custody_since__lte=on
        ).first()
    return spell


def _released(event: Event, client: Client, case: Case | None, actor: Actor) -> Outcome:
    number = str(event.payload["booking_number"])
    on = _day(event.occurred_at)
    spell = _held_spell(client, number, on)
    if spell is None:
        # Kept with its booking number: a booking arriving later finds it (see _booked).
        return Outcome(
            PartnerChange.NOT_MATCHED,
            f"Release from booking {number} on {on}: no such custody on record.",
        )
    if spell.released_on is not None:
        return Outcome(
            PartnerChange.ALREADY_KNOWN,
            f"Booking {number}: released on {spell.released_on} already on record.",
            custody=spell,
        )
    if on < spell.in_custody_since:
        return Outcome(
            PartnerChange.ARRIVED_LATE,
            f"Release from booking {number} on {on} is older than the custody since "
            f"{spell.in_custody_since}.",
        )
    spell.released_on = on
    spell.booking_number = number
    spell.changed_at = max(spell.changed_at or event.occurred_at, event.occurred_at)
    spell.save(update_fields=["released_on", "booking_number", "changed_at"])
    return Outcome(
        PartnerChange.CUSTODY_ENDED,
        f"Released from {spell.facility} (booking {number}) on {on}.",
        custody=spell,
    )


def _transferred(event: Event, client: Client, case: Case | None, actor: Actor) -> Outcome:
    number, to = str(event.payload["booking_number"]), str(event.payload["to_facility"])
    spell = _held_spell(client, number, _day(event.occurred_at))
    if spell is None:
        return Outcome(
            PartnerChange.NOT_MATCHED, f"Transfer of booking {number} to {to}: no such custody."
        )
    if spell.released_on is not None or (
        spell.changed_at is not None and spell.changed_at > event.occurred_at
    ):
        return Outcome(
            PartnerChange.ARRIVED_LATE,
            f"Transfer of booking {number} to {to}: newer custody events are on record.",
            custody=spell,
        )
    before = spell.facility
    spell.facility = to
    spell.booking_number = number
    spell.changed_at = event.occurred_at
    spell.save(update_fields=["facility", "booking_number", "changed_at"])
    return Outcome(
        PartnerChange.CUSTODY_MOVED,
        f"Moved from {before} to {to} (booking {number}).",
        custody=spell,
    )


# --- court -----------------------------------------------------------------------------------


def _setting(case: Case, at: datetime) -> CourtEvent | None:
    """The case's setting at that minute (courts and the office may differ in seconds)."""
    start = at.replace(second=0, microsecond=0)
    found: CourtEvent | None = (
        CourtEvent.objects.select_for_update()
        .filter(case=case, starts_at__gte=start, starts_at__lt=start + timedelta(minutes=1))
        .order_by("pk")
        .first()
    )
    return found


def _late(setting: CourtEvent, event: Event) -> bool:
    return setting.status_changed_at is not None and setting.status_changed_at > event.occurred_at


def _decide(setting: CourtEvent, status: str, event: Event, **more: Any) -> None:
    setting.status = status
    setting.status_changed_at = event.occurred_at
    setting.sequence += 1
    for name, value in more.items():
        setattr(setting, name, value)
    setting.save()


def _schedule(
    case: Case,
    at: datetime,
    kind: str,
    courtroom: str,
    *,
    event: Event,
    actor: Actor,
    **more: Any,
) -> CourtEvent:
    setting = CourtEvent.objects.create(
        case=case,
        kind=kind,
        starts_at=at,
        courtroom=courtroom[:60],
        status_changed_at=event.occurred_at,
        **more,
    )
    if setting.status == EventStatus.SCHEDULED:
        ticklers.fire(
            case,
            Trigger.EVENT_SCHEDULED,
            actor=actor,
            base=_day(at),
            source=f"event:{setting.pk}",
            value=kind,
        )
    return setting


def _hearing(event: Event) -> tuple[datetime | None, str, str]:
    payload = event.payload
    return (
        _moment(payload.get("hearing_at")),
        str(payload.get("hearing_type") or ""),
        str(payload.get("courtroom") or ""),
    )


def _scheduled(event: Event, client: Client, case: Case | None, actor: Actor) -> Outcome:
    assert case is not None  # court events are applied to the case they name
    at, words, courtroom = _hearing(event)
    assert at is not None  # required by the event's schema
    setting = _setting(case, at)
    if setting is not None and setting.status == EventStatus.SCHEDULED:
        return Outcome(
            PartnerChange.ALREADY_KNOWN,
            f"{setting.get_kind_display()} on {_when(at)} is on the calendar.",
            court_event=setting,
        )
    if setting is not None and _late(setting, event):
        return Outcome(
            PartnerChange.ARRIVED_LATE,
            f"Setting of {_when(at)}: a newer decision is on record.",
            court_event=setting,
        )
    if setting is not None:
        # The court set again a setting it had taken off (a newer decision than ours).
        _decide(setting, EventStatus.SCHEDULED, event, continued_to=None)
    else:
        setting = _schedule(case, at, kind_of(words), courtroom, event=event, actor=actor)
    where = f", {setting.courtroom}" if setting.courtroom else ""
    return Outcome(
        PartnerChange.HEARING_SCHEDULED,
        f"{setting.get_kind_display()} set for {_when(at)}{where}.",
        court_event=setting,
    )


def _continued(event: Event, client: Client, case: Case | None, actor: Actor) -> Outcome:
    assert case is not None
    at, words, courtroom = _hearing(event)
    was = _moment(event.payload.get("continued_from"))
    assert at is not None  # required by the event's schema
    assert was is not None
    if at.replace(second=0, microsecond=0) == was.replace(second=0, microsecond=0):
        return Outcome(
            PartnerChange.NOT_MATCHED, f"Continuance from {_when(was)} to the same time."
        )
    old = _setting(case, was)
    if old is not None and _late(old, event):
        return Outcome(
            PartnerChange.ARRIVED_LATE,
            f"Continuance of the setting of {_when(was)}: a newer decision is on record.",
            court_event=old,
        )
    kind = kind_of(words) if words else (old.kind if old is not None else EventKind.OTHER)
    room = courtroom or (old.courtroom if old is not None else "")
    new = _setting(case, at) or _schedule(case, at, kind, room, event=event, actor=actor)
    reason = str(event.payload.get("reason") or "")[:1000]
    if old is None:
        # Kept as the setting that was continued, so a late event about it finds it decided.
        old = CourtEvent.objects.create(
            case=case,
            kind=kind,
            starts_at=was,
            courtroom=room[:60],
            status=EventStatus.CONTINUED,
            continued_to=new,
            result=reason,
            status_changed_at=event.occurred_at,
        )
    elif old.status == EventStatus.CONTINUED and old.continued_to_id == new.pk:
        return Outcome(
            PartnerChange.ALREADY_KNOWN,
            f"Continuance from {_when(was)} to {_when(at)} is on record.",
            court_event=new,
        )
    else:
        _decide(old, EventStatus.CONTINUED, event, continued_to=new, result=reason)
        ticklers.dismiss_from(
            case, f"event:{old.pk}", "The court continued the hearing.", actor=actor
        )
    because = f" ({reason})" if reason else ""
    return Outcome(
        PartnerChange.HEARING_MOVED,
        f"{new.get_kind_display()} continued from {_when(was)} to {_when(at)}{because}.",
        court_event=new,
    )


def _cancelled(event: Event, client: Client, case: Case | None, actor: Actor) -> Outcome:
    assert case is not None
    at, words, courtroom = _hearing(event)
    assert at is not None  # required by the event's schema
    setting = _setting(case, at)
    if setting is not None and _late(setting, event):
        return Outcome(
            PartnerChange.ARRIVED_LATE,
            f"Cancellation of the setting of {_when(at)}: a newer decision is on record.",
            court_event=setting,
        )
    if setting is not None and setting.status == EventStatus.CANCELLED:
        return Outcome(
            PartnerChange.ALREADY_KNOWN,
            f"The setting of {_when(at)} is cancelled already.",
            court_event=setting,
        )
    reason = str(event.payload.get("reason") or "")[:1000]
    if setting is None:
        setting = _schedule(
            case,
            at,
            kind_of(words),
            courtroom,
            event=event,
            actor=actor,
            status=EventStatus.CANCELLED,
        )
    else:
        _decide(setting, EventStatus.CANCELLED, event, result=reason)
        ticklers.dismiss_from(
            case, f"event:{setting.pk}", "The court cancelled the hearing.", actor=actor
        )
    return Outcome(
        PartnerChange.HEARING_CANCELLED,
        f"{setting.get_kind_display()} of {_when(at)} cancelled.",
        court_event=setting,
    )


def _held(event: Event, client: Client, case: Case | None, actor: Actor) -> Outcome:
    assert case is not None
    at, _words, _courtroom = _hearing(event)
    if at is not None:
        setting = _setting(case, at)
    else:
        # No time given: the case's latest setting still scheduled when it was held.
        setting = (
            CourtEvent.objects.select_for_update()
            .filter(case=case, status=EventStatus.SCHEDULED, starts_at__lte=event.occurred_at)
            .order_by("-starts_at", "-pk")
            .first()
        )
    if setting is None or setting.starts_at > timezone.now():
        return Outcome(PartnerChange.NOT_MATCHED, "Hearing held: no such setting on the calendar.")
    if _late(setting, event):
        return Outcome(
            PartnerChange.ARRIVED_LATE,
            f"Hearing of {_when(setting.starts_at)} held: a newer decision is on record.",
            court_event=setting,
        )
    if setting.status == EventStatus.HELD:
        return Outcome(
            PartnerChange.ALREADY_KNOWN,
            f"The hearing of {_when(setting.starts_at)} is recorded as held.",
            court_event=setting,
        )
    outcome = str(event.payload.get("outcome") or "")[:1000]
    _decide(setting, EventStatus.HELD, event, result=outcome or setting.result)
    ticklers.fire(
        case,
        Trigger.EVENT_HELD,
        actor=actor,
        base=_day(setting.starts_at),
        source=f"event:{setting.pk}",
        value=setting.kind,
    )
    said = f": {outcome}" if outcome else ""
    return Outcome(
        PartnerChange.HEARING_HELD,
        f"{setting.get_kind_display()} of {_when(setting.starts_at)} held{said}.",
        court_event=setting,
    )


def _decided_later(case: Case, event: Event) -> bool:
    """Whether a newer event of the same type already changed the case (a disposition or a
    sentence arriving late is history)."""
    return PartnerUpdate.objects.filter(
        case=case,
        event_code=event.event_type.code,
        occurred_at__gt=event.occurred_at,
        change__in=CHANGED,
    ).exists()


def _disposition(event: Event, client: Client, case: Case | None, actor: Actor) -> Outcome:
    assert case is not None
    words = str(event.payload["disposition"])
    code = disposition_of(words)
    if _decided_later(case, event):
        return Outcome(
            PartnerChange.ARRIVED_LATE, f"Disposition “{words}”: a newer one is on record."
        )
    locked = Case.objects.select_for_update().get(pk=case.pk)
    on = _day(event.occurred_at)
    if locked.disposition == code and locked.disposition_on == on:
        return Outcome(PartnerChange.ALREADY_KNOWN, f"Disposition “{words}” is on record.")
    locked.disposition = code
    locked.disposition_on = on
    locked.save(update_fields=["disposition", "disposition_on", "updated_at"])
    return Outcome(
        PartnerChange.DISPOSITION,
        f"Disposition entered on {on}: {locked.get_disposition_display()} (“{words}”).",
        case=locked,
    )


def _sentence(event: Event, client: Client, case: Case | None, actor: Actor) -> Outcome:
    assert case is not None
    words = str(event.payload["sentence"])[:1000]
    if _decided_later(case, event):
        return Outcome(PartnerChange.ARRIVED_LATE, f"Sentence “{words}”: a newer one is on record.")
    locked = Case.objects.select_for_update().get(pk=case.pk)
    on = _day(event.occurred_at)
    if locked.sentence == words and locked.sentenced_on == on:
        return Outcome(PartnerChange.ALREADY_KNOWN, f"Sentence “{words}” is on record.")
    locked.sentence = words
    locked.sentenced_on = on
    locked.save(update_fields=["sentence", "sentenced_on", "updated_at"])
    # Rules keyed to a held sentencing (e.g. the notice of appeal) fire once: with the
    # setting's own source when the court's calendar has it, so its "held" event adds none.
    setting = (
        CourtEvent.objects.filter(case=locked, kind=EventKind.SENTENCING, starts_at__date=on)
        .order_by("pk")
        .first()
    )
    ticklers.fire(
        locked,
        Trigger.EVENT_HELD,
        actor=actor,
        base=on,
        source=f"event:{setting.pk}" if setting is not None else f"sentence:{locked.pk}",
        value=EventKind.SENTENCING,
    )
    return Outcome(PartnerChange.SENTENCE, f"Sentence imposed on {on}: {words}", case=locked)


# --- warrants --------------------------------------------------------------------------------


def _warrant_issued(event: Event, client: Client, case: Case | None, actor: Actor) -> Outcome:
    number = str(event.payload["warrant_number"])
    kind = str(event.payload.get("warrant_type") or "").strip()
    what = f"Warrant {number}" + (f" ({kind})" if kind else "")
    if case is None:
        return Outcome(
            PartnerChange.NOT_MATCHED,
            f"{what}: it names no case, and the client has not exactly one open case there.",
        )
    recall = (
        PartnerUpdate.objects.filter(
            case=case,
            event_code="court.warrant_recalled",
            reference=number[:80],
            occurred_at__gt=event.occurred_at,
        )
        .order_by("occurred_at", "pk")
        .first()
    )
    if recall is not None:
        # The recall came first (or is newer): this warrant is history.
        return Outcome(
            PartnerChange.ARRIVED_LATE,
            f"{what} issued {_when(event.occurred_at)}: recalled {_when(recall.occurred_at)}.",
        )
    locked = Case.objects.select_for_update().get(pk=case.pk)
    issued = locked.warrant_issued_at
    if issued is not None and locked.warrant_reference == number[:80]:
        return Outcome(PartnerChange.ALREADY_KNOWN, f"{what} is on record as outstanding.")
    if issued is not None and issued > event.occurred_at:
        return Outcome(
            PartnerChange.ARRIVED_LATE,
            f"{what} issued {_when(event.occurred_at)}: the newer warrant "
            f"{locked.warrant_reference} is on record.",
        )
    locked.warrant_issued_at = event.occurred_at
    locked.warrant_reference = number[:80]
    locked.save(update_fields=["warrant_issued_at", "warrant_reference", "updated_at"])
    return Outcome(
        PartnerChange.WARRANT_ISSUED,
        f"{what} issued {_when(event.occurred_at)}: outstanding.",
        case=locked,
        warrant=True,
    )


def _warrant_recalled(event: Event, client: Client, case: Case | None, actor: Actor) -> Outcome:
    number = str(event.payload["warrant_number"])
    if case is None:
        return Outcome(
            PartnerChange.NOT_MATCHED,
            f"Recall of warrant {number}: it names no case, and the client has not exactly "
            "one open case there.",
        )
    locked = Case.objects.select_for_update().get(pk=case.pk)
    issued = locked.warrant_issued_at
    if issued is not None and locked.warrant_reference == number[:80]:
        if issued > event.occurred_at:
            return Outcome(
                PartnerChange.ARRIVED_LATE,
                f"Recall of warrant {number} {_when(event.occurred_at)}: issued again "
                f"{_when(issued)}.",
            )
        locked.warrant_issued_at = None
        locked.warrant_reference = ""
        locked.warrant_source = None
        locked.save(
            update_fields=[
                "warrant_issued_at",
                "warrant_reference",
                "warrant_source",
                "updated_at",
            ]
        )
        return Outcome(
            PartnerChange.WARRANT_RECALLED,
            f"Warrant {number} recalled {_when(event.occurred_at)}.",
            case=locked,
        )
    recalled = PartnerUpdate.objects.filter(
        case=case,
        event_code="court.warrant_recalled",
        reference=number[:80],
        change=PartnerChange.WARRANT_RECALLED,
    )
    if recalled.exists():
        return Outcome(PartnerChange.ALREADY_KNOWN, f"Warrant {number} is recalled already.")
    # Kept with the warrant number: its issue, arriving later, finds it recalled.
    return Outcome(
        PartnerChange.NOT_MATCHED,
        f"Recall of warrant {number} {_when(event.occurred_at)}: not outstanding on the case.",
    )


# --- probation -------------------------------------------------------------------------------


def _violation(event: Event, client: Client, case: Case | None, actor: Actor) -> Outcome:
    words = str(event.payload["violation"])
    where = f" in case {case.number}" if case is not None else ""
    return Outcome(
        PartnerChange.VIOLATION_FILED,
        f"Violation filed{where} on {_day(event.occurred_at)}: {words}",
        case=case,
    )


def _newer_supervision(client: Client, event: Event) -> PartnerUpdate | None:
    found: PartnerUpdate | None = (
        PartnerUpdate.objects.filter(
            client=client,
            event_code__in=SUPERVISION_CODES,
            occurred_at__gt=event.occurred_at,
            change__in=CHANGED,
        )
        .order_by("-occurred_at", "-pk")
        .first()
    )
    return found


def _supervision_started(event: Event, client: Client, case: Case | None, actor: Actor) -> Outcome:
    since = _day(event.occurred_at)
    newer = _newer_supervision(client, event)
    if newer is not None:
        return Outcome(
            PartnerChange.ARRIVED_LATE,
            f"Supervision from {since}: newer supervision events are on record "
            f"({newer.get_change_display().lower()} {_day(newer.occurred_at)}).",
        )
    officer = str(event.payload.get("officer") or "")[:200]
    ends = parse_date(str(event.payload.get("ends_on") or ""))
    locked = Client.objects.select_for_update().get(pk=client.pk)
    if (
        locked.on_supervision
        and locked.supervision_since == since
        and locked.supervision_agency_id == event.source_agency_id
    ):
        return Outcome(PartnerChange.ALREADY_KNOWN, f"Supervision since {since} is on record.")
    locked.supervision_since = since
    locked.supervision_agency_id = event.source_agency_id
    locked.supervision_officer = officer
    locked.supervision_ends_on = ends
    locked.supervision_ended_on = None
    locked.save(
        update_fields=[
            "supervision_since",
            "supervision_agency",
            "supervision_officer",
            "supervision_ends_on",
            "supervision_ended_on",
            "updated_at",
        ]
    )
    by = f", officer {officer}" if officer else ""
    until = f", expected to end {ends}" if ends else ""
    return Outcome(
        PartnerChange.SUPERVISION_STARTED,
        f"On supervision by {event.source_agency.name} since {since}{by}{until}.",
    )


def _supervision_ended(event: Event, client: Client, case: Case | None, actor: Actor) -> Outcome:
    on = _day(event.occurred_at)
    newer = _newer_supervision(client, event)
    if newer is not None:
        return Outcome(
            PartnerChange.ARRIVED_LATE,
            f"End of supervision on {on}: newer supervision events are on record "
            f"({newer.get_change_display().lower()} {_day(newer.occurred_at)}).",
        )
    locked = Client.objects.select_for_update().get(pk=client.pk)
    if locked.supervision_ended_on == on:
        return Outcome(PartnerChange.ALREADY_KNOWN, f"Supervision ended on {on} is on record.")
    reason = str(event.payload.get("reason") or "")
    known = "" if locked.supervision_since is not None else " (no start on record)"
    locked.supervision_ended_on = on
    if locked.supervision_agency_id is None:
        locked.supervision_agency_id = event.source_agency_id
    locked.save(update_fields=["supervision_ended_on", "supervision_agency", "updated_at"])
    because = f": {reason}" if reason else ""
    return Outcome(PartnerChange.SUPERVISION_ENDED, f"Supervision ended on {on}{known}{because}.")


APPLY: dict[str, Callable[[Event, Client, Case | None, Actor], Outcome]] = {
    "custody.booked": _booked,
    "custody.released": _released,
    "custody.transferred": _transferred,
    "court.hearing_scheduled": _scheduled,
    "court.hearing_continued": _continued,
    "court.hearing_cancelled": _cancelled,
    "court.hearing_held": _held,
    "court.disposition": _disposition,
    "court.sentence": _sentence,
    "court.warrant_issued": _warrant_issued,
    "court.warrant_recalled": _warrant_recalled,
    "probation.violation_filed": _violation,
    "probation.supervision_started": _supervision_started,
    "probation.supervision_ended": _supervision_ended,
}
