"""Names and dates of birth as the matcher sees them: normalized, split, sounded out.

Pure functions, no database: the blocking keys (``keys.py``), the conflict matcher
(``matching.py``) and the Splink input (``resolution.py``) all read names through here, so
"García-López" is the same two surnames everywhere.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import cache, lru_cache

import jellyfish
from nicknames import NickNamer

# Particles that are part of a surname but say nothing on their own ("de la Cruz").
PARTICLES = frozenset(
    {"de", "del", "la", "las", "los", "van", "von", "der", "den", "da", "di", "du", "le", "y", "e"}
)
SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "v"})
_NOT_LETTER = re.compile(r"[^a-z\- ]+")
_DROP = str.maketrans({"'": None, "\u2019": None})


def normalize(text: str | None) -> str:
    """Lower case, accents dropped, apostrophes and dots removed, hyphens and spaces kept
    single: "  O'Brien-Núñez " -> "obrien-nunez"."""
    if not text:
        return ""
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in decomposed if not unicodedata.combining(c))
    text = _NOT_LETTER.sub(" ", text.lower().translate(_DROP))
    return " ".join(text.split()).strip(" -")


def joined(text: str) -> str:
    """A normalized name without spaces or hyphens ("garcia lopez" -> "garcialopez")."""
    return text.replace(" ", "").replace("-", "")


def parts(text: str) -> list[str]:
    """The meaningful parts of a normalized compound name, particles and suffixes left out."""
    return [
        p
        for p in text.replace("-", " ").split()
        if len(p) > 1 and p not in PARTICLES and p not in SUFFIXES
    ]


def surname_forms(last: str) -> list[str]:
    """The whole surname (joined) and, for a compound surname, each part on its own: a
    person recorded as "Garcia Lopez" is found as "Garcia" and as "Lopez"."""
    whole = joined(last)
    forms = [whole] if whole else []
    found = parts(last)
    if len(found) > 1:
        forms.extend(p for p in found if p != whole)
    return forms


@cache
def _nicknamer() -> NickNamer:
    return NickNamer()


def _normalized(lookup: dict[str, set[str]]) -> dict[str, frozenset[str]]:
    # The dataset writes some names with dots and spaces ("k.c."); Accord's names are
    # normalized and joined ("kc"), so the tables are too.
    table: dict[str, set[str]] = {}
    for key, values in lookup.items():
        table.setdefault(joined(normalize(key)), set()).update(joined(normalize(v)) for v in values)
    return {k: frozenset(v - {""}) for k, v in table.items() if k}


@cache
def _canonicals() -> dict[str, frozenset[str]]:
    return _normalized(_nicknamer().canonical_lookup)


@cache
def _nicknames() -> dict[str, frozenset[str]]:
    return _normalized(_nicknamer().nickname_lookup)


@cache
def canonical_forms(first: str) -> frozenset[str]:
    """The name and the formal names it is a nickname of: "bill" -> {bill, william}.

    Two first names are nickname-equivalent when their canonical forms overlap, so Bill,
    Billy and William all meet at "william" (the ``nicknames`` dataset from PyPI).
    """
    name = joined(first)
    if not name:
        return frozenset()
    return frozenset({name, *_canonicals().get(name, ())})


@cache
def formal_forms(first: str) -> frozenset[str]:
    """The name itself, and — only for a pure nickname, one with no nicknames of its own
    ("Mantha", "Peggy") — the formal names it stands for."""
    name = joined(first)
    if not name or _nicknames().get(name):
        return frozenset({name}) if name else frozenset()
    return canonical_forms(name)


def nickname_equivalent(a: str, b: str) -> bool:
    if not a or not b:
        return False
    return bool(canonical_forms(a) & canonical_forms(b))


@cache
def metaphone(name: str) -> str:
    return jellyfish.metaphone(name) if name else ""


@cache
def nysiis(name: str) -> str:
    return jellyfish.nysiis(name) if name else ""


@cache
def soundex(name: str) -> str:
    return jellyfish.soundex(name) if name else ""


def deletions(name: str) -> set[str]:
    """The name and every form with one letter deleted (a deletion neighbourhood).

    Two names within one edit — a letter wrong, missing, extra, or two letters swapped —
    always share one of these forms, so an indexed equality lookup finds typos that no
    phonetic code promises to catch.
    """
    if len(name) <= 2:
        return {name}
    return {name, *(name[:i] + name[i + 1 :] for i in range(len(name)))}


# --- dates of birth --------------------------------------------------------------------


def dob_text(value: date | None) -> str:
    return f"{value.year:04d}{value.month:02d}{value.day:02d}" if value else ""


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def dob_variants(value: date) -> dict[str, date]:
    """Dates a mistyped date of birth is likely to have been, by how it went wrong."""
    variants: dict[str, date] = {"exact": value}
    swapped = _valid(value.year, value.day, value.month) if value.day <= 12 else None
    if swapped and swapped != value:
        variants["day/month swapped"] = swapped
    for delta in (-1, 1):
        shifted = _valid(value.year + delta, value.month, value.day)
        if shifted:
            variants[f"year {delta:+d}"] = shifted
    return variants


@lru_cache(maxsize=65536)
def compare_dobs(a: date | None, b: date | None) -> tuple[float | None, str]:
    """How close two dates of birth are (1.0 same … 0.0 unrelated; None if one is
    missing), and the words that say so."""
    if a is None or b is None:
        return None, "no DOB to compare"
    if a == b:
        return 1.0, "exact DOB"
    if a.year == b.year and a.month == b.day and a.day == b.month:
        return 0.85, "DOB day/month swapped"
    if a.month == b.month and a.day == b.day:
        if abs(a.year - b.year) == 1:
            return 0.8, "DOB year off by one"
        if _one_edit(dob_text(a), dob_text(b)):
            return 0.75, "DOB year mistyped"
        return 0.4, "same birthday, other year"
    if _one_edit(dob_text(a), dob_text(b)):
        return 0.75, "DOB one digit off"
    if a.year == b.year and a.month == b.month:
        return 0.45, "same birth month and year"
    return 0.0, "different DOB"


def _one_edit(a: str, b: str) -> bool:
    """Same length and one digit different, or two neighbouring digits swapped."""
    if len(a) != len(b):
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    if len(diff) == 1:
        return True
    return (
        len(diff) == 2
        and diff[1] == diff[0] + 1
        and a[diff[0]] == b[diff[1]]
        and (a[diff[1]] == b[diff[0]])
    )
