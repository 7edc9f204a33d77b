"""A task worker on a thread, for ``accord run`` (one process serves the web and works)."""

from __future__ import annotations

import logging
import threading
import uuid

from django.db import close_old_connections

logger = logging.getLogger("accord.worker")


class WorkerThread(threading.Thread):
    def __init__(self, interval: float = 0.5) -> None:
        super().__init__(name="accord-worker", daemon=True)
        from django_tasks_db.management.commands.db_worker import Worker

        self.worker = Worker(
            queue_names=["*"],
            interval=interval,
            batch=False,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=f"thread-{uuid.uuid4().hex[:8]}",
            excluded_queue_names=[],
        )

    def run(self) -> None:
        from accord.core.schedule import SchedulerThread

        self.scheduler = SchedulerThread()
        self.scheduler.start()
        logger.info("background worker started")
        try:
            self.worker.run()
        finally:
            close_old_connections()

    def stop(self) -> None:
        self.worker.running = False
        if hasattr(self, "scheduler"):
            self.scheduler.stop()
