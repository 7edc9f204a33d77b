"""Synthetic people for the benchmarks, the tests and the demo county, with a documented
corruption model (docs/people.md). Names come from Faker's name lists of several locales
(weighted where Faker weights them), so the data has the common-name collisions of a real
county; nothing here is a real person.

Two generators:

* :meth:`Synthesizer.agency_records` — one person known to several agencies, each record a
  copy with the errors that creep in between agencies (typos, nicknames, swapped names,
  compound surnames shortened, mistyped or missing dates of birth, moves);
* :meth:`Synthesizer.corrupt_lookup` — a party as typed into a conflict check, with the
  errors of an intake interview.
"""

from __future__ import annotations

import importlib
import random
import string
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from accord.people.names import PARTICLES, _nicknamer

# Locale and share of people: a county with a large Spanish-speaking population.
LOCALES: tuple[tuple[str, float], ...] = (
    ("en_US", 0.55),
    ("es_MX", 0.18),
    ("en_IE", 0.07),
    ("it_IT", 0.06),
    ("de_DE", 0.05),
    ("fr_FR", 0.03),
    ("pt_BR", 0.02),
    ("vi_VN", 0.02),
    ("cs_CZ", 0.02),
)
# The agencies of the multi-agency data and the identifiers each tends to hold.
SOURCES: tuple[tuple[str, dict[str, float]], ...] = (
    ("JAIL", {"state_id": 0.8, "ssn_last4": 0.5, "fbi_number": 0.3}),
    ("COURT", {"state_id": 0.6}),
    ("PD", {"ssn_last4": 0.6, "state_id": 0.3}),
    ("PROB", {"ssn_last4": 0.8, "state_id": 0.7}),
    ("SO", {"state_id": 0.5, "fbi_number": 0.2}),
    ("PROV", {"ssn_last4": 0.4}),
)
RECORDS_PER_PERSON = ((1, 0.40), (2, 0.28), (3, 0.17), (4, 0.10), (5, 0.05))
CITIES = (
    ("Harmon", "TX", "75"),
    ("Mesa Verde", "TX", "76"),
    ("Port Alder", "TX", "77"),
    ("Cedar Falls", "TX", "78"),
    ("Bellwood", "TX", "79"),
)


@dataclass(frozen=True)
class Person:
    """The truth about one synthetic person."""

    person_id: int
    sex: str
    first_name: str
    middle_name: str
    last_name: str
    date_of_birth: date
    ssn_last4: str
    state_id: str
    fbi_number: str
    address_line: str
    city: str
    state: str
    postal_code: str


class _Pool:
    def __init__(self, names: Sequence[str], weights: Sequence[float] | None) -> None:
        self.names = list(names)
        total = 0.0
        self.cumulative: list[float] = []
        for w in weights or [1.0] * len(self.names):
            total += w
            self.cumulative.append(total)

    def draw(self, rng: random.Random) -> str:
        return rng.choices(self.names, cum_weights=self.cumulative)[0]


def _pool(values: Any) -> _Pool:
    if isinstance(values, dict):
        return _Pool(list(values), list(values.values()))
    return _Pool(list(values), None)


class Synthesizer:
    """Deterministic for a seed: the same seed gives the same people and corruptions."""

    def __init__(self, seed: int = 2024) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
        self.locales: list[tuple[str, dict[str, _Pool]]] = []
        for locale, _share in LOCALES:
            provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
            self.locales.append(
                (
                    locale,
                    {
                        "M": _pool(provider.first_names_male),
                        "F": _pool(provider.first_names_female),
                        "last": _pool(provider.last_names),
                    },
                )
            )
        self.locale_weights = [share for _l, share in LOCALES]
        address = importlib.import_module("faker.providers.address.en_US").Provider
        self.street_suffixes = list(address.street_suffixes)
        self.streets = [
            f"{self.locales[0][1]['last'].draw(self.rng)} {self.rng.choice(self.street_suffixes)}"
            for _ in range(2000)
        ]

    # --- people ---------------------------------------------------------------------------

    def person(self, person_id: int) -> Person:
        rng = self.rng
        locale, pools = rng.choices(self.locales, weights=self.locale_weights)[0]
        sex = rng.choice("MF")
        first = pools[sex].draw(rng)
        middle = pools[sex].draw(rng) if rng.random() < 0.6 else ""
        last = pools["last"].draw(rng)
        if locale in ("es_MX", "pt_BR") and rng.random() < 0.5:
            # Spanish and Portuguese naming: father's and mother's surnames.
            second = pools["last"].draw(rng)
            last = f"{last}{rng.choice([' ', '-'])}{second}" if second != last else last
        dob = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 24_500))
        city, state, zip_prefix = rng.choice(CITIES)
        return Person(
            person_id=person_id,
            sex=sex,
            first_name=first,
            middle_name=middle,
            last_name=last,
            date_of_birth=dob,
            ssn_last4=f"{rng.randrange(10_000):04d}",
            state_id=f"{rng.randrange(10**7, 10**8)}",
            fbi_number=f"{rng.randrange(10**8, 10**9)}{rng.choice(string.ascii_uppercase)}",
            address_line=f"{rng.randrange(1, 9999)} {rng.choice(self.streets)}",
            city=city,
            state=state,
            postal_code=f"{zip_prefix}{rng.randrange(1000):03d}",
        )

    def people(self, count: int, start: int = 1) -> list[Person]:
        return [self.person(start + i) for i in range(count)]

    # --- corruptions ------------------------------------------------------------------------

    def typo(self, name: str) -> str:
        """One keyboard error: a letter dropped, doubled wrong, replaced, or two swapped."""
        rng = self.rng
        if len(name) < 3:
            return name
        i = rng.randrange(1, len(name))
        kind = rng.choice(("delete", "insert", "substitute", "transpose"))
        letter = rng.choice(string.ascii_lowercase)
        if kind == "delete":
            return name[:i] + name[i + 1 :]
        if kind == "insert":
            return name[:i] + letter + name[i:]
        if kind == "substitute":
            return name[:i] + letter + name[i + 1 :]
        if i == len(name) - 1:
            i -= 1
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]

    def nickname(self, first: str) -> str | None:
        nicks = sorted(_nicknamer().nicknames_of(first) | _nicknamer().canonicals_of(first))
        return self.rng.choice(nicks).title() if nicks else None

    def compound_part(self, last: str) -> str:
        """One of the surnames of a compound surname ("García" of "García López")."""
        found = [p for p in last.replace("-", " ").split() if p and p.lower() not in PARTICLES]
        return self.rng.choice(found) if len(found) > 1 else last

    def dob_error(self, dob: date) -> tuple[date | None, str]:
        rng = self.rng
        kind = rng.choice(("swap", "digit", "year"))
        if kind == "swap" and dob.day <= 12 and dob.day != dob.month:
            return dob.replace(month=dob.day, day=dob.month), "DOB day/month swapped"
        if kind == "year":
            try:
                return dob.replace(year=dob.year + rng.choice((-1, 1))), "DOB year ±1"
            except ValueError:
                return dob, "none"
        text = dob.strftime("%Y%m%d")
        for _ in range(10):
            i = rng.choice((2, 3, 6, 7))
            changed = text[:i] + str(rng.randrange(10)) + text[i + 1 :]
            try:
                value = date(int(changed[:4]), int(changed[4:6]), int(changed[6:]))
            except ValueError:
                continue
            if value != dob:
                return value, "DOB one digit off"
        return dob, "none"

    # --- records of several agencies ------------------------------------------------------------

    def agency_record(self, person: Person, source: str, source_id: str) -> dict[str, str]:
        """How one agency has the person: each field may have gone wrong on the way in."""
        rng = self.rng
        first, middle, last = person.first_name, person.middle_name, person.last_name
        dob: date | None = person.date_of_birth
        roll = rng.random()
        if roll < 0.08:
            first = self.nickname(first) or first
        elif roll < 0.13:
            first = self.typo(first)
        roll = rng.random()
        if roll < 0.05:
            last = self.typo(last)
        elif roll < 0.08:
            last = self.compound_part(last)
        if rng.random() < 0.02:
            first, last = last, first
        if rng.random() < 0.3:
            middle = middle[:1]
        roll = rng.random()
        if roll < 0.04:
            dob = None
        elif roll < 0.09:
            dob = self.dob_error(person.date_of_birth)[0]
        holds = dict(SOURCES)[source]
        row = {
            "source": source,
            "source_id": source_id,
            "first_name": first,
            "middle_name": middle,
            "last_name": last,
            "suffix": "",
            "date_of_birth": dob.isoformat() if dob else "",
            "sex": person.sex if rng.random() < 0.95 else "",
            "ssn_last4": person.ssn_last4 if rng.random() < holds.get("ssn_last4", 0) else "",
            "state_id": person.state_id if rng.random() < holds.get("state_id", 0) else "",
            "fbi_number": person.fbi_number if rng.random() < holds.get("fbi_number", 0) else "",
            "address_line": person.address_line,
            "city": person.city,
            "state": person.state,
            "postal_code": person.postal_code,
            "person_id": str(person.person_id),
        }
        if rng.random() < 0.25:
            # Moved since the other agency met them.
            moved = self.person(0)
            row.update(
                address_line=moved.address_line, city=moved.city, postal_code=moved.postal_code
            )
        if row["state_id"] and rng.random() < 0.01:
            row["state_id"] = self.typo(row["state_id"])
        return row

    def agency_records(self, count: int) -> list[dict[str, str]]:
        """About ``count`` records of people known to one to five agencies each; the
        ``person_id`` column is the truth (never an input to matching)."""
        rng = self.rng
        sizes = [n for n, _ in RECORDS_PER_PERSON]
        weights = [w for _, w in RECORDS_PER_PERSON]
        rows: list[dict[str, str]] = []
        person_id = 0
        while len(rows) < count:
            person_id += 1
            person = self.person(person_id)
            size = min(rng.choices(sizes, weights=weights)[0], count - len(rows))
            sources = rng.sample([s for s, _ in SOURCES], k=min(size, len(SOURCES)))
            for n, source in enumerate(sources):
                rows.append(self.agency_record(person, source, f"{source}-{person_id}-{n}"))
        return rows

    # --- conflict-check look-ups --------------------------------------------------------------

    def corrupt_lookup(self, person: Person, *, with_dob: bool) -> tuple[dict[str, Any], list[str]]:
        """A party as an intake interview might type it, and the errors made."""
        rng = self.rng
        first, middle, last = person.first_name, "", person.last_name
        errors: list[str] = []
        kinds = ["none", "typo_last", "typo_first", "nickname", "swap", "compound", "middle"]
        chosen = rng.choices(kinds, weights=[20, 20, 15, 15, 10, 10, 10])[0]
        chosen2 = rng.choice(kinds[1:]) if rng.random() < 0.15 else "none"
        # Name errors first, the swap last: a swap moves whatever was typed.
        for kind in sorted((chosen, chosen2), key=lambda k: k == "swap"):
            changed = self._name_error(kind, (first, middle, last), person)
            if changed is not None:
                first, middle, last = changed
                errors.append(kind)
        dob: date | None = None
        if with_dob:
            dob = person.date_of_birth
            roll = rng.random()
            if roll < 0.3:
                dob, what = self.dob_error(person.date_of_birth)
                if what != "none":
                    errors.append(what)
        party = {
            "first_name": first,
            "middle_name": middle,
            "last_name": last,
            "date_of_birth": dob,
        }
        return party, errors

    def _name_error(
        self, kind: str, name: tuple[str, str, str], person: Person
    ) -> tuple[str, str, str] | None:
        """The name with one error of ``kind`` made, or None if it cannot be made."""
        first, middle, last = name
        changed: tuple[str, str, str] | None = None
        if kind == "typo_last":
            changed = (first, middle, self.typo(last))
        elif kind == "typo_first":
            changed = (self.typo(first), middle, last)
        elif kind == "nickname":
            nick = self.nickname(first)
            changed = (nick, middle, last) if nick is not None else None
        elif kind == "swap":
            changed = (last, middle, first)
        elif kind == "compound":
            part = self.compound_part(last)
            changed = (first, middle, part) if part != last else None
        elif kind == "middle":
            changed = (first, person.middle_name, last)
        return changed

    def with_alias(self, person: Person) -> Person:
        """The same person under a married or assumed surname."""
        return replace(person, last_name=self.locales[0][1]["last"].draw(self.rng))
