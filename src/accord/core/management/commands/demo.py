from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accord.core.actors import SYSTEM
from accord.demo.accounts import sign_in_help


class Command(BaseCommand):
    help = (
        "Seed the synthetic demo county (demo mode only; does nothing if it is there). "
        "`accord demo simulate` then plays jail, court and probation events against it."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("what", nargs="?", choices=["seed", "simulate"], default="seed")
        parser.add_argument("--count", type=int, default=50, help="simulate: how many events")
        parser.add_argument("--interval", type=float, default=2.0, help="simulate: seconds apart")

    def handle(self, *args: Any, **options: Any) -> None:
        from django.conf import settings
        from django.core.management import call_command

        from accord.demo.seed import seed_demo_county

        if settings.PRODUCTION:
            raise CommandError("The demo county is never seeded in production mode.")
        if options["what"] == "simulate":
            call_command(
                "exchange", "simulate", count=options["count"], interval=options["interval"]
            )
            return
        counts = seed_demo_county(actor=SYSTEM)
        if counts["agencies"]:
            self.stdout.write(
                f"Seeded the demo county: {counts['agencies']} agencies, {counts['staff']} staff."
            )
        else:
            self.stdout.write("The demo county is already there.")
        if options["verbosity"] > 0:
            self.stdout.write(sign_in_help())
