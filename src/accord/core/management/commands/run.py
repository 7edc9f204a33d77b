from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from accord.core.server import serve


class Command(BaseCommand):
    help = (
        "Set up and serve Accord in one process with a background worker thread: migrate, "
        "seed the demo county on first run, then serve."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--bind", default=os.environ.get("ACCORD_BIND", "127.0.0.1:8000"))
        parser.add_argument("--no-demo", action="store_true", help="Do not seed the demo county.")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        from accord.directory.models import Agency

        if settings.DEMO and not options["no_demo"] and not Agency.objects.exists():
            self.stdout.write("First run: seeding the demo county (takes a few seconds)…")
            call_command("demo", verbosity=0)
        host, _, port = options["bind"].rpartition(":")
        self.stdout.write(self.style.SUCCESS(f"\nAccord is at http://{host}:{port}/"))
        if settings.DEMO:
            from accord.demo.accounts import sign_in_help

            self.stdout.write(sign_in_help())
        self.stdout.write("Press Ctrl+C to stop.\n")
        serve(options["bind"], 1, 8, worker_thread=True)
