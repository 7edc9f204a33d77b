"""The conflict matcher: find, among an agency's person records, everyone who may be a
given party, scored and explained in words.

Tuned for recall (a missed conflict is an ethics failure; a false hit costs a glance):

1. Candidates come from the key index (``keys.py``) in one SQL query: every record sharing
   any key with the party in either name order, with any likely reading of its DOB.
2. Each candidate's names (its own and its aliases) are compared with the party's using
   rapidfuzz (Jaro-Winkler, Damerau-Levenshtein), nickname sets and phonetic codes; the
   dates of birth with :func:`names.compare_dobs`.
3. A candidate is a hit when the names are close, or when they are fairly close and the
   dates of birth agree or nearly agree. Hits are ranked by score (0-100).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from django.db import connection
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from accord.people.keys import Name, query_keys
from accord.people.names import (
    compare_dobs,
    joined,
    metaphone,
    nickname_equivalent,
    nysiis,
    parts,
)

# More hits than this for one party are cut, lowest scores first — except those whose
# name is at least CLOSE_NAME alike, which are kept up to MAX_HITS_HARD: with no DOB to
# tell them apart, every namesake of a common name may be the person.
MAX_HITS = 100
MAX_HITS_HARD = 1000
CLOSE_NAME = 0.9
# A candidate is a hit with names at least this close (0-1) …
NAME_THRESHOLD = 0.80
# … or with names at least this close and a DOB at least this close.
WEAK_NAME_THRESHOLD = 0.60
DOB_SUPPORT = 0.75
# Same-looking names but a date of birth that is nothing like the party's: a hit only
# when the names are (nearly) identical — a wrong date in one system still happens.
DIFFERENT_DOB_NAME_THRESHOLD = 0.95
SWAP_PENALTY = 0.98


@dataclass(frozen=True)
class Party:
    """A person to look for: a party to a matter, or a record being linked."""

    first_name: str
    last_name: str
    middle_name: str = ""
    date_of_birth: date | None = None

    @property
    def name(self) -> Name:
        return Name.of(self.first_name, self.middle_name, self.last_name)


@dataclass(frozen=True)
class Match:
    record_id: int
    score: float
    explanation: str
    matched_name: str
    name_score: float


# --- comparing names -----------------------------------------------------------------------


# Comparisons are pure functions of two names, and names repeat across look-ups (the
# surnames of a county are a few thousand): each pair is compared once per process.
@lru_cache(maxsize=200_000)
def _surname(q: str, r: str) -> tuple[float, str]:
    qj, rj = joined(q), joined(r)
    if not qj or not rj:
        return 0.0, "no surname"
    if qj == rj:
        return 1.0, ""
    q_parts = _parts_of(q, qj)
    r_parts = _parts_of(r, rj)
    compound = len(q_parts) > 1 or len(r_parts) > 1
    if compound and (q_parts & r_parts or qj in r_parts or rj in q_parts):
        return 0.95, "compound surname part"
    distance = DamerauLevenshtein.distance(qj, rj, score_cutoff=2)
    if distance == 1:
        return 0.9, "edit distance 1 in surname"
    if metaphone(qj) == metaphone(rj) or nysiis(qj) == nysiis(rj):
        return 0.88, "surname sounds alike"
    similarity = JaroWinkler.similarity(qj, rj)
    if compound:
        # A typo inside one part of a compound surname ("Garcia Lopes" / "Lopez").
        pairs = [(a, b) for a in q_parts | {qj} for b in r_parts | {rj}]
        if (
            min(DamerauLevenshtein.distance(a, b) for a, b in pairs) <= 1
            or max(JaroWinkler.similarity(a, b) for a, b in pairs) >= 0.9
        ):
            return 0.85, "edit distance 1 in a compound surname part"
    if distance == 2 and min(len(qj), len(rj)) >= 6:
        return max(0.82, similarity * 0.9), "edit distance 2 in surname"
    return similarity * 0.9, "surname spelled differently"


def _parts_of(name: str, whole: str) -> set[str]:
    if " " not in name and "-" not in name:
        return {whole}
    return set(parts(name)) or {whole}


@lru_cache(maxsize=200_000)
def _first_names(qf: str, rf: str) -> tuple[float, str, bool]:
    """First names compared (joined forms): (score, words, final). Not final: only the
    fallback matched, and a middle name may still say more."""
    if not qf or not rf:
        return 0.5, "no first name to compare", True
    if qf == rf:
        return 1.0, "", True
    if len(qf) == 1 or len(rf) == 1:
        if qf[0] == rf[0]:
            return 0.8, "first initial matches", True
        return 0.0, "other initial", True
    if nickname_equivalent(qf, rf):
        return 0.95, "nickname", True
    if DamerauLevenshtein.distance(qf, rf, score_cutoff=2) == 1:
        return 0.9, "edit distance 1 in first name", True
    if metaphone(qf) == metaphone(rf) or nysiis(qf) == nysiis(rf):
        return 0.88, "first name sounds alike", True
    return JaroWinkler.similarity(qf, rf) * 0.9, "first name spelled differently", False


def _first(q: tuple[str, str, str], r: tuple[str, str, str]) -> tuple[float, str]:
    """First names compared, with the middle names when the first names differ (people
    go by their middle name)."""
    qf, rf = joined(q[0]), joined(r[0])
    score, words, final = _first_names(qf, rf)
    if final:
        return score, words
    qm, rm = joined(q[1]), joined(r[1])
    if (rm and (qf == rm or nickname_equivalent(qf, rm))) or (
        qm and (qm == rf or nickname_equivalent(qm, rf))
    ):
        return 0.85, "goes by middle name"
    return score, words


def _orders(q: Name) -> tuple[tuple[str, str, str], tuple[str, str, str]]:
    return (q.first, q.middle, q.last), (q.last, q.middle, q.first)


def compare_names(q: Name, r: Name) -> tuple[float, str]:
    """How alike two names are (0-1), trying both orders, and the words that say why."""
    return _compare(_orders(q), (r.first, r.middle, r.last))


def _compare(
    orders: tuple[tuple[str, str, str], tuple[str, str, str]],
    r: tuple[str, str, str],
    tried: tuple[bool, bool] = (True, True),
) -> tuple[float, str]:
    """The best of the orders ``tried`` (an order left out is one whose surnames are known
    to compare under 0.5, which this would skip anyway)."""
    best = (0.0, "")
    for swapped, asked in enumerate(orders):
        if not tried[swapped]:
            continue
        # Swapping the party's names (not the record's) keeps surname against surname.
        last_score, last_words = _surname(asked[2], r[2])
        if last_score < 0.5:
            continue
        first_score, first_words = _first(asked, r)
        score = 0.55 * last_score + 0.45 * first_score
        words = [w for w in (first_words, last_words) if w]
        if swapped:
            score *= SWAP_PENALTY
            words.insert(0, "first and last names swapped")
        if score > best[0]:
            best = (score, " + ".join(words) or "same name")
    return best


# A surname pair scores 0.5 or more in :func:`_surname` only through one of its cases:
# the same or one or two edits apart (whole or, for compound surnames, a part against a
# part), sounding alike, a compound part in common or nearly (one edit, Jaro-Winkler 0.9),
# or 0.9 times their Jaro-Winkler similarity reaching 0.5. :func:`_may_reach_half` asks
# the cheap superset of those cases, the floor lowered a little so that rounding can only
# let more through.
_PLAIN_FLOOR = 0.5 / 0.9 - 1e-9

# (joined, the forms a compound surname is compared by or None, metaphone, NYSIIS)
SurnameForm = tuple[str, tuple[str, ...] | None, str, str]


@lru_cache(maxsize=200_000)
def _surname_form(last: str) -> SurnameForm:
    whole = joined(last)
    forms = None
    if " " in last or "-" in last:
        forms = tuple(_parts_of(last, whole) | {whole})
    return whole, forms, metaphone(whole), nysiis(whole)


def _may_reach_half(q: SurnameForm, r: SurnameForm) -> bool:
    """Whether ``_surname`` may score this pair at 0.5 or more (never False when it does)."""
    qj, q_forms, q_metaphone, q_nysiis = q
    rj, r_forms, r_metaphone, r_nysiis = r
    if not qj or not rj:
        return False
    if q_metaphone == r_metaphone or q_nysiis == r_nysiis:
        return True
    return any(
        JaroWinkler.similarity(a, b) >= _PLAIN_FLOOR
        or DamerauLevenshtein.distance(a, b, score_cutoff=2) <= 2
        for a in q_forms or (qj,)
        for b in r_forms or (rj,)
    )


class Scorer:
    """Scores the candidates of one look-up. What repeats among them is worked out once:
    a common name's candidates share dates of birth (those found by the DOB keys) and
    names (its namesakes), so DOB and name comparisons are kept per look-up."""

    def __init__(self, party: Party, query: Name) -> None:
        self.party = party
        self.orders = _orders(query)
        self._dobs: dict[str, tuple[float | None, str]] = {}
        self._names: dict[str, tuple[float, str]] = {}

    def score_all(self, rows: list[tuple[int, str]]) -> list[Match]:
        """The hits among ``rows`` (record id, match data), with their scores (0-100),
        explanations, matched names and name scores (0-1). A cheap screen comes first:
        most candidates of a look-up with a DOB share only the date with the party, and a
        surname nothing like the party's in either order rules a name out without the full
        comparison."""
        asked = [_surname_form(order[2]) for order in self.orders]
        screened: dict[str, tuple[bool, bool]] = {}
        found = []
        for record_id, match_data in rows:
            head, *encoded = match_data.split("|")
            split = [text.split("\t") for text in encoded]
            promising = False
            for fields in split:
                last = fields[2] if len(fields) > 2 else ""
                flags = screened.get(last)
                if flags is None:
                    form = _surname_form(last)
                    flags = screened[last] = (
                        _may_reach_half(asked[0], form),
                        _may_reach_half(asked[1], form),
                    )
                if flags[0] or flags[1]:
                    promising = True
                    break
            if not promising:
                continue  # every name scores 0 in both orders: not a hit
            texts = []
            for text, fields in zip(encoded, split, strict=True):
                first, middle, last = [*fields, "", ""][:3]
                texts.append((text, first, middle, last))
            scored = self._score(head, texts, screened)
            if scored is not None:
                found.append(Match(record_id, *scored))
        return found

    def _score(
        self,
        head: str,
        texts: list[tuple[str, str, str, str]],
        tried: dict[str, tuple[bool, bool]],
    ) -> tuple[float, str, str, float] | None:
        """(score, explanation, matched name, name score) of one record, or None if it is
        not a hit."""
        compared_dobs = self._dobs.get(head)
        if compared_dobs is None:
            compared_dobs = self._dobs[head] = compare_dobs(
                self.party.date_of_birth, _parse_dob(head)
            )
        dob_score, dob_words = compared_dobs
        orders = self.orders
        if dob_score == 0.0 and not any(
            _near_exact_parts(orders, first, last) for _text, first, _middle, last in texts
        ):
            # Unrelated dates of birth: only a (nearly) identical name is a hit, and this
            # cheap test lets through every name that could be one (most namesakes of a
            # common name are rejected here without a full comparison).
            return None
        best_name, best_words, best_matched = 0.0, "", ""
        for index, (text, first, middle, last) in enumerate(texts):
            orders_tried = tried.get(last, _BOTH)
            if not (orders_tried[0] or orders_tried[1]):
                continue  # scores 0 in both orders
            compared = self._names.get(text)
            if compared is None:
                compared = self._names[text] = _compare(orders, (first, middle, last), orders_tried)
            score, words = compared
            if score > best_name:
                best_name, best_matched = score, text
                best_words = f"{words} (alias)" if index else words
        if best_name < WEAK_NAME_THRESHOLD:
            return None
        if dob_score is None:
            hit = best_name >= NAME_THRESHOLD
            total = best_name * 0.85
        else:
            if dob_score == 0.0:
                hit = best_name >= DIFFERENT_DOB_NAME_THRESHOLD
            else:
                hit = best_name >= NAME_THRESHOLD or dob_score >= DOB_SUPPORT
            total = 0.6 * best_name + 0.4 * dob_score
        if not hit:
            return None
        explanation = f"{best_words} + {dob_words}"
        matched = " ".join(p for p in best_matched.split("\t") if p)
        return round(total * 100, 1), explanation, matched, best_name


_BOTH = (True, True)


def _near_exact_parts(
    orders: tuple[tuple[str, str, str], tuple[str, str, str]], first: str, last: str
) -> bool:
    """Whether a name could compare at DIFFERENT_DOB_NAME_THRESHOLD (0.95) or more: the
    same surname (or a compound part of it) and the same first name, a nickname of it or
    one edit from it — in either order. A superset of :func:`compare_names` >= 0.95."""
    return any(
        _same_surname(asked[2], last) and _close_first(joined(asked[0]), joined(first))
        for asked in orders
    )


@lru_cache(maxsize=200_000)
def _same_surname(q: str, r: str) -> bool:
    qj, rj = joined(q), joined(r)
    if not qj or not rj:
        return False
    if qj == rj:
        return True
    return bool((_parts_of(q, qj) | {qj}) & (_parts_of(r, rj) | {rj}))


@lru_cache(maxsize=200_000)
def _close_first(q: str, r: str) -> bool:
    if not q or not r:
        return False
    return (
        q == r
        or nickname_equivalent(q, r)
        or DamerauLevenshtein.distance(q, r, score_cutoff=1) <= 1
    )


@lru_cache(maxsize=65536)
def _parse_dob(text: str) -> date | None:
    if len(text) != 8:
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


# --- the index -------------------------------------------------------------------------------


def candidates(agency_id: int, keys: dict[str, set[str]]) -> list[tuple[int, str]]:
    """(record id, match data) of every record of the agency filed under any of ``keys``:
    one query, answered from the (agency, kind, value, record) index."""
    if not keys:
        return []
    if connection.vendor == "postgresql":
        return _postgresql_candidates(agency_id, keys)
    from accord.people.models import PersonKey, PersonRecord

    key_table = connection.ops.quote_name(PersonKey._meta.db_table)
    record_table = connection.ops.quote_name(PersonRecord._meta.db_table)
    # One indexed range per kind (UNION), answered from the (agency, kind, value, record)
    # index; an OR of the kinds made SQLite scan the agency.
    selects = []
    params: list[Any] = []
    for kind, values in sorted(keys.items()):
        selects.append(
            f"SELECT record_id FROM {key_table} "  # noqa: S608 - placeholders only
            f"WHERE agency_id = %s AND kind = %s AND value IN ({', '.join(['%s'] * len(values))})"
        )
        params += [agency_id, kind, *sorted(values)]
    sql = (
        f"SELECT id, match_data FROM {record_table} WHERE id IN ("  # noqa: S608
        + " UNION ".join(selects)
        + ")"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(int(row[0]), str(row[1])) for row in cursor.fetchall()]


# PostgreSQL: one statement text whatever the keys — the (kind, value) pairs go in two
# arrays, joined to the index one pair at a time — prepared once per connection, so a
# look-up is one round trip that the server neither parses nor plans again. (Django turns
# psycopg's automatic preparation off, for connection poolers in transaction mode; a
# named PREPARE needs a session of its own too, which is how Accord connects.)
_PREPARED = "accord_person_candidates"
_prepared_on: weakref.WeakSet[Any] = weakref.WeakSet()


def _postgresql_candidates(agency_id: int, keys: dict[str, set[str]]) -> list[tuple[int, str]]:
    from accord.people.models import PersonKey, PersonRecord

    pairs = sorted((kind, value) for kind, values in keys.items() for value in values)
    with connection.cursor() as cursor:
        session = connection.connection
        if session not in _prepared_on:
            key_table = connection.ops.quote_name(PersonKey._meta.db_table)
            record_table = connection.ops.quote_name(PersonRecord._meta.db_table)
            cursor.execute(
                f"PREPARE {_PREPARED} (bigint, text[], text[]) AS "  # noqa: S608 - no input
                f"SELECT r.id, r.match_data FROM {record_table} r WHERE r.id IN ("
                f"SELECT k.record_id FROM unnest($2::text[], $3::text[]) AS q(kind, value) "
                f"JOIN {key_table} k "
                "ON k.agency_id = $1 AND k.kind = q.kind AND k.value = q.value)"
            )
            _prepared_on.add(session)
        cursor.execute(
            f"EXECUTE {_PREPARED} (%s, %s, %s)",
            [agency_id, [kind for kind, _ in pairs], [value for _, value in pairs]],
        )
        return [(int(row[0]), str(row[1])) for row in cursor.fetchall()]


def find_matches(agency_id: int, party: Party, *, limit: int = MAX_HITS) -> list[Match]:
    """The agency's records that may be ``party``, best first (at most ``limit``)."""
    query = party.name
    if not joined(query.last):
        return []
    scorer = Scorer(party, query)
    found = scorer.score_all(candidates(agency_id, query_keys(query, party.date_of_birth)))
    found.sort(key=lambda m: (-m.score, m.record_id))
    if len(found) <= limit:
        return found
    close = [m for m in found[limit:] if m.name_score >= CLOSE_NAME]
    return found[:limit] + close[: MAX_HITS_HARD - limit]
