"""``accord agreements upkeep``: run the daily agreement upkeep now (for cron or a timer);
``--enqueue`` hands it to the task worker instead."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Agreement upkeep: statuses by date, review and expiry reminders."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["upkeep"])
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="queue it for the worker instead of running it here",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from accord.agreements.tasks import agreement_upkeep

        if options["enqueue"]:
            result = agreement_upkeep.enqueue()
            self.stdout.write(f"queued as task {result.id}")
            return
        counts = agreement_upkeep.call()
        self.stdout.write(
            f"{counts['versions_changed']} version(s) changed status, "
            f"{counts['reminders_sent']} reminder(s) sent"
        )
