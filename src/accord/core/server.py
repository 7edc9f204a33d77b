"""Serving Accord with gunicorn, for ``accord run`` (one process with a worker thread) and
``accord web`` (several processes; run ``accord worker`` beside them)."""

from __future__ import annotations

from typing import Any

from django.db import connections
from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]


class AccordServer(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any], *, worker_thread: bool = False) -> None:
        self.options = options
        self.worker_thread = worker_thread
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)
        if self.worker_thread:
            self.cfg.set("post_worker_init", _start_worker_thread)

    def load(self) -> Any:
        from accord.wsgi import application

        return application


def _start_worker_thread(worker: Any) -> None:
    from accord.core.worker import WorkerThread

    WorkerThread().start()


def serve(bind: str, workers: int, threads: int, *, worker_thread: bool) -> None:
    connections.close_all()  # never hand a database connection across fork()
    AccordServer(
        {
            "bind": bind,
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "accesslog": "-",
            "timeout": 60,
            "graceful_timeout": 10,
        },
        worker_thread=worker_thread,
    ).run()
