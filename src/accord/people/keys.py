"""Blocking keys: the short strings under which a person record is filed for look-up.

A record is filed under many keys (kind, value); a look-up computes the keys a record it
should find would be filed under and asks the index for them. Each kind of key survives a
different way a name or date goes wrong, so a look-up with several things wrong still
shares at least one key with its person:

====  ==================================================  ==================================
kind  value                                               survives
====  ==================================================  ==================================
nk    canonical first name | metaphone(surname form)      nicknames (Bill/William), spelling
                                                          of the surname, compound surnames
sx    soundex(first) | soundex(surname form)              vowel and silent-letter changes
ld    surname (or part) with one letter deleted |         one typo in the surname, also
      NYSIIS(first, or the formal name of a nickname)     with a nickname
fd    first name with one letter deleted | metaphone(sn)  one typo in the first name
li    metaphone(surname) | first initial                  a look-up by first initial only
lf    surname (or part) with one letter deleted | first   a typo in each name (asked only
      initial                                             when no DOB is given: it is broad)
db    date of birth (YYYYMMDD) | an initial of a first    any name change that keeps one
      name or of a surname (part)                         initial, when the DOB is right,
                                                          swapped day/month or ±1 year
ym    birth year and month | metaphone(surname)           a mistyped day of birth
md    birth month and day | metaphone(surname)            a mistyped year of birth
====  ==================================================  ==================================

Look-ups try both name orders, so swapped first and last names meet the same keys. The
``db`` key holds the initials of both names in one set, so it needs no second order: a
record is filed under each of its initials, and a look-up asks for each of its own.

The initial in the ``db`` key keeps a look-up with a DOB to the few dozen people born that
day who share an initial with the party, instead of every one of them (~40 a day in a
million records, ~160 over the DOB's likely misreadings); a name that changes both
initials at once (a nickname and a first-letter typo in the surname) is still found by the
``ld`` key, and names that are nothing alike were never hits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from accord.people.names import (
    canonical_forms,
    deletions,
    dob_text,
    dob_variants,
    formal_forms,
    joined,
    metaphone,
    normalize,
    nysiis,
    soundex,
    surname_forms,
)

KEY_KINDS = ("nk", "sx", "ld", "fd", "li", "lf", "db", "ym", "md")
# Kinds too broad to ask when a date of birth narrows the search already.
BROAD_KINDS = frozenset({"lf"})
# The kinds asked for the swapped name order when a DOB is given.
SWAPPED_WITH_DOB = frozenset({"nk", "sx"})
# Keys are short on purpose (the index holds ~20 per record); a longer name is cut here,
# which costs nothing in recall because the matcher scores the full names afterwards.
_MAX_PART = 24


@dataclass(frozen=True)
class Name:
    """One name of a person, normalized (see :func:`names.normalize`)."""

    first: str
    middle: str
    last: str

    @classmethod
    def of(cls, first: str | None, middle: str | None, last: str | None) -> Name:
        return cls(normalize(first), normalize(middle), normalize(last))

    def swapped(self) -> Name:
        return Name(self.last, self.middle, self.first)

    def encode(self) -> str:
        return f"{self.first}\t{self.middle}\t{self.last}"

    @classmethod
    def decode(cls, text: str) -> Name:
        first, middle, last = [*text.split("\t"), "", ""][:3]
        return cls(first, middle, last)


def _name_keys(name: Name, *, query: bool) -> set[tuple[str, str]]:
    keys: set[tuple[str, str]] = set()
    first = joined(name.first)[:_MAX_PART]
    last = joined(name.last)[:_MAX_PART]
    if not last:
        return keys
    last_code = metaphone(last)
    if query and len(first) == 1:
        # An initial is all we know: every record files its surname with its initial.
        keys.add(("li", f"{last_code}|{first}"))
        return keys
    if not first:
        return keys
    firsts = set(canonical_forms(first))
    middle = joined(name.middle)
    if len(middle) > 1:
        # People go by their middle name ("J. Michael Smith" is "Michael Smith").
        firsts |= canonical_forms(middle)
    for whole_form in surname_forms(name.last):
        form = whole_form[:_MAX_PART]
        code = metaphone(form)
        for canonical in firsts:
            keys.add(("nk", f"{canonical[:_MAX_PART]}|{code}"))
        keys.add(("sx", f"{soundex(first)}|{soundex(form)}"))
    # The first name's sound, and for a pure nickname the formal names' ("Mantha" is
    # Samantha). A name with nicknames of its own (John, Mary) is not expanded: the dataset
    # links it to a dozen others, which would multiply these keys for the commonest names.
    first_codes = {nysiis(c[:_MAX_PART]) for c in formal_forms(first)}
    for form in surname_forms(name.last):
        for variant in deletions(form[:_MAX_PART]):
            for code in first_codes:
                keys.add(("ld", f"{variant}|{code}"))
            keys.add(("lf", f"{variant}|{first[0]}"))
    for variant in deletions(first):
        keys.add(("fd", f"{variant}|{last_code}"))
    if not query:
        keys.add(("li", f"{last_code}|{first[0]}"))
    return keys


def initials(names: Iterable[Name]) -> set[str]:
    """The first letters of the first names and of every form of the surnames."""
    found = set()
    for name in names:
        first = joined(name.first)
        if first:
            found.add(first[0])
        found |= {form[0] for form in surname_forms(name.last)}
    return found


def _dob_keys(dob: date, names: Iterable[Name]) -> set[tuple[str, str]]:
    names = list(names)
    text = dob_text(dob)
    keys = {("db", f"{text}|{initial}") for initial in initials(names)}
    for last in {n.last for n in names if n.last}:
        code = metaphone(joined(last)[:_MAX_PART])
        if code:
            keys.add(("ym", f"{text[:6]}|{code}"))
            keys.add(("md", f"{text[4:]}|{code}"))
    return keys


def record_keys(names: Iterable[Name], dob: date | None) -> set[tuple[str, str]]:
    """Every key a record with these names (its own and its aliases) is filed under."""
    names = list(names)
    keys: set[tuple[str, str]] = set()
    for name in names:
        keys |= _name_keys(name, query=False)
    if dob is not None:
        keys |= _dob_keys(dob, names)
    return keys


def query_keys(name: Name, dob: date | None) -> dict[str, set[str]]:
    """The keys to look up for a party: both name orders, and the likely misreadings of
    its date of birth. Returned by kind, as the index is queried."""
    keys = _name_keys(name, query=True)
    if name.first and name.last and len(joined(name.first)) > 1:
        swapped = _name_keys(name.swapped(), query=True)
        if dob is not None:
            # With a DOB, the DOB keys find swapped names already; the sound-alike keys
            # of the swapped order are enough on top of them (fewer probes, fewer
            # candidates: the look-up stays within a few milliseconds).
            swapped = {(k, v) for k, v in swapped if k in SWAPPED_WITH_DOB}
        keys |= swapped
    if dob is not None:
        for variant in dob_variants(dob).values():
            keys |= _dob_keys(variant, [name])
    by_kind: dict[str, set[str]] = {}
    for kind, value in keys:
        if dob is not None and kind in BROAD_KINDS:
            continue
        by_kind.setdefault(kind, set()).add(value)
    return by_kind
