"""Loading an office's existing caseload in bulk (a migration from its old system, or the
demo county): thousands of clients and cases in batches, one audit event per batch.

The case-by-case actions (``open_case`` and the rest) take about 20 ms a case, most of it
the conflict check and an audit event per row; a caseload of thousands loads here in
seconds instead. What a bulk load does differently, on purpose:

* no conflict check runs: these are matters the office already took on and checked; the
  clients and parties are recorded (with their roles), so every later check finds them;
* ticklers are set off only for open cases and deadlines no more than ``RECENT_DAYS`` past
  (older ones were the old system's to track);
* the people records are linked to master persons afterwards, by the task worker
  (``link=True``), or not at all (``link=False``, e.g. a demo that links them itself).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from accord.audit.chain import append as audit
from accord.audit.codes import AuditAction
from accord.cases.access import opens_cases_of
from accord.cases.models import (
    Assignment,
    Case,
    CaseStatus,
    CaseType,
    Charge,
    ChargeDisposition,
    ChargeLevel,
    Client,
    CourtEvent,
    CustodyStatus,
    Disposition,
    EventKind,
    EventStatus,
    Party,
    TeamRole,
    Tickler,
    TicklerRule,
    Trigger,
)
from accord.cases.ticklers.actions import matching_rules
from accord.cases.validation import Errors, choice, fail, text
from accord.core.actions import action
from accord.core.actors import Actor
from accord.core.errors import PermissionDenied
from accord.directory.models import Agency, AgencyKind, StaffProfile
from accord.people.actions import import_people_batch
from accord.people.models import PartyRole, PersonRecord, PersonRole
from accord.people.validation import CleanPerson, clean_person

RECENT_DAYS = 14
MAX_CLIENTS_PER_BATCH = 2000


@dataclass
class PersonIn:
    first_name: str
    last_name: str
    middle_name: str = ""
    date_of_birth: date | None = None
    sex: str = ""
    aliases: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class ChargeIn:
    statute: str
    description: str
    level: str
    degree: str = ""
    counts: int = 1
    disposition: str = ChargeDisposition.PENDING
    disposition_on: date | None = None


@dataclass
class EventIn:
    kind: str
    starts_at: datetime
    courtroom: str = ""
    status: str = EventStatus.SCHEDULED
    result: str = ""


@dataclass
class PartyIn:
    role: str
    person: PersonIn


@dataclass
class TeamIn:
    staff_id: int
    role: str
    starts_on: date
    ends_on: date | None = None


@dataclass
class CaseIn:
    number: str
    court_id: int
    case_type_id: int
    opened_on: date
    charges: list[ChargeIn] = field(default_factory=list)
    events: list[EventIn] = field(default_factory=list)
    parties: list[PartyIn] = field(default_factory=list)
    team: list[TeamIn] = field(default_factory=list)
    status: str = CaseStatus.OPEN
    closed_on: date | None = None
    disposition: str = ""
    disposition_on: date | None = None


@dataclass
class CustodyIn:
    in_custody_since: date
    facility: str
    bond_amount: Decimal | None = None
    bond_terms: str = ""
    released_on: date | None = None


@dataclass
class ClientIn:
    number: str
    person: PersonIn
    cases: list[CaseIn] = field(default_factory=list)
    custody: list[CustodyIn] = field(default_factory=list)


@dataclass
class LoadResult:
    clients: int = 0
    cases: int = 0
    charges: int = 0
    events: int = 0
    parties: int = 0
    ticklers: int = 0


def _person_values(person: PersonIn) -> dict[str, object]:
    return {
        "first_name": person.first_name,
        "middle_name": person.middle_name,
        "last_name": person.last_name,
        "date_of_birth": person.date_of_birth,
        "sex": person.sex,
        "aliases": [
            {"first_name": f, "middle_name": m, "last_name": last} for f, m, last in person.aliases
        ],
    }


def _check(agency: Agency, clients: Sequence[ClientIn]) -> Errors:
    """Every reason the batch cannot load, named by its place (``clients.3.cases.0.court``)."""
    errors: Errors = []
    courts = set(Agency.objects.filter(kind=AgencyKind.COURT).values_list("pk", flat=True))
    case_types = set(CaseType.objects.values_list("pk", flat=True))
    staff = {
        profile.pk: profile.roles
        for profile in StaffProfile.objects.filter(agency=agency).prefetch_related("role_rows")
    }
    numbers = [c.number for c in clients]
    taken = set(
        Client.objects.filter(agency=agency, number__in=numbers).values_list("number", flat=True)
    )
    seen_cases: set[tuple[int, str]] = set()
    for i, client in enumerate(clients):
        at = f"clients.{i}"
        if client.number in taken or numbers.count(client.number) > 1:
            errors.append({"field": f"{at}.number", "reason": "client number already used"})
        for j, case in enumerate(client.cases):
            here = f"{at}.cases.{j}"
            text(case.number, f"{here}.number", 40, errors, required=True)
            if (case.court_id, case.number) in seen_cases:
                errors.append({"field": f"{here}.number", "reason": "case twice in the batch"})
            seen_cases.add((case.court_id, case.number))
            if case.court_id not in courts:
                errors.append({"field": f"{here}.court_id", "reason": "not a court"})
            if case.case_type_id not in case_types:
                errors.append({"field": f"{here}.case_type_id", "reason": "not a case type"})
            choice(case.status, f"{here}.status", CaseStatus.values, errors)
            choice(
                case.disposition, f"{here}.disposition", Disposition.values, errors, required=False
            )
            for k, charge in enumerate(case.charges):
                choice(charge.level, f"{here}.charges.{k}.level", ChargeLevel.values, errors)
                choice(
                    charge.disposition,
                    f"{here}.charges.{k}.disposition",
                    ChargeDisposition.values,
                    errors,
                )
            for k, event in enumerate(case.events):
                choice(event.kind, f"{here}.events.{k}.kind", EventKind.values, errors)
                choice(event.status, f"{here}.events.{k}.status", EventStatus.values, errors)
            for k, party in enumerate(case.parties):
                choice(
                    party.role,
                    f"{here}.parties.{k}.role",
                    [r for r in PartyRole.values if r != PartyRole.CLIENT],
                    errors,
                )
            for k, member in enumerate(case.team):
                if member.role not in staff.get(member.staff_id, frozenset()):
                    errors.append(
                        {"field": f"{here}.team.{k}.staff_id", "reason": f"not a {member.role}"}
                    )
                choice(member.role, f"{here}.team.{k}.role", TeamRole.values, errors)
    return errors


def _clean(person: PersonIn, source_id: str, where: str, errors: Errors) -> CleanPerson:
    cleaned, problems = clean_person({**_person_values(person), "source_id": source_id})
    errors += [{"field": f"{where}.{e['field']}", "reason": e["reason"]} for e in problems]
    return cleaned


@action
def load_caseload(
    agency: Agency, clients: Sequence[ClientIn], *, actor: Actor, link: bool = True
) -> LoadResult:
    """Load a batch of clients with their cases, charges, court events, parties, teams and
    custody: all of the batch or none of it, one audit event for the batch."""
    if not actor.is_system and opens_cases_of(actor) != agency.pk:
        raise PermissionDenied("Only the office's attorneys and supervisors load its caseload.")
    if len(clients) > MAX_CLIENTS_PER_BATCH:
        fail(
            "Too many clients.",
            [{"field": "clients", "reason": f"at most {MAX_CLIENTS_PER_BATCH} a batch"}],
        )
    errors = _check(agency, clients)
    people: list[tuple[int, CleanPerson]] = []
    party_sources: dict[tuple[int, int, int], str] = {}
    for i, client in enumerate(clients):
        people.append(
            (len(people) + 1, _clean(client.person, client.number, f"clients.{i}.person", errors))
        )
        for j, case in enumerate(client.cases):
            for k, party in enumerate(case.parties):
                source = "party-" + secrets.token_hex(8)
                party_sources[(i, j, k)] = source
                where = f"clients.{i}.cases.{j}.parties.{k}.person"
                people.append((len(people) + 1, _clean(party.person, source, where, errors)))
    fail("The caseload cannot be loaded.", errors)
    import_people_batch(agency, people, actor=actor, source_name="caseload")
    records = dict(
        PersonRecord.objects.filter(
            agency=agency, source_id__in=[p.values["source_id"] for _line, p in people]
        ).values_list("source_id", "pk")
    )
    new_clients = Client.objects.bulk_create(
        [Client(agency=agency, person_id=records[c.number], number=c.number) for c in clients]
    )
    courts = {a.pk: a for a in Agency.objects.filter(kind=AgencyKind.COURT)}
    plan = [(i, j, case) for i, client in enumerate(clients) for j, case in enumerate(client.cases)]
    cases = Case.objects.bulk_create(
        [
            Case(
                agency=agency,
                client=new_clients[i],
                number=case.number.strip(),
                court=courts[case.court_id],
                case_type_id=case.case_type_id,
                status=case.status,
                opened_on=case.opened_on,
                closed_on=case.closed_on,
                disposition=case.disposition,
                disposition_on=case.disposition_on,
            )
            for i, _j, case in plan
        ],
        batch_size=500,
    )
    result = LoadResult(clients=len(new_clients), cases=len(cases))
    charges, events, parties, team, roles = [], [], [], [], []
    for (i, j, case_in), case in zip(plan, cases, strict=True):
        reference = case.reference
        current = case.status == CaseStatus.OPEN
        roles.append(
            PersonRole(
                record_id=records[clients[i].number],
                role=PartyRole.CLIENT,
                case_reference=reference,
                current=current,
            )
        )
        charges += [
            Charge(case=case, position=n, **vars(charge))
            for n, charge in enumerate(case_in.charges, start=1)
        ]
        events += [CourtEvent(case=case, **vars(event)) for event in case_in.events]
        for k, party in enumerate(case_in.parties):
            record_id = records[party_sources[(i, j, k)]]
            parties.append(Party(case=case, person_id=record_id, role=party.role))
            roles.append(
                PersonRole(
                    record_id=record_id, role=party.role, case_reference=reference, current=current
                )
            )
        team += [
            Assignment(case=case, assigned_by=actor.label[:150], **vars(m)) for m in case_in.team
        ]
    Charge.objects.bulk_create(charges, batch_size=2000)
    events = CourtEvent.objects.bulk_create(events, batch_size=2000)
    Party.objects.bulk_create(parties, batch_size=2000)
    Assignment.objects.bulk_create(team, batch_size=2000)
    # The people app's roles, written in bulk under this batch's audit event (its
    # set_person_role writes one event per role, too slow for a caseload).
    PersonRole.objects.bulk_create(roles, batch_size=2000, ignore_conflicts=True)
    CustodyStatus.objects.bulk_create(
        [
            CustodyStatus(client=new_clients[i], **vars(spell))
            for i, client in enumerate(clients)
            for spell in client.custody
        ]
    )
    result.charges, result.events, result.parties = len(charges), len(events), len(parties)
    result.ticklers = _set_off(agency, cases, charges, events)
    audit(
        actor,
        AuditAction.CASES_LOADED,
        agency_id=agency.pk,
        object_type="cases.case",
        details={**vars(result), "first_case": cases[0].pk if cases else None},
    )
    if link:
        from accord.people.tasks import link_pending_records

        link_pending_records.enqueue(agency.pk)
    return result


def _set_off(
    agency: Agency, cases: list[Case], charges: list[Charge], events: list[CourtEvent]
) -> int:
    """The ticklers the office's rules would have set off on the open cases, still due."""
    rules = list(TicklerRule.objects.filter(agency=agency, active=True))
    if not rules:
        return 0
    since = timezone.localdate() - timedelta(days=RECENT_DAYS)
    open_cases = {c.pk for c in cases if c.status == CaseStatus.OPEN}
    due: list[Tickler] = []

    def plan(case_id: int, trigger: str, value: str, base: date, source: str) -> None:
        for rule in matching_rules(rules, trigger, value):
            when = base + timedelta(days=rule.offset_days)
            if case_id in open_cases and when >= since:
                due.append(
                    Tickler(
                        case_id=case_id, rule=rule, source=source, label=rule.label, due_on=when
                    )
                )

    for case in cases:
        plan(case.pk, Trigger.CASE_OPENED, "", case.opened_on, f"case:{case.pk}")
    for charge in charges:
        if charge.disposition != ChargeDisposition.PENDING and charge.disposition_on:
            plan(
                charge.case_id,
                Trigger.CHARGE_DISPOSED,
                charge.disposition,
                charge.disposition_on,
                f"charge:{charge.pk}",
            )
    for event in events:
        day = timezone.localtime(event.starts_at).date()
        if event.status == EventStatus.SCHEDULED:
            plan(event.case_id, Trigger.EVENT_SCHEDULED, event.kind, day, f"event:{event.pk}")
        if event.status == EventStatus.HELD:
            plan(event.case_id, Trigger.EVENT_HELD, event.kind, day, f"event:{event.pk}")
    Tickler.objects.bulk_create(due, batch_size=2000)
    return len(due)
