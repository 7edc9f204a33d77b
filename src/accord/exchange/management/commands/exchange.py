"""``accord exchange simulate [--count N] [--interval S] [--seed N]``: play a stream of jail
and court events against the demo county (run ``accord run`` alongside to see them arrive)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accord.exchange.simulate import simulate


class Command(BaseCommand):
    help = "Exchange tools: simulate a live stream of agency events (demo and test modes)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["simulate"])
        parser.add_argument("--count", type=int, default=50)
        parser.add_argument("--interval", type=float, default=2.0)
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("The simulator never runs in production mode.")
        taken = simulate(
            options["count"], options["interval"], options["seed"], say=self.stdout.write
        )
        self.stdout.write(f"{taken} events posted.")
