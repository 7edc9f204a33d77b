"""Checking a person record or a party before anything is written: one set of rules for
the action, the CSV importer, the API and the forms, each reason naming its field."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.utils import timezone

from accord.people.models import IdentifierKind, PartyRole, Sex

LIMITS = {
    "source_id": 64,
    "first_name": 100,
    "middle_name": 100,
    "last_name": 100,
    "suffix": 20,
    "address_line": 200,
    "city": 100,
    "state": 40,
    "postal_code": 20,
}
TEXT_FIELDS = tuple(LIMITS)
IDENTIFIER_LIMIT = 40
_SSN_LAST4 = re.compile(r"^\d{4}$")
_EARLIEST_DOB = date(1900, 1, 1)
MAX_ALIASES = 20

Errors = list[dict[str, str]]


@dataclass
class CleanPerson:
    values: dict[str, Any]
    aliases: list[tuple[str, str, str]] = field(default_factory=list)


def parse_date(value: Any, name: str, errors: Errors) -> date | None:
    """A date from a date or an ISO text (YYYY-MM-DD); blank is None."""
    if value in (None, ""):
        return None
    if isinstance(value, date):
        parsed = value
    else:
        try:
            parsed = date.fromisoformat(str(value).strip())
        except ValueError:
            errors.append({"field": name, "reason": "not a date (use YYYY-MM-DD)"})
            return None
    if parsed < _EARLIEST_DOB or parsed > timezone.localdate():
        errors.append({"field": name, "reason": "outside 1900-01-01 to today"})
        return None
    return parsed


def _text(values: Mapping[str, Any], name: str, errors: Errors) -> str:
    value = values.get(name)
    text = "" if value is None else str(value).strip()
    if len(text) > LIMITS[name]:
        errors.append({"field": name, "reason": f"at most {LIMITS[name]} characters"})
    return text


def clean_identifiers(raw: Any, errors: Errors) -> dict[str, str]:
    if raw in (None, ""):
        return {}
    if not isinstance(raw, Mapping):
        errors.append({"field": "identifiers", "reason": "must be an object of kind: value"})
        return {}
    cleaned: dict[str, str] = {}
    for kind, value in raw.items():
        text = "" if value is None else str(value).strip()
        if not text:
            continue
        if kind not in IdentifierKind.values:
            errors.append(
                {
                    "field": f"identifiers.{kind}",
                    "reason": f"unknown identifier; one of {', '.join(IdentifierKind.values)}",
                }
            )
            continue
        if kind == IdentifierKind.SSN_LAST4 and not _SSN_LAST4.match(text):
            errors.append({"field": f"identifiers.{kind}", "reason": "exactly the last 4 digits"})
            continue
        if len(text) > IDENTIFIER_LIMIT:
            errors.append(
                {"field": f"identifiers.{kind}", "reason": f"at most {IDENTIFIER_LIMIT} characters"}
            )
            continue
        cleaned[str(kind)] = text
    return cleaned


def clean_aliases(raw: Any, errors: Errors) -> list[tuple[str, str, str]]:
    """Aliases as (first, middle, last): from a list of objects, or from CSV text
    "First Middle Last; First Last" (the last word is the surname)."""
    if raw in (None, ""):
        return []
    found: list[tuple[str, str, str]] = []
    if isinstance(raw, str):
        for chunk in raw.split(";"):
            words = chunk.split()
            if not words:
                continue
            first = words[0] if len(words) > 1 else ""
            middle = " ".join(words[1:-1]) if len(words) > 2 else ""
            found.append((first, middle, words[-1]))
    elif isinstance(raw, list):
        for i, item in enumerate(raw):
            if not isinstance(item, Mapping) or not str(item.get("last_name") or "").strip():
                errors.append({"field": f"aliases.{i}", "reason": "needs a last_name"})
                continue
            found.append(
                (
                    str(item.get("first_name") or "").strip(),
                    str(item.get("middle_name") or "").strip(),
                    str(item.get("last_name") or "").strip(),
                )
            )
    else:
        errors.append({"field": "aliases", "reason": "a list of names"})
    if len(found) > MAX_ALIASES:
        errors.append({"field": "aliases", "reason": f"at most {MAX_ALIASES} aliases"})
    for i, (first, middle, last) in enumerate(found):
        if max(len(first), len(middle), len(last)) > LIMITS["last_name"]:
            errors.append({"field": f"aliases.{i}", "reason": "a name part is too long"})
    return list(dict.fromkeys(found))


def clean_person(
    values: Mapping[str, Any], *, need_source_id: bool = True
) -> tuple[CleanPerson, Errors]:
    """The record's fields cleaned, and every reason it cannot be saved."""
    errors: Errors = []
    cleaned: dict[str, Any] = {name: _text(values, name, errors) for name in TEXT_FIELDS}
    for required in ("first_name", "last_name") + (("source_id",) if need_source_id else ()):
        if not cleaned[required]:
            errors.append({"field": required, "reason": "required"})
    cleaned["date_of_birth"] = parse_date(values.get("date_of_birth"), "date_of_birth", errors)
    sex = str(values.get("sex") or "").strip().upper()
    if sex and sex not in Sex.values:
        errors.append({"field": "sex", "reason": f"one of {', '.join(Sex.values)} or blank"})
    cleaned["sex"] = sex
    cleaned["identifiers"] = clean_identifiers(values.get("identifiers"), errors)
    aliases = clean_aliases(values.get("aliases"), errors)
    return CleanPerson(cleaned, aliases), errors


def clean_party(values: Mapping[str, Any]) -> tuple[dict[str, Any], Errors]:
    """A party to check for conflicts: a surname and at least a first initial."""
    errors: Errors = []
    cleaned: dict[str, Any] = {
        name: _text(values, name, errors) for name in ("first_name", "middle_name", "last_name")
    }
    if not cleaned["last_name"]:
        errors.append({"field": "last_name", "reason": "required"})
    if not cleaned["first_name"]:
        errors.append({"field": "first_name", "reason": "required (an initial will do)"})
    cleaned["date_of_birth"] = parse_date(values.get("date_of_birth"), "date_of_birth", errors)
    role = str(values.get("role") or "").strip().lower()
    if role and role not in PartyRole.values:
        errors.append({"field": "role", "reason": f"one of {', '.join(PartyRole.values)} or blank"})
    cleaned["role"] = role
    return cleaned, errors
