"""The demo county's people: records of the defender, the jail, the court, probation and a
treatment provider — many of the same people under variant names — with the defender's
clients and parties in its matters, and a few planted conflicts that the demo conflict check
finds (docs/people.md, "Demo")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from accord.core.actors import Actor
from accord.demo.accounts import JURISDICTION
from accord.directory.models import Agency

DEFENDER = "HCPD"
PARTNERS = ("HCJ", "HCCC", "HCAPP", "NRTC", "HCSO")
PEOPLE = 1200
# People 0..799 are known to the defender; 400..1199 to partner agencies: 400 in common.
DEFENDER_PEOPLE = range(800)
PARTNER_PEOPLE = range(400, PEOPLE)
MODEL_LINKED = 25  # partner records left for the matching model to link, to show it working
CASE_YEARS = (2019, 2020, 2021, 2022, 2023, 2024, 2025)
PARTY_ROLES = ("victim", "complaining_witness", "witness", "witness", "co_defendant", "informant")


@dataclass(frozen=True)
class Planted:
    """A person the defender knows, and how the demo intake will name them."""

    first: str
    middle: str
    last: str
    dob: date
    role: str
    case: str
    current: bool
    alias: tuple[str, str] | None
    asked_first: str
    asked_last: str
    asked_dob: date | None
    asked_role: str


PLANTED = (
    Planted(
        "William",
        "J",
        "Harper",
        date(1990, 3, 4),
        "client",
        "2019-CF-0042",
        False,
        None,
        "Bill",
        "Harper",
        date(1990, 4, 3),
        "co_defendant",
    ),
    Planted(
        "Maria",
        "",
        "Garcia Lopez",
        date(1985, 11, 20),
        "victim",
        "2023-CF-0107",
        True,
        None,
        "Maria",
        "Lopez",
        date(1985, 11, 20),
        "witness",
    ),
    Planted(
        "Katherine",
        "",
        "O'Neill",
        date(1971, 1, 15),
        "client",
        "2025-CF-0210",
        True,
        None,
        "Kathy",
        "Oneil",
        date(1971, 1, 15),
        "complaining_witness",
    ),
    Planted(
        "Darnell",
        "",
        "Brooks",
        date(1982, 9, 27),
        "witness",
        "2022-MM-0300",
        False,
        ("Dee", "Brookes"),
        "Dee",
        "Brookes",
        None,
        "witness",
    ),
    Planted(
        "Thanh",
        "",
        "Nguyen",
        date(1979, 5, 30),
        "informant",
        "2021-CF-0666",
        False,
        None,
        "Nguyen",
        "Thanh",
        None,
        "informant",
    ),
)


def _clean(values: dict[str, Any]) -> Any:
    from accord.people.validation import clean_person

    clean, errors = clean_person(values)
    if errors:
        raise ValueError(f"demo person {values.get('source_id')}: {errors}")
    return clean


def _person_values(person: Any, source_id: str) -> dict[str, Any]:
    return {
        "source_id": source_id,
        "first_name": person.first_name,
        "middle_name": person.middle_name,
        "last_name": person.last_name,
        "date_of_birth": person.date_of_birth,
        "sex": person.sex,
        "identifiers": {"ssn_last4": person.ssn_last4},
        "address_line": person.address_line,
        "city": person.city,
        "state": person.state,
        "postal_code": person.postal_code,
    }


def _seed_defender(synth: Any, people: list[Any], defender: Agency, actor: Actor) -> dict[str, Any]:
    """The defender's records (the people as it recorded them, and the planted ones) and
    their roles in its matters."""
    from accord.people.actions import import_people_batch, set_person_role
    from accord.people.models import PersonRecord

    rng = synth.rng
    rows = [(n + 1, _clean(_person_values(people[n], f"PD-{n + 1:05d}"))) for n in DEFENDER_PEOPLE]
    for i, plant in enumerate(PLANTED):
        values: dict[str, Any] = {
            "source_id": f"PD-P{i + 1}",
            "first_name": plant.first,
            "middle_name": plant.middle,
            "last_name": plant.last,
            "date_of_birth": plant.dob,
        }
        if plant.alias:
            values["aliases"] = [{"first_name": plant.alias[0], "last_name": plant.alias[1]}]
        rows.append((len(rows) + 1, _clean(values)))
    import_people_batch(defender, rows, actor=actor, source_name="demo")
    records = {r.source_id: r for r in PersonRecord.objects.filter(agency=defender)}
    for n in DEFENDER_PEOPLE:
        record = records[f"PD-{n + 1:05d}"]
        year = rng.choice(CASE_YEARS)
        case = f"{year}-CF-{rng.randrange(1, 9999):04d}"
        if n % 5 == 4:
            set_person_role(record, rng.choice(PARTY_ROLES), case, actor=actor, current=False)
        else:
            set_person_role(record, "client", case, actor=actor, current=year >= 2024)
    for i, plant in enumerate(PLANTED):
        set_person_role(
            records[f"PD-P{i + 1}"], plant.role, plant.case, actor=actor, current=plant.current
        )
    return records


def _seed_partners(
    synth: Any, people: list[Any], agencies: dict[str, Agency], actor: Actor
) -> dict[int, list[Any]]:
    """Partner agencies' records of the same people, under the names each agency wrote
    down; returns each synthetic person's records (the truth)."""
    from accord.people.actions import import_people_batch
    from accord.people.models import PersonRecord

    rng = synth.rng
    by_agency: dict[str, list[tuple[int, Any]]] = {}
    owner: dict[tuple[str, str], int] = {}
    for n in PARTNER_PEOPLE:
        for short in rng.sample(PARTNERS, rng.choice((1, 1, 2, 2, 3))):
            source_id = f"{short}-{n + 1:05d}"
            row = synth.agency_record(people[n], "JAIL", source_id)
            identifiers = {k: row.pop(k) for k in ("ssn_last4", "state_id", "fbi_number")}
            row["identifiers"] = {k: v for k, v in identifiers.items() if v}
            row.pop("source")
            row.pop("person_id")
            batch = by_agency.setdefault(short, [])
            batch.append((len(batch) + 1, _clean(row)))
            owner[(short, source_id)] = n
    for short, batch in by_agency.items():
        import_people_batch(agencies[short], batch, actor=actor, source_name="demo")
    truth: dict[int, list[Any]] = {}
    for record in PersonRecord.objects.filter(agency__short_name__in=PARTNERS).select_related(
        "agency"
    ):
        truth.setdefault(owner[(record.agency.short_name, record.source_id)], []).append(record)
    return truth


def _demo_check(defender: Agency, actor: Actor) -> None:
    """The demo intake: a new matter whose parties include the planted conflicts."""
    from accord.accounts.identity import actor_for_username
    from accord.accounts.models import User
    from accord.people.actions import check_conflicts
    from accord.people.models import CheckSource

    try:
        attorney = actor_for_username("dana.attorney")
    except User.DoesNotExist:
        attorney = actor
    parties: list[dict[str, Any]] = [
        {
            "first_name": "Tomas",
            "last_name": "Reyes",
            "date_of_birth": date(1996, 2, 14),
            "role": "client",
        },
    ]
    parties += [
        {
            "first_name": p.asked_first,
            "last_name": p.asked_last,
            "date_of_birth": p.asked_dob,
            "role": p.asked_role,
        }
        for p in PLANTED
    ]
    check_conflicts(
        defender,
        parties,
        actor=attorney,
        reference="DEMO-2025-CF-0500 intake",
        source=CheckSource.FORM,
    )


def seed_people(*, actor: Actor) -> dict[str, int]:
    """Seed the demo county's people through the people actions (demo and test mode only:
    ``seed_demo_county`` refuses production before calling this)."""
    from accord.people.actions import link_records, seed_links
    from accord.people.models import PersonRecord
    from accord.people.synthetic import Synthesizer

    agencies = {a.short_name: a for a in Agency.objects.filter(jurisdiction=JURISDICTION)}
    defender = agencies.get(DEFENDER)
    if defender is None or PersonRecord.objects.filter(agency=defender).exists():
        return {"people": 0}
    synth = Synthesizer(seed=1789)
    people = synth.people(PEOPLE)
    records = _seed_defender(synth, people, defender, actor)
    truth = _seed_partners(synth, people, agencies, actor)
    for n in DEFENDER_PEOPLE:
        truth.setdefault(n, []).append(records[f"PD-{n + 1:05d}"])
    # Most people are linked as seeded; a few partner records go through the model.
    by_model = [group.pop() for n, group in sorted(truth.items()) if n >= 400 and len(group) > 1]
    by_model = by_model[:MODEL_LINKED]
    seed_links(list(truth.values()), actor=actor)
    seed_links([[records[f"PD-P{i + 1}"]] for i in range(len(PLANTED))], actor=actor)
    link_records(by_model, actor=actor)
    _demo_check(defender, actor)
    return {"people": PersonRecord.objects.count()}
