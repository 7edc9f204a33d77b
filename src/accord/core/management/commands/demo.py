from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accord.core.actors import SYSTEM
from accord.demo.accounts import sign_in_help


class Command(BaseCommand):
    help = "Seed the synthetic demo county (demo mode only; does nothing if it is there)."

    def handle(self, *args: Any, **options: Any) -> None:
        from django.conf import settings

        from accord.demo.seed import seed_demo_county

        if settings.PRODUCTION:
            raise CommandError("The demo county is never seeded in production mode.")
        counts = seed_demo_county(actor=SYSTEM)
        if counts["agencies"]:
            self.stdout.write(
                f"Seeded the demo county: {counts['agencies']} agencies, {counts['staff']} staff."
            )
        else:
            self.stdout.write("The demo county is already there.")
        if options["verbosity"] > 0:
            self.stdout.write(sign_in_help())
