from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand

from accord.core.server import serve


class Command(BaseCommand):
    help = "Serve the web UI and API with gunicorn (production). Run `accord worker` beside it."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--bind", default=os.environ.get("ACCORD_BIND", "127.0.0.1:8000"))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("ACCORD_WEB_WORKERS", "3"))
        )
        parser.add_argument("--threads", type=int, default=4)

    def handle(self, *args: Any, **options: Any) -> None:
        serve(options["bind"], options["workers"], options["threads"], worker_thread=False)
