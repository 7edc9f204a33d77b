"""Checking case input before anything is written: one set of rules for the actions, the
API and the forms, each reason naming its field (``charges.0.statute``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accord.core.errors import InvalidInput

Errors = list[dict[str, str]]

# Court case numbers: letters, digits and the separators courts use ("2025-CF-001234",
# "CR 25/1187", "25CR00012.01").
CASE_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./:#()\-]*$")
CLIENT_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9./\-]*$")
EARLIEST = date(1900, 1, 1)


def fail(detail: str, errors: Errors) -> None:
    """Raise the 422 that names every field, if there is anything to say."""
    if errors:
        raise InvalidInput(detail, errors=errors)


def text(
    value: Any,
    name: str,
    limit: int,
    errors: Errors,
    *,
    required: bool = False,
    pattern: re.Pattern[str] | None = None,
    pattern_reason: str = "",
) -> str:
    """A one-line text, stripped; blank when not given."""
    result = "" if value is None else str(value).strip()
    if required and not result:
        errors.append({"field": name, "reason": "required"})
    elif len(result) > limit:
        errors.append({"field": name, "reason": f"at most {limit} characters"})
    elif "\n" in result or "\r" in result:
        errors.append({"field": name, "reason": "one line only"})
    elif result and pattern is not None and not pattern.match(result):
        errors.append({"field": name, "reason": pattern_reason})
    return result


def long_text(value: Any, name: str, limit: int, errors: Errors, *, required: bool = False) -> str:
    result = "" if value is None else str(value).strip()
    if required and not result:
        errors.append({"field": name, "reason": "required"})
    elif len(result) > limit:
        errors.append({"field": name, "reason": f"at most {limit} characters"})
    return result


def choice(
    value: Any, name: str, choices: Iterable[str], errors: Errors, *, required: bool = True
) -> str:
    allowed = [str(c) for c in choices]
    result = "" if value is None else str(value).strip()
    if not result:
        if required:
            errors.append({"field": name, "reason": "required"})
        return ""
    if result not in allowed:
        errors.append({"field": name, "reason": f"one of {', '.join(allowed)}"})
        return ""
    return result


def day(
    value: Any,
    name: str,
    errors: Errors,
    *,
    required: bool = False,
    not_after_today: bool = False,
) -> date | None:
    """A date from a date or an ISO text (YYYY-MM-DD)."""
    if value in (None, ""):
        if required:
            errors.append({"field": name, "reason": "required"})
        return None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        parsed = value
    else:
        try:
            parsed = date.fromisoformat(str(value).strip())
        except ValueError:
            errors.append({"field": name, "reason": "not a date (use YYYY-MM-DD)"})
            return None
    if parsed < EARLIEST or parsed.year > 2200:
        errors.append({"field": name, "reason": "not a plausible date"})
        return None
    if not_after_today and parsed > timezone.localdate():
        errors.append({"field": name, "reason": "cannot be in the future"})
        return None
    return parsed


def moment(value: Any, name: str, errors: Errors, *, required: bool = True) -> datetime | None:
    """An aware date-time from a datetime or ISO text; a time without a zone is local."""
    if value in (None, ""):
        if required:
            errors.append({"field": name, "reason": "required"})
        return None
    parsed: datetime | None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time(9, 0))
    else:
        try:
            parsed = parse_datetime(str(value).strip())
        except ValueError:
            parsed = None
    if parsed is None:
        errors.append({"field": name, "reason": "not a date and time (YYYY-MM-DDTHH:MM)"})
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    if parsed.year < 1990 or parsed.year > 2200:
        errors.append({"field": name, "reason": "not a plausible date"})
        return None
    return parsed


def whole(
    value: Any, name: str, errors: Errors, *, low: int, high: int, default: int | None = None
) -> int | None:
    if value in (None, ""):
        if default is None:
            errors.append({"field": name, "reason": "required"})
        return default
    if isinstance(value, bool):
        errors.append({"field": name, "reason": "a whole number"})
        return default
    try:
        number = int(str(value).strip())
    except ValueError:
        errors.append({"field": name, "reason": "a whole number"})
        return default
    if not low <= number <= high:
        errors.append({"field": name, "reason": f"between {low} and {high}"})
        return default
    return number


def money(value: Any, name: str, errors: Errors) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).strip().replace(",", "").lstrip("$"))
    except InvalidOperation:
        errors.append({"field": name, "reason": "an amount of money, e.g. 2500.00"})
        return None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("10000000000"):
        errors.append({"field": name, "reason": "an amount from 0 to 9,999,999,999.99"})
        return None
    return amount.quantize(Decimal("0.01"))


def prefixed(prefix: str, errors: Errors) -> Errors:
    """``errors`` of one item of a list, named under it (``charges.0.statute``)."""
    return [{"field": f"{prefix}.{e['field']}", "reason": e["reason"]} for e in errors]


def unknown_fields(values: Mapping[str, Any], allowed: Iterable[str], prefix: str = "") -> Errors:
    known = set(allowed)
    return [
        {"field": f"{prefix}{name}", "reason": "unknown field"}
        for name in sorted(values)
        if name not in known
    ]
