"""Periodic jobs: tasks that must run every so often (daily agreement upkeep, hourly audit
checkpoints). Apps register them from their ``tasks.py``; every worker runs a scheduler
thread that enqueues the due ones, and the database row lock makes that safe with many
workers. The tasks themselves run in the ordinary task queue, with its retries."""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from django.apps import apps

logger = logging.getLogger("accord.schedule")


@dataclass(frozen=True)
class Periodic:
    name: str
    every: timedelta
    task: Any  # a django-tasks Task


PERIODIC: dict[str, Periodic] = {}


T = TypeVar("T")


def every(interval: timedelta, name: str | None = None) -> Callable[[T], T]:
    """Decorator for a task: enqueue it once per ``interval``."""

    def register(task: T) -> T:
        func = task.func  # type: ignore[attr-defined]
        key = name or f"{func.__module__}.{func.__name__}"
        PERIODIC[key] = Periodic(key, interval, task)
        return task

    return register


def discover() -> dict[str, Periodic]:
    for config in apps.get_app_configs():
        if config.name.startswith("accord."):
            try:
                importlib.import_module(f"{config.name}.tasks")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.tasks":
                    raise
    return PERIODIC


class SchedulerThread(threading.Thread):
    """Checks once a minute which periodic jobs are due and enqueues them."""

    def __init__(self, interval: float = 60.0) -> None:
        super().__init__(name="accord-scheduler", daemon=True)
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        from django.db import close_old_connections

        from accord.core.actors import SYSTEM
        from accord.core.schedule.actions import enqueue_due_jobs

        discover()
        while not self.stopped.is_set():
            try:
                enqueue_due_jobs(actor=SYSTEM)
            except Exception:  # keep scheduling: one bad job must not stop the others
                logger.exception("periodic jobs could not be enqueued")
            finally:
                close_old_connections()
            self.stopped.wait(self.interval)

    def stop(self) -> None:
        self.stopped.set()
