"""The demo county's caseload: thousands of the defender's clients and cases (Faker names,
fictional "Harmon County Statutes" charges), court calendars, teams, custody and ticklers,
loaded in batches through ``cases.bulk.actions.load_caseload``; then a few new intakes
opened through ``open_case`` as the demo attorney, whose conflict checks find planted
conflicts (a co-defendant who is a former client, a victim who is a current one).

Deterministic: the same seed gives the same county."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accord.core.actors import Actor

CLIENTS = 1500
BATCH = 500
SEED = 4242
DEFENDER = "HCPD"
COURT = "HCCC"
JAIL_NAME = "Harmon County Jail"

# Fictional statutes of the demo county: (statute, description, level, degree, case type).
CHARGES: tuple[tuple[str, str, str, str, str], ...] = (
    ("HCS 13-1105", "First-degree murder", "felony", "Class 1", "felony_high_murder"),
    ("HCS 13-1406", "Sexual assault", "felony", "Class 2", "felony_high_sex"),
    ("HCS 13-1904", "Armed robbery", "felony", "Class 2", "felony_high_other"),
    ("HCS 13-1204", "Aggravated assault", "felony", "Class 3", "felony_mid"),
    ("HCS 13-1507", "Residential burglary", "felony", "Class 3", "felony_mid"),
    ("HCS 13-3408", "Possession of narcotics for sale", "felony", "Class 2", "felony_mid"),
    ("HCS 13-1802", "Theft, $1,000 to $2,000", "felony", "Class 6", "felony_low"),
    ("HCS 13-3407", "Possession of a dangerous drug", "felony", "Class 4", "felony_low"),
    ("HCS 28-1383", "Aggravated DUI", "felony", "Class 4", "dui_high"),
    ("HCS 28-1381", "Driving under the influence", "misdemeanor", "Class 1", "dui_low"),
    ("HCS 13-1203", "Assault, domestic violence", "misdemeanor", "Class 1", "misdemeanor_high"),
    ("HCS 13-2904", "Disorderly conduct", "misdemeanor", "Class 1", "misdemeanor_low"),
    ("HCS 13-1805", "Shoplifting under $1,000", "misdemeanor", "Class 1", "misdemeanor_low"),
    ("HCS 13-1502", "Criminal trespass", "misdemeanor", "Class 3", "misdemeanor_low"),
    ("HCS 13-901", "Violation of probation", "felony", "", "probation_parole_violation"),
)
# How often each charge leads a case (misdemeanors and low felonies are most of a caseload).
CHARGE_WEIGHTS = (1, 1, 2, 5, 5, 6, 8, 8, 3, 8, 9, 10, 10, 8, 6)
DISPOSITIONS = (
    ("convicted_plea", 55),
    ("dismissed", 20),
    ("diverted", 10),
    ("nolle_prosequi", 7),
    ("acquitted", 3),
    ("convicted_trial", 5),
)
PREFIX = {"felony": "CF", "misdemeanor": "MM"}
COURTROOMS = ("Courtroom 1A", "Courtroom 1B", "Courtroom 2A", "Courtroom 2C", "Courtroom 3B")
PARTY_ROLES = ("victim", "victim", "complaining_witness", "witness", "witness", "co_defendant")
EXTRA_ATTORNEYS = 6
# Planted people: known to the office from the bulk caseload (first, last, dob, role), and
# how a new intake names them (first, last, dob, role).
PLANTED = (
    (
        ("Robert", "Delgado", date(1988, 7, 19), "client_closed"),
        ("Robbie", "Delgado", date(1988, 7, 19), "co_defendant"),
    ),
    (
        ("Katherine", "Okonkwo", date(1993, 2, 11), "client_open"),
        ("Kathy", "Okonkwo", date(1993, 2, 11), "victim"),
    ),
    (("Marcus", "Whitley", date(1979, 12, 1), "witness"), ("Whitley", "Marcus", None, "witness")),
)


def _moment(day: date, rng: random.Random) -> datetime:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    minutes = rng.choice(range(8 * 60 + 30, 15 * 60 + 30, 30))
    return timezone.make_aware(datetime.combine(day, time(minutes // 60, minutes % 60)))


class _Caseload:
    """The generated clients, with their cases, parties, calendars and teams."""

    def __init__(
        self,
        court_id: int,
        case_types: dict[str, int],
        *,
        attorneys: list[int],
        investigators: list[int],
        social_workers: list[int],
        lead_attorney: int,
    ) -> None:
        from faker import Faker

        self.rng = random.Random(SEED)  # noqa: S311 - synthetic data, not secrets
        self.fake = Faker("en_US")
        self.fake.seed_instance(SEED)
        self.court_id = court_id
        self.case_types = case_types
        self.attorneys = attorneys
        self.investigators = investigators
        self.social_workers = social_workers
        self.lead = lead_attorney
        self.today = timezone.localdate()
        self.sequence: dict[tuple[int, str], int] = {}

    def person(
        self, first: str | None = None, last: str | None = None, dob: date | None = None
    ) -> Any:
        from accord.cases.bulk.actions import PersonIn

        sex = self.rng.choice("MF")
        return PersonIn(
            first_name=first
            or (self.fake.first_name_male() if sex == "M" else self.fake.first_name_female()),
            middle_name=self.fake.first_name()[0] if self.rng.random() < 0.6 else "",
            last_name=last or self.fake.last_name(),
            date_of_birth=dob or self.fake.date_of_birth(minimum_age=18, maximum_age=70),
            sex=sex,
        )

    def number(self, opened: date, level: str) -> str:
        key = (opened.year, PREFIX.get(level, "CF"))
        self.sequence[key] = self.sequence.get(key, 0) + 1
        return f"{opened.year}-{key[1]}-{self.sequence[key]:06d}"

    def case(self, open_now: bool, lead: int) -> Any:
        from accord.cases.bulk.actions import CaseIn, ChargeIn, PartyIn, TeamIn

        rng = self.rng
        statute, description, level, degree, kind = rng.choices(CHARGES, CHARGE_WEIGHTS)[0]
        age = rng.randint(5, 240) if open_now else rng.randint(200, 1400)
        opened = self.today - timedelta(days=age)
        charges = [ChargeIn(statute, description, level, degree)]
        if rng.random() < 0.45:
            extra = rng.choice([c for c in CHARGES if c[2] == "misdemeanor"])
            charges.append(ChargeIn(extra[0], extra[1], extra[2], extra[3]))
        case = CaseIn(
            number=self.number(opened, level),
            court_id=self.court_id,
            case_type_id=self.case_types[kind],
            opened_on=opened,
            charges=charges,
            team=[TeamIn(lead, "attorney", opened)],
        )
        if rng.random() < 0.2:
            case.team.append(TeamIn(rng.choice(self.investigators), "investigator", opened))
        if rng.random() < 0.15 and self.social_workers:
            case.team.append(TeamIn(rng.choice(self.social_workers), "social_worker", opened))
        if rng.random() < 0.5:
            case.parties.append(PartyIn(rng.choice(PARTY_ROLES), self.person()))
        self._calendar(case, open_now)
        if not open_now:
            outcome = rng.choices([d for d, _ in DISPOSITIONS], [w for _, w in DISPOSITIONS])[0]
            closed = min(self.today, opened + timedelta(days=rng.randint(40, 180)))
            case.status, case.closed_on = "closed", closed
            case.disposition, case.disposition_on = outcome, closed
            for charge in case.charges:
                charge.disposition, charge.disposition_on = outcome, closed
        return case

    def _calendar(self, case: Any, open_now: bool) -> None:
        from accord.cases.bulk.actions import EventIn

        rng = self.rng
        room = rng.choice(COURTROOMS)
        first = case.opened_on + timedelta(days=rng.randint(1, 3))
        if first <= self.today:
            case.events.append(
                EventIn("arraignment", _moment(first, rng), room, "held", "Not guilty plea entered")
            )
        if open_now:
            later = ("pretrial", "motion", "pretrial", "trial", "review")
            for n in range(rng.randint(1, 3)):
                when = self.today + timedelta(days=rng.randint(1, 90) + 7 * n)
                case.events.append(
                    EventIn(later[rng.randrange(len(later))], _moment(when, rng), room)
                )
        else:
            steps = ("pretrial", "plea", "sentencing")
            for n, kind in enumerate(steps[: rng.randint(1, 3)]):
                when = first + timedelta(days=20 * (n + 1))
                if when < self.today:
                    case.events.append(EventIn(kind, _moment(when, rng), room, "held"))

    def clients(self, start: int, count: int) -> list[Any]:
        from accord.cases.bulk.actions import ClientIn, CustodyIn

        rng = self.rng
        result = []
        for n in range(start, start + count):
            person = self.person()
            cases = rng.choices((1, 2, 3), (60, 28, 12))[0]
            open_now = rng.random() < 0.45
            lead = self.lead if rng.random() < 0.25 else rng.choice(self.attorneys)
            client = ClientIn(number=f"HC-{n + 1:04d}", person=person)
            client.cases = [self.case(open_now and i == cases - 1, lead) for i in range(cases)]
            if open_now and rng.random() < 0.25:
                since = self.today - timedelta(days=rng.randint(1, 60))
                client.custody.append(
                    CustodyIn(
                        since,
                        JAIL_NAME,
                        Decimal(rng.choice((500, 2500, 10000, 50000))),
                        "cash or surety",
                    )
                )
            result.append(client)
        return result

    def plant(self, clients: list[Any]) -> None:
        """The first clients are the ones the demo's agreements and consents name (client
        numbers HC-0001…, ``demo.agreements.CLIENTS``); the next carry the planted people."""
        from accord.cases.bulk.actions import PartyIn
        from accord.demo.agreements import CLIENTS as NAMED

        for client in clients:
            if client.number in NAMED:
                first, _, last = NAMED[client.number].partition(" ")
                client.person.first_name, client.person.last_name = first, last
        for n, ((first, last, dob, role), _asked) in enumerate(PLANTED, start=len(NAMED)):
            client = clients[n]
            if role.startswith("client"):
                client.person.first_name, client.person.last_name = first, last
                client.person.date_of_birth = dob
                if role == "client_open" and client.cases[-1].status != "open":
                    client.cases[-1].status, client.cases[-1].closed_on = "open", None
                    client.cases[-1].disposition, client.cases[-1].disposition_on = "", None
            else:
                client.cases[0].parties.insert(0, PartyIn(role, self.person(first, last, dob)))


def _staff(agencies: dict[str, Any], actor: Actor) -> tuple[list[int], list[int], list[int], int]:
    """The defender's attorneys (the demo sign-ins and a few more, who do not sign in),
    investigators and social workers, as staff profile ids; and the demo attorney's."""
    from faker import Faker

    from accord.directory.actions import add_staff
    from accord.directory.models import StaffProfile, Unit

    defender = agencies[DEFENDER]
    fake = Faker("en_US")
    fake.seed_instance(SEED + 1)
    units = {u.name: u for u in Unit.objects.filter(agency=defender)}
    for n in range(EXTRA_ATTORNEYS):
        first, last = fake.first_name(), fake.last_name()
        add_staff(
            defender,
            actor=actor,
            username=f"{first}.{last}{n}".lower().replace("'", ""),
            first_name=first,
            last_name=last,
            email=f"attorney{n}@hcpd.demo.invalid",
            roles=("attorney",),
            unit=units.get("Felony Trial Team" if n % 2 else "Misdemeanor Unit"),
            title="Assistant Public Defender",
            attributes={"bar_number": f"DEMO-{60000 + n}"},
        )
    profiles = StaffProfile.objects.filter(agency=defender).select_related("user")
    by_role: dict[str, list[int]] = {"attorney": [], "investigator": [], "social_worker": []}
    lead = 0
    for profile in profiles.prefetch_related("role_rows"):
        for role in profile.roles & set(by_role):
            by_role[role].append(profile.pk)
        if profile.user.username == "dana.attorney":
            lead = profile.pk
    return by_role["attorney"], by_role["investigator"], by_role["social_worker"], lead


def _intakes(agencies: dict[str, Any], case_types: dict[str, int], actor: Actor) -> None:
    """New matters the demo attorney opens today, through the same action as the page: the
    conflict check finds the planted people."""
    from accord.accounts.identity import actor_for_username
    from accord.cases import actions
    from accord.cases.models import Case, NoteKind
    from accord.cases.privileged.actions import submit_document

    attorney = actor_for_username("dana.attorney")
    court = agencies[COURT]
    today = timezone.localdate()
    intakes = (
        ("Jordan", "Ellis", date(1996, 2, 14), "felony_mid", "HCS 13-1904"),
        ("Priya", "Raman", date(1990, 8, 30), "misdemeanor_high", "HCS 13-1203"),
        ("Caleb", "Moore", date(2001, 5, 5), "felony_low", "HCS 13-1802"),
    )
    for n, ((first, last, dob, kind, statute), (_known, asked)) in enumerate(
        zip(intakes, PLANTED, strict=True)
    ):
        charge = next(c for c in CHARGES if c[0] == statute)
        client = actions.create_client(
            agencies[DEFENDER],
            actor=attorney,
            number=f"HC-9{n:03d}",
            first_name=first,
            last_name=last,
            date_of_birth=dob,
        )
        case = actions.open_case(
            client,
            actor=attorney,
            number=f"{today.year}-{PREFIX[charge[2]]}-9{n:05d}",
            court=court,
            case_type=case_types[kind],
            opened_on=today,
            charges=[
                {
                    "statute": charge[0],
                    "description": charge[1],
                    "level": charge[2],
                    "degree": charge[3],
                }
            ],
            parties=[
                {
                    "role": asked[3],
                    "first_name": asked[0],
                    "last_name": asked[1],
                    "date_of_birth": asked[2],
                }
            ],
        )
        actions.schedule_event(
            case,
            actor=attorney,
            kind="arraignment",
            starts_at=_moment(today + timedelta(days=2 + n), random.Random(n)),  # noqa: S311
            courtroom=COURTROOMS[n],
        )
    noted = Case.objects.filter(number=f"{today.year}-CF-900000").first()
    if noted is not None:
        actions.write_note(
            noted,
            actor=attorney,
            kind=NoteKind.NOTE,
            text=(
                "Intake interview (DEMO). Client says he was at work until 11 pm; ask the "
                "investigator for the warehouse's time cards."
            ),
        )
        submit_document(
            noted,
            actor=attorney,
            filename="intake-checklist.txt",
            content=b"DEMO intake checklist\n- conflict check\n- bond review\n",
        )


def seed_cases(agencies: dict[str, Any], *, actor: Actor) -> dict[str, int]:
    """Seed the demo caseload (demo and test mode only: ``seed_demo_county`` refuses
    production before calling this). Returns what it made."""
    from accord.cases.bulk.actions import load_caseload
    from accord.cases.models import CaseType, Client
    from accord.cases.ticklers.actions import add_standard_rules

    defender = agencies.get(DEFENDER)
    court = agencies.get(COURT)
    if defender is None or court is None or Client.objects.filter(agency=defender).exists():
        return {"clients": 0, "cases": 0}
    add_standard_rules(defender, actor=actor)
    case_types = dict(CaseType.objects.filter(standard="NPDWS-2023").values_list("code", "pk"))
    attorneys, investigators, social_workers, lead = _staff(agencies, actor)
    caseload = _Caseload(
        court.pk,
        case_types,
        attorneys=attorneys,
        investigators=investigators,
        social_workers=social_workers,
        lead_attorney=lead,
    )
    totals = {"clients": 0, "cases": 0, "events": 0}
    for start in range(0, CLIENTS, BATCH):
        clients = caseload.clients(start, min(BATCH, CLIENTS - start))
        if start == 0:
            caseload.plant(clients)
        result = load_caseload(defender, clients, actor=actor, link=False)
        totals["clients"] += result.clients
        totals["cases"] += result.cases
        totals["events"] += result.events
    _link_caseload(defender, actor)
    _intakes(agencies, case_types, actor)
    return totals


def _link_caseload(defender: Any, actor: Actor) -> None:
    """Give each loaded client and party a master person of their own, as seeded links: the
    generated people are distinct by construction, and the model would take minutes for
    thousands of records. Without a master person a jail's booking cannot find its client,
    and the assignment subscriptions have no person to follow."""
    from accord.people.actions import seed_links
    from accord.people.models import PersonRecord

    pending = PersonRecord.objects.filter(agency=defender, link__isnull=True).order_by("pk")
    seed_links([[record] for record in pending], actor=actor)
