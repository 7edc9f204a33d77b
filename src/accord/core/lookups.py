"""``field__in=[…]`` on PostgreSQL: a long list of plain values goes to the server as one
array (``= ANY(%s)``) instead of one placeholder a value.

Bulk feeds look up tens of thousands of ids and keys at a time. With a placeholder a value,
Django prepares each value and psycopg parses the statement's placeholders in Python
(client-side binding), which cost more than the query itself; an array is one value,
dumped in C. The rows found are the same. Short lists, other databases, subqueries and
other field types keep Django's ``IN (…)``."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models.fields.related import ForeignObject
from django.db.models.fields.related_lookups import RelatedIn
from django.db.models.lookups import In

# From this many values on, an array: below it the statement is short anyway.
ARRAY_FROM = 64
_PLAIN = (models.IntegerField, models.CharField, models.TextField)


def _plain(field: Any) -> bool:
    """Integer and text fields (and keys to them), whose values go to the driver as they are."""
    target = getattr(field, "target_field", None) or field
    return isinstance(target, _PLAIN)


class _ArrayIn:
    _as_array = False

    def process_rhs(self, compiler: Any, connection: Any) -> tuple[str, Any]:
        lookup: Any = self
        if (
            connection.vendor == "postgresql"
            and lookup.rhs_is_direct_value()
            and _plain(lookup.lhs.output_field)
        ):
            try:
                values = [v for v in dict.fromkeys(lookup.rhs) if v is not None]
            except TypeError:  # unhashable values: Django's way
                values = []
            if len(values) >= ARRAY_FROM:
                self._as_array = True
                return "%s", [values]
        result: tuple[str, Any] = super().process_rhs(compiler, connection)  # type: ignore[misc]
        return result

    def get_rhs_op(self, connection: Any, rhs: str) -> str:
        if self._as_array:
            return f"= ANY({rhs})"
        op: str = super().get_rhs_op(connection, rhs)  # type: ignore[misc]
        return op


class ArrayIn(_ArrayIn, In[Any]):
    pass


class RelatedArrayIn(_ArrayIn, RelatedIn):
    pass


def register() -> None:
    """Replace ``in`` for every field (and for foreign keys, which have their own)."""
    models.Field.register_lookup(ArrayIn)
    ForeignObject.register_lookup(RelatedArrayIn)
