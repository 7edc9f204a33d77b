"""The actions layer: every state change of a protected model goes through an action.

An action is a function in an app's ``actions.py`` decorated with :func:`action`. It runs
in one database transaction, takes a keyword-only ``actor``, validates, writes, appends
the audit event and enqueues side effects inside that same transaction (Zulip's
``zerver/actions``). Protected models refuse ``save()``, ``delete()``, ``update()`` and
``bulk_create()`` outside an action, so a view or importer that forgets the rule fails
loudly in development and in the test suite rather than writing unaudited state.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any, ParamSpec, TypeVar

from django.db import connection, models, transaction
from django.utils import timezone

P = ParamSpec("P")
R = TypeVar("R")

_action_depth: contextvars.ContextVar[int] = contextvars.ContextVar("accord_action", default=0)


class UnprotectedWrite(RuntimeError):
    """A protected model was written outside an action."""


def in_action() -> bool:
    return _action_depth.get() > 0


@contextmanager
def _inside() -> Iterator[None]:
    token = _action_depth.set(_action_depth.get() + 1)
    try:
        yield
    finally:
        _action_depth.reset(token)


def action(func: Callable[P, R]) -> Callable[P, R]:
    """Mark ``func`` as an action: atomic, and allowed to write protected models."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if "actor" not in kwargs:
            raise TypeError(f"{func.__qualname__}() needs the keyword argument actor=")
        with _inside(), transaction.atomic():
            return func(*args, **kwargs)

    wrapper.is_action = True  # type: ignore[attr-defined]
    return wrapper


def _check(model: type[models.Model], what: str) -> None:
    if not in_action():
        raise UnprotectedWrite(
            f"{model._meta.label}.{what}() outside an action: call the function in "
            f"{model._meta.app_label}/actions.py that makes this change."
        )


class ProtectedQuerySet(models.QuerySet[Any]):
    def update(self, **kwargs: Any) -> int:
        _check(self.model, "update")
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        _check(self.model, "delete")
        return super().delete()

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[Any]:
        _check(self.model, "bulk_create")
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs: Any, *args: Any, **kwargs: Any) -> int:
        _check(self.model, "bulk_update")
        return super().bulk_update(objs, *args, **kwargs)


class ProtectedModel(models.Model):
    """A model whose rows only actions may write."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        _check(type(self), "save")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        _check(type(self), "delete")
        return super().delete(*args, **kwargs)


INSERT_BATCH = 1000


def _as_is(value: Any) -> Any:
    return value


def _constant(value: Any) -> Callable[[Any], Any]:
    return lambda _ignored: value


def _adapter(field: models.Field[Any, Any]) -> Callable[[Any], Any]:
    """How a value of ``field`` goes to the driver: the backend's adaptation for JSON, dates
    and times, the value itself for text and numbers, the field's own preparation else."""
    ops = connection.ops
    if isinstance(field, models.JSONField):
        return partial(ops.adapt_json_value, encoder=field.encoder)
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(
        field,
        models.CharField
        | models.TextField
        | models.IntegerField
        | models.FloatField
        | models.BooleanField
        | models.ForeignKey,
    ):
        return _as_is
    return partial(field.get_db_prep_save, connection=connection)


def insert_many(objs: Sequence[models.Model]) -> None:
    """Insert new instances of one protected model with one multi-row ``INSERT … RETURNING
    id`` per thousand (on PostgreSQL, ids from the sequence and one ``COPY``) and set their
    ids: what ``bulk_create`` does, without its per-value preparation, which costs more
    than the database's work for plain rows (a bulk feed writes millions). Values come
    from the instances (defaults applied, ``auto_now`` and ``auto_now_add`` set here), so
    a new field is not forgotten. Actions only."""
    if not objs:
        return
    model = type(objs[0])
    _check(model, "bulk_create")
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    adapters = [_adapter(f) for f in fields]
    now = timezone.now()
    stamped = [
        f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    for obj in objs:
        for stamp in stamped:
            setattr(obj, stamp.attname, now)
    for i, f in enumerate(fields):
        if f in stamped:  # the same moment in every row: adapted once
            adapters[i] = _constant(adapters[i](now))
    quote = connection.ops.quote_name
    pairs = list(zip([f.attname for f in fields], adapters, strict=True))
    if connection.vendor == "postgresql":
        _copy_many(objs, fields, pairs)
        return
    columns = ", ".join(quote(f.column) for f in fields)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    for start in range(0, len(objs), INSERT_BATCH):
        batch = objs[start : start + INSERT_BATCH]
        params = [adapt(getattr(obj, name)) for obj in batch for name, adapt in pairs]
        sql = (
            f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608 - the model's names
            f"VALUES {', '.join([one] * len(batch))} RETURNING {quote(meta.pk.column)}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            ids = [row[0] for row in cursor.fetchall()]
        if len(ids) != len(batch):
            raise RuntimeError(f"The database did not return the new {meta.verbose_name}s' ids.")
        _saved(batch, ids)


def _saved(objs: Sequence[models.Model], ids: Sequence[Any]) -> None:
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias


def _copy_many(
    objs: Sequence[models.Model],
    fields: Sequence[models.Field[Any, Any]],
    pairs: Sequence[tuple[str, Callable[[Any], Any]]],
) -> None:
    """PostgreSQL: take the ids from the table's sequence first, then write the rows, ids
    included, with one ``COPY``: psycopg's C dumpers adapt the values, and no statement of
    thousands of placeholders is built and parsed (which cost more than the server's work)."""
    meta = type(objs[0])._meta
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(objs)],
        )
        ids = [row[0] for row in cursor.fetchall()]
    if len(ids) != len(objs):
        raise RuntimeError(f"The database did not give ids for the new {meta.verbose_name}s.")
    copy_rows(
        type(objs[0]),
        [meta.pk.column, *(f.column for f in fields)],
        (
            (pk, *(adapt(getattr(obj, name)) for name, adapt in pairs))
            for pk, obj in zip(ids, objs, strict=True)
        ),
    )
    _saved(objs, ids)


def copy_rows(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """PostgreSQL only: write plain rows (values as the driver takes them) into the model's
    table with one ``COPY … FROM STDIN``, the fastest way in for a bulk feed's millions of
    rows. Constraints and triggers apply as to an ``INSERT``. A protected model's rows:
    actions only."""
    if issubclass(model, ProtectedModel):
        _check(model, "bulk_create")
    if connection.vendor != "postgresql":
        raise RuntimeError("copy_rows is for PostgreSQL; use a multi-row INSERT elsewhere.")
    quote = connection.ops.quote_name
    sql = f"COPY {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
