"""Sets of stable codes stored as one text column: ``",custody,court_events,"``.

Both SQLite and PostgreSQL can filter these with ``LIKE '%,code,%'``; JSON list lookups
cannot be used portably on SQLite, and the access rules must run as SQL on both.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q


def encode(codes: Iterable[str]) -> str:
    """Sorted, de-duplicated, comma-wrapped; empty for no codes."""
    unique = sorted({str(c).strip() for c in codes if str(c).strip()})
    return f",{','.join(unique)}," if unique else ""


def decode(text: str | None) -> list[str]:
    return [part for part in (text or "").split(",") if part]


def has(field: str, code: str) -> Q:
    """Rows whose code set in ``field`` contains ``code``."""
    return Q(**{f"{field}__contains": f",{code},"})
