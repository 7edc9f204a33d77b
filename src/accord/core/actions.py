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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from django.db import models, transaction

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
