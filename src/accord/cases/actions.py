"""Every change to the defender's case records: clients, cases, charges, court events,
custody, assignments and parties. Privileged material, conflict checks, ticklers, calendar
feeds, partner agencies' events and bulk loading have their own ``actions`` modules,
re-exported here.

Clients and parties are people records of the defender (``people.record_person``) with
their part in each case (``people.set_person_role``), so the office's conflict checks find
them in every later matter (ABA Model Rules 1.7, 1.9, 1.10).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from django.utils import timezone

from accord.audit.chain import append as audit
from accord.audit.codes import AuditAction
from accord.cases.access import is_supervisor, opens_cases_of
from accord.cases.calendar.actions import (
    create_calendar_feed,
    read_calendar_feed,
    revoke_calendar_feed,
)
from accord.cases.conflicts.actions import (
    attach,
    candidate_of,
    check_subjects,
    check_whole_case,
    decide_case_hit,
    recheck_conflicts,
    retire_subject,
    run_check,
)
from accord.cases.guards import may_change_client, require_change
from accord.cases.models import (
    Assignment,
    Case,
    CaseStatus,
    CaseType,
    Charge,
    ChargeDisposition,
    ChargeLevel,
    CheckTrigger,
    Client,
    CourtEvent,
    CustodyStatus,
    Disposition,
    EventKind,
    EventStatus,
    Party,
    TeamRole,
    Trigger,
)
from accord.cases.partners.actions import apply_partner_event
from accord.cases.privileged.actions import (
    edit_note,
    open_document,
    reseal_case_material,
    upload_document,
    write_note,
)
from accord.cases.ticklers import actions as ticklers
from accord.cases.ticklers.actions import (
    add_standard_rules,
    add_tickler,
    complete_tickler,
    dismiss_tickler,
    save_tickler_rule,
)
from accord.cases.validation import (
    CASE_NUMBER,
    CLIENT_NUMBER,
    Errors,
    choice,
    day,
    fail,
    long_text,
    moment,
    money,
    prefixed,
    text,
    unknown_fields,
    whole,
)
from accord.core.actions import action
from accord.core.actors import Actor
from accord.core.errors import ActionRefused, InvalidInput, NotFound, PermissionDenied
from accord.directory.models import Agency, AgencyKind, StaffProfile
from accord.people.actions import record_person, set_person_role
from accord.people.models import PartyRole
from accord.people.validation import clean_person

__all__ = [
    "add_charge",
    "add_party",
    "add_standard_rules",
    "add_tickler",
    "apply_partner_event",
    "assign",
    "close_case",
    "complete_tickler",
    "create_calendar_feed",
    "create_client",
    "decide_case_hit",
    "dismiss_tickler",
    "edit_note",
    "end_assignment",
    "open_case",
    "open_document",
    "read_calendar_feed",
    "recheck_conflicts",
    "record_custody",
    "record_event_outcome",
    "record_release",
    "remove_party",
    "reopen_case",
    "reseal_case_material",
    "revoke_calendar_feed",
    "save_tickler_rule",
    "schedule_event",
    "update_case",
    "update_charge",
    "update_client",
    "update_event",
    "update_party",
    "upload_document",
    "write_note",
]

PERSON_FIELDS = ("first_name", "middle_name", "last_name", "suffix", "date_of_birth", "sex")
PARTY_ROLES = [r for r in PartyRole.values if r != PartyRole.CLIENT]
CHARGE_FIELDS = ("position", "statute", "description", "level", "degree", "counts")
MAX_CHARGES = 60
MAX_PARTIES = 200


def _require_opener(agency: Agency, actor: Actor) -> None:
    if actor.is_system:
        return
    if opens_cases_of(actor) != agency.pk:
        raise PermissionDenied("Only the office's attorneys and supervisors take on clients.")


def _client_values(values: Mapping[str, Any], prefix: str = "") -> tuple[dict[str, Any], Errors]:
    """Person fields checked the people app's way (one set of rules), errors prefixed."""
    errors = unknown_fields(values, (*PERSON_FIELDS, "aliases"), prefix)
    _cleaned, person_errors = clean_person(values, need_source_id=False)
    errors += [{"field": f"{prefix}{e['field']}", "reason": e["reason"]} for e in person_errors]
    return {k: v for k, v in values.items() if k in (*PERSON_FIELDS, "aliases")}, errors


def _link_later(agency: Agency) -> None:
    """Identity resolution (Splink, ~0.2 s a record) runs in the task worker, not in the
    request: enqueued in this transaction, so it exists exactly when the record does."""
    from accord.people.tasks import link_pending_records

    link_pending_records.enqueue(agency.pk)


# --- clients ---------------------------------------------------------------------------------


def _new_client_number() -> str:
    # Random rather than sequential: no lock on a counter, and nothing told by the number.
    return "C-" + secrets.token_hex(4).upper()


@action
def create_client(agency: Agency, *, actor: Actor, number: str = "", **person: Any) -> Client:
    """Take on a client: the defender's people record of them (filed for conflict checks
    and linked to the person other agencies know) under the office's client number."""
    _require_opener(agency, actor)
    if agency.kind != AgencyKind.PUBLIC_DEFENDER:
        raise InvalidInput(
            "Not a defender office.",
            errors=[{"field": "agency", "reason": "not a public defender"}],
        )
    values, errors = _client_values(person)
    cleaned = text(
        number,
        "number",
        40,
        errors,
        pattern=CLIENT_NUMBER,
        pattern_reason="letters, digits, '.', '/' and '-' only",
    )
    if cleaned and Client.objects.filter(agency=agency, number=cleaned).exists():
        errors.append({"field": "number", "reason": "another client has this number"})
    fail("The client cannot be taken on.", errors)
    cleaned = cleaned or _new_client_number()
    record = record_person(agency, cleaned, actor=actor, link=False, **values)
    _link_later(agency)
    if Client.objects.filter(person=record).exists():
        raise ActionRefused("This person record is already a client.")
    client = Client.objects.create(agency=agency, person=record, number=cleaned)
    audit(actor, AuditAction.CLIENT_CREATED, obj=client, agency_id=agency.pk)
    return client


@action
def update_client(client: Client, *, actor: Actor, **person: Any) -> Client:
    """Correct a client's name, aliases or date of birth; their open cases are checked for
    conflicts again under the new details."""
    _require_client_change(client, actor)
    values, errors = _client_values(person)
    fail("The client's details are not valid.", errors)
    current = {name: getattr(client.person, name) for name in PERSON_FIELDS}
    record = record_person(
        client.agency, client.person.source_id, actor=actor, link=False, **{**current, **values}
    )
    _link_later(client.agency)
    client.person = record
    client.save(update_fields=["updated_at"])  # the client's own "last changed"
    audit(
        actor,
        AuditAction.CLIENT_UPDATED,
        obj=client,
        agency_id=client.agency_id,
        details={"fields": sorted(values)},
    )
    for case in Case.objects.filter(client=client, status=CaseStatus.OPEN).select_related(
        "client__person", "agency", "court"
    ):
        check_subjects(case, [None], trigger=CheckTrigger.PARTIES_CHANGED, actor=actor)
    return client


# --- cases -----------------------------------------------------------------------------------


def _clean_case(values: Mapping[str, Any], errors: Errors) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    if "number" in values:
        cleaned["number"] = text(
            values["number"],
            "number",
            40,
            errors,
            required=True,
            pattern=CASE_NUMBER,
            pattern_reason="letters, digits, spaces and . / : # ( ) - only",
        )
    if "court" in values:
        court = values["court"]
        if isinstance(court, int | str) and str(court).isdigit():
            court = Agency.objects.filter(pk=int(court)).first()
        if not isinstance(court, Agency) or court.kind != AgencyKind.COURT:
            errors.append({"field": "court", "reason": "choose a court of the partnership"})
        elif court.is_suspended:
            errors.append({"field": "court", "reason": "this court is suspended"})
        else:
            cleaned["court"] = court
    if "case_type" in values:
        case_type = values["case_type"]
        if isinstance(case_type, int | str) and str(case_type).isdigit():
            case_type = CaseType.objects.filter(pk=int(case_type)).first()
        if not isinstance(case_type, CaseType):
            errors.append({"field": "case_type", "reason": "choose a workload case type"})
        else:
            cleaned["case_type"] = case_type
    if "opened_on" in values:
        cleaned["opened_on"] = day(
            values["opened_on"], "opened_on", errors, required=True, not_after_today=True
        )
    return cleaned


def _clean_charge(
    values: Mapping[str, Any], errors: Errors, *, partial: bool = False
) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    errors += unknown_fields(values, (*CHARGE_FIELDS, "disposition", "disposition_on"))
    if not partial or "statute" in values:
        cleaned["statute"] = text(values.get("statute"), "statute", 80, errors, required=True)
    if not partial or "description" in values:
        cleaned["description"] = text(
            values.get("description"), "description", 300, errors, required=True
        )
    if not partial or "level" in values:
        cleaned["level"] = choice(values.get("level"), "level", ChargeLevel.values, errors)
    if not partial or "degree" in values:
        cleaned["degree"] = text(values.get("degree"), "degree", 30, errors)
    if not partial or "counts" in values:
        cleaned["counts"] = whole(
            values.get("counts"), "counts", errors, low=1, high=999, default=1
        )
    if "position" in values and values["position"] not in (None, ""):
        cleaned["position"] = whole(values["position"], "position", errors, low=1, high=999)
    if "disposition" in values:
        cleaned["disposition"] = choice(
            values["disposition"], "disposition", ChargeDisposition.values, errors
        )
    if "disposition_on" in values:
        cleaned["disposition_on"] = day(
            values["disposition_on"], "disposition_on", errors, not_after_today=True
        )
    return cleaned


def _clean_party(values: Mapping[str, Any], prefix: str = "") -> tuple[dict[str, Any], str, Errors]:
    errors: Errors = []
    role = choice(values.get("role"), f"{prefix}role", PARTY_ROLES, errors)
    person, person_errors = _client_values({k: v for k, v in values.items() if k != "role"}, prefix)
    return person, role, errors + person_errors


def _staff_for(
    agency_id: int, staff: Any, role: str, field: str, errors: Errors
) -> StaffProfile | None:
    """A staff member of the office who holds ``role`` (an attorney for an attorney's
    assignment…), from a profile or its id."""
    if isinstance(staff, int | str) and str(staff).isdigit():
        staff = StaffProfile.objects.filter(pk=int(staff)).first()
    if not isinstance(staff, StaffProfile) or staff.agency_id != agency_id:
        errors.append({"field": field, "reason": "choose a staff member of this office"})
        return None
    if role and role not in staff.roles:
        label = role.replace("_", " ")
        article = "an" if label[0] in "aeiou" else "a"
        errors.append({"field": field, "reason": f"this staff member is not {article} {label}"})
        return None
    if not staff.user.is_active:
        errors.append({"field": field, "reason": "this staff member's account is disabled"})
        return None
    return staff


def _record_party(case: Case, person: Mapping[str, Any], role: str, actor: Actor) -> Party:
    source_id = "party-" + secrets.token_hex(8)
    record = record_person(case.agency, source_id, actor=actor, link=False, **person)
    _link_later(case.agency)
    set_person_role(record, role, case.reference, actor=actor, current=case.is_open)
    return Party.objects.create(case=case, person=record, role=role)


@action
def open_case(
    client: Client,
    *,
    actor: Actor,
    number: str,
    court: Agency | int,
    case_type: CaseType | int,
    opened_on: date | str | None = None,
    charges: Sequence[Mapping[str, Any]] = (),
    parties: Sequence[Mapping[str, Any]] = (),
    attorney: StaffProfile | int | None = None,
) -> Case:
    """Open a case for a client: the case, its charges and parties, the client's and the
    parties' roles in it, the attorney's assignment, and — before any of it is relied on —
    a conflict check of the client and every party against the whole office (ABA Model
    Rules 1.7, 1.9, 1.10). All of it or nothing."""
    _require_opener(client.agency, actor)
    if not actor.is_system and not Client.objects.visible_to(actor).filter(pk=client.pk).exists():
        raise NotFound(f"No client {client.pk}.")
    errors: Errors = []
    cleaned = _clean_case(
        {
            "number": number,
            "court": court,
            "case_type": case_type,
            "opened_on": opened_on or timezone.localdate(),
        },
        errors,
    )
    if len(charges) > MAX_CHARGES:
        errors.append({"field": "charges", "reason": f"at most {MAX_CHARGES}"})
    if len(parties) > MAX_PARTIES:
        errors.append({"field": "parties", "reason": f"at most {MAX_PARTIES}"})
    clean_charges = []
    positions: set[int] = set()
    for i, values in enumerate(charges):
        charge_errors: Errors = []
        charge = _clean_charge(values, charge_errors)
        charge["position"] = charge.get("position") or i + 1
        if charge["position"] in positions:
            charge_errors.append({"field": "position", "reason": "two charges have this number"})
        positions.add(charge["position"])
        clean_charges.append(charge)
        errors += prefixed(f"charges.{i}", charge_errors)
    clean_parties = []
    for i, values in enumerate(parties):
        person, role, party_errors = _clean_party(values, f"parties.{i}.")
        clean_parties.append((person, role))
        errors += party_errors
    lead = None
    if attorney is not None:
        lead = _staff_for(client.agency_id, attorney, TeamRole.ATTORNEY, "attorney", errors)
    elif actor.user_id is not None and "attorney" in actor.roles:
        lead = StaffProfile.objects.filter(user_id=actor.user_id).first()
    if (
        "number" in cleaned
        and "court" in cleaned
        and Case.objects.filter(
            agency_id=client.agency_id, court=cleaned["court"], number=cleaned["number"]
        ).exists()
    ):
        errors.append({"field": "number", "reason": "the office already has this case"})
    fail("The case cannot be opened.", errors)
    case = Case.objects.create(agency_id=client.agency_id, client=client, **cleaned)
    case.agency = client.agency
    Charge.objects.bulk_create([Charge(case=case, **values) for values in clean_charges])
    # The check runs before the parties are recorded, so no one is found as themselves.
    check = run_check(
        case,
        [candidate_of(client.person, PartyRole.CLIENT)]
        + [{**person, "role": role} for person, role in clean_parties],
        actor=actor,
    )
    created = [_record_party(case, person, role, actor) for person, role in clean_parties]
    set_person_role(client.person, PartyRole.CLIENT, case.reference, actor=actor)
    if lead is not None:
        Assignment.objects.create(
            case=case,
            staff=lead,
            role=TeamRole.ATTORNEY,
            starts_on=case.opened_on,
            assigned_by=actor.label[:150],
        )
    attach(case, check, [None, *created], trigger=CheckTrigger.OPENED, actor=actor)
    audit(
        actor,
        AuditAction.CASE_OPENED,
        obj=case,
        agency_id=case.agency_id,
        details={
            "client": client.number,
            "court": case.court.short_name,
            "case_type": f"{case.case_type.standard}/{case.case_type.code}",
            "charges": len(clean_charges),
            "parties": len(created),
            "attorney": lead.pk if lead else None,
        },
    )
    ticklers.fire(
        case, Trigger.CASE_OPENED, actor=actor, base=case.opened_on, source=f"case:{case.pk}"
    )
    return case


@action
def update_case(case: Case, *, actor: Actor, **values: Any) -> Case:
    """Correct a case's number, court, workload case type or opening date."""
    require_change(case, actor)
    errors = unknown_fields(values, ("number", "court", "case_type", "opened_on"))
    cleaned = _clean_case(values, errors)
    number = cleaned.get("number", case.number)
    court = cleaned.get("court", case.court)
    if (
        Case.objects.filter(agency_id=case.agency_id, court=court, number=number)
        .exclude(pk=case.pk)
        .exists()
    ):
        errors.append({"field": "number", "reason": "the office already has this case"})
    if case.closed_on and cleaned.get("opened_on") and cleaned["opened_on"] > case.closed_on:
        errors.append({"field": "opened_on", "reason": "after the case was closed"})
    fail("The case cannot be changed.", errors)
    old_reference = case.reference
    changed = sorted(k for k, v in cleaned.items() if getattr(case, k) != v)
    for name, value in cleaned.items():
        setattr(case, name, value)
    case.save()
    if case.reference != old_reference:
        _rename_roles(case, old_reference, actor)
    audit(
        actor,
        AuditAction.CASE_UPDATED,
        obj=case,
        agency_id=case.agency_id,
        details={"fields": changed},
    )
    return case


def _rename_roles(case: Case, old_reference: str, actor: Actor) -> None:
    """The people app names a case by its reference: move every role to the new one."""
    people = [(case.client.person, PartyRole.CLIENT)] + [
        (p.person, p.role)
        for p in Party.objects.present().filter(case=case).select_related("person")
    ]
    for person, role in people:
        set_person_role(person, role, old_reference, actor=actor, current=False)
        set_person_role(person, role, case.reference, actor=actor, current=case.is_open)


def _set_roles_current(case: Case, current: bool, actor: Actor) -> None:
    """A closed case's client and parties are former; a reopened case's current again."""
    set_person_role(
        case.client.person, PartyRole.CLIENT, case.reference, actor=actor, current=current
    )
    for party in Party.objects.present().filter(case=case).select_related("person"):
        set_person_role(party.person, party.role, case.reference, actor=actor, current=current)


@action
def close_case(
    case: Case,
    *,
    actor: Actor,
    disposition: str,
    disposition_on: date | str | None = None,
    closed_on: date | str | None = None,
) -> Case:
    """Close a case with its disposition; its client and parties become former clients and
    parties of the office (ABA Model Rule 1.9)."""
    require_change(case, actor)
    if not case.is_open:
        raise ActionRefused("The case is already closed.")
    errors: Errors = []
    cleaned = choice(disposition, "disposition", Disposition.values, errors)
    when = day(
        disposition_on or timezone.localdate(), "disposition_on", errors, not_after_today=True
    )
    closed = day(closed_on or timezone.localdate(), "closed_on", errors, not_after_today=True)
    if closed and closed < case.opened_on:
        errors.append({"field": "closed_on", "reason": "before the case was opened"})
    if when and when < case.opened_on:
        errors.append({"field": "disposition_on", "reason": "before the case was opened"})
    fail("The case cannot be closed.", errors)
    case.status = CaseStatus.CLOSED
    case.disposition = cleaned
    case.disposition_on = when
    case.closed_on = closed
    case.save()
    _set_roles_current(case, False, actor)
    audit(
        actor,
        AuditAction.CASE_CLOSED,
        obj=case,
        agency_id=case.agency_id,
        details={"disposition": cleaned, "disposition_on": str(when), "closed_on": str(closed)},
    )
    return case


@action
def reopen_case(case: Case, *, actor: Actor, reason: str) -> Case:
    """Reopen a closed case (a remand, a motion to withdraw a plea), saying why."""
    require_change(case, actor)
    if case.is_open:
        raise ActionRefused("The case is open.")
    errors: Errors = []
    cleaned = text(reason, "reason", 300, errors, required=True)
    fail("Say why the case is reopened.", errors)
    case.status = CaseStatus.OPEN
    case.closed_on = None
    case.save()
    _set_roles_current(case, True, actor)
    audit(
        actor,
        AuditAction.CASE_REOPENED,
        obj=case,
        agency_id=case.agency_id,
        details={"reason": cleaned},
    )
    return case


# --- charges ---------------------------------------------------------------------------------


@action
def add_charge(case: Case, *, actor: Actor, **values: Any) -> Charge:
    """Add a charge to a case (statute, description, level, degree, counts)."""
    require_change(case, actor)
    errors: Errors = []
    cleaned = _clean_charge(values, errors)
    position = cleaned.pop("position", None)
    if position is None:
        last = Charge.objects.filter(case=case).order_by("-position").first()
        position = (last.position + 1) if last else 1
    elif Charge.objects.filter(case=case, position=position).exists():
        errors.append({"field": "position", "reason": "the case has a charge with this number"})
    fail("The charge is not valid.", errors)
    charge = Charge.objects.create(case=case, position=position, **cleaned)
    audit(
        actor,
        AuditAction.CHARGE_ADDED,
        obj=charge,
        agency_id=case.agency_id,
        details={"case": case.pk, "statute": charge.statute, "level": charge.level},
    )
    return charge


@action
def update_charge(charge: Charge, *, actor: Actor, **values: Any) -> Charge:
    """Change a charge, or record its disposition; a disposition sets off the office's
    rules for it (e.g. the appeal deadline after a conviction)."""
    charge = Charge.objects.select_for_update().select_related("case__agency").get(pk=charge.pk)
    case = charge.case
    require_change(case, actor)
    errors: Errors = []
    cleaned = _clean_charge(values, errors, partial=True)
    if "position" in cleaned and (
        Charge.objects.filter(case=case, position=cleaned["position"])
        .exclude(pk=charge.pk)
        .exists()
    ):
        errors.append({"field": "position", "reason": "the case has a charge with this number"})
    disposition = cleaned.get("disposition", charge.disposition)
    disposed_on = cleaned.get("disposition_on", charge.disposition_on)
    if disposition == ChargeDisposition.PENDING:
        cleaned["disposition_on"] = None
    elif not disposed_on:
        disposed_on = cleaned["disposition_on"] = timezone.localdate()
    if disposed_on and disposed_on < case.opened_on:
        errors.append({"field": "disposition_on", "reason": "before the case was opened"})
    fail("The charge cannot be changed.", errors)
    before = charge.disposition
    changed = sorted(k for k, v in cleaned.items() if getattr(charge, k) != v)
    for name, value in cleaned.items():
        setattr(charge, name, value)
    charge.save()
    audit(
        actor,
        AuditAction.CHARGE_UPDATED,
        obj=charge,
        agency_id=case.agency_id,
        details={"case": case.pk, "fields": changed, "disposition": charge.disposition},
    )
    if charge.disposition not in (before, ChargeDisposition.PENDING):
        assert charge.disposition_on is not None  # set above for every disposition
        ticklers.fire(
            case,
            Trigger.CHARGE_DISPOSED,
            actor=actor,
            base=charge.disposition_on,
            source=f"charge:{charge.pk}",
            value=charge.disposition,
        )
    return charge


# --- court events ----------------------------------------------------------------------------


def _clean_event(values: Mapping[str, Any], errors: Errors, *, partial: bool) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    errors += unknown_fields(values, ("kind", "starts_at", "courtroom"))
    if not partial or "kind" in values:
        cleaned["kind"] = choice(values.get("kind"), "kind", EventKind.values, errors)
    if not partial or "starts_at" in values:
        cleaned["starts_at"] = moment(values.get("starts_at"), "starts_at", errors)
    if not partial or "courtroom" in values:
        cleaned["courtroom"] = text(values.get("courtroom"), "courtroom", 60, errors)
    return cleaned


@action
def schedule_event(case: Case, *, actor: Actor, **values: Any) -> CourtEvent:
    """Put a court setting on a case's calendar; rules set off by scheduling it (e.g. a
    witness list due before trial) count back from its date."""
    require_change(case, actor)
    errors: Errors = []
    cleaned = _clean_event(values, errors, partial=False)
    fail("The court event is not valid.", errors)
    event = CourtEvent.objects.create(case=case, **cleaned)
    audit(
        actor,
        AuditAction.EVENT_SCHEDULED,
        obj=event,
        agency_id=case.agency_id,
        details={"case": case.pk, "kind": event.kind, "starts_at": event.starts_at.isoformat()},
    )
    ticklers.fire(
        case,
        Trigger.EVENT_SCHEDULED,
        actor=actor,
        base=timezone.localtime(event.starts_at).date(),
        source=f"event:{event.pk}",
        value=event.kind,
    )
    return event


@action
def update_event(event: CourtEvent, *, actor: Actor, **values: Any) -> CourtEvent:
    """Correct a scheduled setting (kind, time, courtroom); its ticklers move with it."""
    event = CourtEvent.objects.select_for_update().select_related("case__agency").get(pk=event.pk)
    require_change(event.case, actor)
    if event.status != EventStatus.SCHEDULED:
        raise ActionRefused("Only a scheduled event can be changed; record its outcome instead.")
    errors: Errors = []
    cleaned = _clean_event(values, errors, partial=True)
    fail("The court event is not valid.", errors)
    changed = sorted(k for k, v in cleaned.items() if getattr(event, k) != v)
    for name, value in cleaned.items():
        setattr(event, name, value)
    if changed:
        event.sequence += 1
    event.save()
    ticklers.move(event.case, f"event:{event.pk}", timezone.localtime(event.starts_at).date())
    audit(
        actor,
        AuditAction.EVENT_UPDATED,
        obj=event,
        agency_id=event.case.agency_id,
        details={"case": event.case_id, "fields": changed},
    )
    return event


@action
def record_event_outcome(
    event: CourtEvent,
    *,
    actor: Actor,
    status: str,
    result: str = "",
    continued_to: Any = None,
) -> CourtEvent:
    """Record what came of a setting: held (rules set off by holding it fire, e.g. discovery
    after arraignment), continued (to a new setting, scheduled here), or cancelled."""
    event = CourtEvent.objects.select_for_update().select_related("case__agency").get(pk=event.pk)
    case = event.case
    require_change(case, actor)
    if event.status != EventStatus.SCHEDULED:
        raise ActionRefused("This event's outcome is already recorded.")
    errors: Errors = []
    outcome = choice(
        status,
        "status",
        [EventStatus.HELD, EventStatus.CONTINUED, EventStatus.CANCELLED],
        errors,
    )
    cleaned_result = long_text(result, "result", 1000, errors)
    new_time = None
    if outcome == EventStatus.CONTINUED:
        new_time = moment(continued_to, "continued_to", errors)
    elif continued_to not in (None, ""):
        errors.append({"field": "continued_to", "reason": "only for a continued event"})
    if outcome == EventStatus.HELD and event.starts_at > timezone.now():
        errors.append({"field": "status", "reason": "the event has not happened yet"})
    fail("The outcome is not valid.", errors)
    event.status = outcome
    event.result = cleaned_result
    event.status_changed_at = timezone.now()
    event.sequence += 1
    source = f"event:{event.pk}"
    if outcome == EventStatus.CONTINUED:
        assert new_time is not None  # required above for a continuance
        event.continued_to = CourtEvent.objects.create(
            case=case, kind=event.kind, starts_at=new_time, courtroom=event.courtroom
        )
        ticklers.dismiss_from(case, source, "The event was continued.", actor=actor)
    elif outcome == EventStatus.CANCELLED:
        ticklers.dismiss_from(case, source, "The event was cancelled.", actor=actor)
    event.save()
    audit(
        actor,
        AuditAction.EVENT_OUTCOME,
        obj=event,
        agency_id=case.agency_id,
        details={
            "case": case.pk,
            "status": outcome,
            "continued_to": event.continued_to_id,
        },
    )
    if event.continued_to is not None:
        new = event.continued_to
        ticklers.fire(
            case,
            Trigger.EVENT_SCHEDULED,
            actor=actor,
            base=timezone.localtime(new.starts_at).date(),
            source=f"event:{new.pk}",
            value=new.kind,
        )
    if outcome == EventStatus.HELD:
        ticklers.fire(
            case,
            Trigger.EVENT_HELD,
            actor=actor,
            base=timezone.localtime(event.starts_at).date(),
            source=source,
            value=event.kind,
        )
    return event


# --- custody ---------------------------------------------------------------------------------


def _require_client_change(client: Client, actor: Actor) -> list[Case]:
    """A client's details and custody are changed by the team of any of their open cases,
    the office's supervisors and ``cases:write`` systems; returns the open cases."""
    if not actor.is_system and not Client.objects.visible_to(actor).filter(pk=client.pk).exists():
        raise NotFound(f"No client {client.pk}.")
    if not may_change_client(client, actor):
        raise PermissionDenied("Only the client's team and supervisors change the client.")
    return list(Case.objects.filter(client=client, status=CaseStatus.OPEN).select_related("agency"))


@action
def record_custody(
    client: Client,
    *,
    actor: Actor,
    in_custody_since: date | str,
    facility: str,
    bond_amount: Any = None,
    bond_terms: str = "",
    case: Case | None = None,
) -> CustodyStatus:
    """Record that a client is in custody (since when, where, on what bond); rules set off
    by custody (a jail visit) fire on each of the client's open cases."""
    cases = _require_client_change(client, actor)
    errors: Errors = []
    since = day(in_custody_since, "in_custody_since", errors, required=True, not_after_today=True)
    where = text(facility, "facility", 200, errors, required=True)
    amount = money(bond_amount, "bond_amount", errors)
    terms = text(bond_terms, "bond_terms", 200, errors)
    if case is not None and case.client_id != client.pk:
        errors.append({"field": "case", "reason": "not a case of this client"})
    if CustodyStatus.objects.filter(client=client, released_on__isnull=True).exists():
        errors.append(
            {
                "field": "in_custody_since",
                "reason": "the client is in custody already; record the release first",
            }
        )
    fail("The custody is not valid.", errors)
    assert since is not None  # required above
    custody = CustodyStatus.objects.create(
        client=client,
        case=case,
        in_custody_since=since,
        facility=where,
        bond_amount=amount,
        bond_terms=terms,
    )
    audit(
        actor,
        AuditAction.CUSTODY_RECORDED,
        obj=custody,
        agency_id=client.agency_id,
        details={"client": client.number, "since": since.isoformat()},
    )
    for open_case in cases:
        ticklers.fire(
            open_case,
            Trigger.CUSTODY_BEGAN,
            actor=actor,
            base=since,
            source=f"custody:{custody.pk}",
        )
    return custody


@action
def record_release(
    custody: CustodyStatus, *, actor: Actor, released_on: date | str
) -> CustodyStatus:
    """Record a client's release from custody."""
    custody = CustodyStatus.objects.select_for_update().select_related("client").get(pk=custody.pk)
    _require_client_change(custody.client, actor)
    if custody.released_on is not None:
        raise ActionRefused("The release is already recorded.")
    errors: Errors = []
    released = day(released_on, "released_on", errors, required=True, not_after_today=True)
    if released and released < custody.in_custody_since:
        errors.append({"field": "released_on", "reason": "before the custody began"})
    fail("The release is not valid.", errors)
    custody.released_on = released
    custody.save(update_fields=["released_on"])
    audit(
        actor,
        AuditAction.CUSTODY_RELEASED,
        obj=custody,
        agency_id=custody.client.agency_id,
        details={"client": custody.client.number, "released_on": str(released)},
    )
    return custody


# --- assignments -----------------------------------------------------------------------------


@action
def assign(
    case: Case,
    staff: StaffProfile | int,
    role: str,
    *,
    actor: Actor,
    starts_on: date | str | None = None,
    ends_on: date | str | None = None,
) -> Assignment:
    """Put a staff member on a case's team. Supervisors assign anyone; the case's attorney
    brings in investigators and social workers. The case is checked for conflicts first
    (ABA Model Rule 1.10)."""
    require_change(case, actor)
    errors: Errors = []
    cleaned_role = choice(role, "role", TeamRole.values, errors)
    if (
        not actor.is_system
        and actor.scopes is None
        and not is_supervisor(actor)
        and cleaned_role == TeamRole.ATTORNEY
    ):
        raise PermissionDenied("A supervisor assigns attorneys.")
    profile = (
        _staff_for(case.agency_id, staff, cleaned_role, "staff", errors) if cleaned_role else None
    )
    start = day(starts_on or timezone.localdate(), "starts_on", errors)
    end = day(ends_on, "ends_on", errors)
    if start and end and end < start:
        errors.append({"field": "ends_on", "reason": "before the start"})
    if (
        profile is not None
        and Assignment.objects.filter(
            case=case, staff=profile, role=cleaned_role, ends_on__isnull=True
        ).exists()
    ):
        errors.append({"field": "staff", "reason": "already on the case in this role"})
    fail("The assignment is not valid.", errors)
    assert profile is not None  # checked above
    assert start is not None
    check_whole_case(case, trigger=CheckTrigger.ASSIGNED, actor=actor)
    assignment = Assignment.objects.create(
        case=case,
        staff=profile,
        role=cleaned_role,
        starts_on=start,
        ends_on=end,
        assigned_by=actor.label[:150],
    )
    audit(
        actor,
        AuditAction.ASSIGNED,
        obj=assignment,
        agency_id=case.agency_id,
        details={"case": case.pk, "staff": profile.pk, "role": cleaned_role},
    )
    return assignment


@action
def end_assignment(
    assignment: Assignment, *, actor: Actor, ends_on: date | str | None = None
) -> Assignment:
    """Take a staff member off a case's team from a date (default today)."""
    assignment = Assignment.objects.select_for_update().select_related("case").get(pk=assignment.pk)
    require_change(assignment.case, actor)
    if (
        not actor.is_system
        and actor.scopes is None
        and not is_supervisor(actor)
        and assignment.role == TeamRole.ATTORNEY
    ):
        raise PermissionDenied("A supervisor takes attorneys off a case.")
    if assignment.ends_on is not None and assignment.ends_on < timezone.localdate():
        raise ActionRefused("This assignment has already ended.")
    errors: Errors = []
    end = day(ends_on or timezone.localdate(), "ends_on", errors)
    if end and end < assignment.starts_on:
        errors.append({"field": "ends_on", "reason": "before the assignment started"})
    fail("The end date is not valid.", errors)
    assignment.ends_on = end
    assignment.save(update_fields=["ends_on"])
    audit(
        actor,
        AuditAction.ASSIGNMENT_ENDED,
        obj=assignment,
        agency_id=assignment.case.agency_id,
        details={"case": assignment.case_id, "ends_on": str(end)},
    )
    return assignment


# --- parties ---------------------------------------------------------------------------------


@action
def add_party(case: Case, *, actor: Actor, role: str, **person: Any) -> Party:
    """Add a co-defendant, victim, witness or informant to a case, checking them against
    the whole office first (before they are recorded, so they do not find themselves)."""
    require_change(case, actor)
    values, cleaned_role, errors = _clean_party({**person, "role": role})
    if Party.objects.present().filter(case=case).count() >= MAX_PARTIES:
        errors.append({"field": "role", "reason": f"a case has at most {MAX_PARTIES} parties"})
    fail("The party is not valid.", errors)
    check = run_check(case, [{**values, "role": cleaned_role}], actor=actor)
    party = _record_party(case, values, cleaned_role, actor)
    attach(case, check, [party], trigger=CheckTrigger.PARTIES_CHANGED, actor=actor)
    audit(
        actor,
        AuditAction.PARTY_ADDED,
        obj=party,
        agency_id=case.agency_id,
        details={"case": case.pk, "role": cleaned_role},
    )
    return party


@action
def update_party(party: Party, *, actor: Actor, **values: Any) -> Party:
    """Correct a party's details or role; they are checked again."""
    party = (
        Party.objects.select_for_update().select_related("case__agency", "person").get(pk=party.pk)
    )
    case = party.case
    require_change(case, actor)
    if party.removed_at is not None:
        raise ActionRefused("This party was removed from the case.")
    current = {name: getattr(party.person, name) for name in PERSON_FIELDS}
    person, role, errors = _clean_party({**current, "role": party.role, **values})
    fail("The party is not valid.", errors)
    record = record_person(case.agency, party.person.source_id, actor=actor, link=False, **person)
    _link_later(case.agency)
    if role != party.role:
        set_person_role(record, party.role, case.reference, actor=actor, current=False)
        set_person_role(record, role, case.reference, actor=actor, current=case.is_open)
        party.role = role
        party.save(update_fields=["role"])
    party.person = record
    check_subjects(case, [party], trigger=CheckTrigger.PARTIES_CHANGED, actor=actor)
    audit(
        actor,
        AuditAction.PARTY_UPDATED,
        obj=party,
        agency_id=case.agency_id,
        details={"case": case.pk, "fields": sorted(values)},
    )
    return party


@action
def remove_party(party: Party, *, actor: Actor, reason: str) -> Party:
    """Take a party off a case (entered by mistake, or no longer in it), saying why; their
    part in the case is kept as former, and their hits no longer count for it."""
    party = (
        Party.objects.select_for_update().select_related("case__agency", "person").get(pk=party.pk)
    )
    case = party.case
    require_change(case, actor)
    if party.removed_at is not None:
        raise ActionRefused("This party was already removed.")
    errors: Errors = []
    cleaned = text(reason, "reason", 300, errors, required=True)
    fail("Say why the party is removed.", errors)
    party.removed_at = timezone.now()
    party.save(update_fields=["removed_at"])
    set_person_role(party.person, party.role, case.reference, actor=actor, current=False)
    retire_subject(case, party)
    audit(
        actor,
        AuditAction.PARTY_REMOVED,
        obj=party,
        agency_id=case.agency_id,
        details={"case": case.pk, "reason": cleaned},
    )
    return party


# --- reference data ---------------------------------------------------------------------------


@action
def reload_case_types(*, actor: Actor) -> int:
    """Load the workload case types from the shipped standards file when the table is empty.
    The data migration loads them; a database flush (``accord flush``, or the flush after a
    transactional test) empties the table and emits ``post_migrate``, which calls this so the
    reference data comes back. Never touches a table that has rows."""
    from decimal import Decimal

    from accord.cases.models.reference import read_standards

    if CaseType.objects.exists():
        return 0
    rows = [
        CaseType(
            standard=row["standard"].strip(),
            code=row["case_type"].strip(),
            hours_per_case=Decimal(row["hours_per_case"].strip()),
            source=row["source"].strip()[:300],
        )
        for row in read_standards()
    ]
    CaseType.objects.bulk_create(rows)
    return len(rows)
