from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the background worker (deliveries, e-mail) until stopped."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", type=float, default=0.5)
        parser.add_argument("--batch", action="store_true", help="Exit when the queue is empty.")
        parser.add_argument(
            "--no-schedule",
            action="store_true",
            help="Do not enqueue periodic jobs from this worker (another one does).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        extra = ["--batch"] if options["batch"] else []
        if not options["batch"] and not options["no_schedule"]:
            from accord.core.schedule import SchedulerThread

            SchedulerThread().start()
        call_command(
            "db_worker", "--interval", str(options["interval"]), "--queue-name", "*", *extra
        )
