# ruff: noqa: N999 - the command is "accord import events"; "import" is its name
"""``accord import events FILE --as USERNAME``: a bulk feed of events (CSV or JSON lines) for
the named staff member's agency; prints a report with every rejected line and its reason.
Re-running the same file is safe (idempotency keys)."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accord.accounts.identity import actor_for_username
from accord.directory.models import Agency
from accord.exchange.importer import import_events, rows_of


class Command(BaseCommand):
    help = "Import a bulk feed: accord import events FILE --as USERNAME [--format csv|jsonl]"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["events"])
        parser.add_argument("file", type=Path)
        parser.add_argument("--as", dest="username", required=True, help="the sending staff member")
        parser.add_argument("--format", choices=["csv", "jsonl"], default=None)
        parser.add_argument("--report", type=Path, help="write rejected rows here as CSV")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.exists():
            raise CommandError(f"No file {path}.")
        fmt = options["format"] or ("jsonl" if path.suffix in (".jsonl", ".ndjson") else "csv")
        actor = actor_for_username(options["username"])
        if actor.agency_id is None:
            raise CommandError("That user works for no agency.")
        agency = Agency.objects.get(pk=actor.agency_id)
        with path.open(newline="", encoding="utf-8") as handle:
            report = import_events(rows_of(handle, fmt), agency, actor=actor)
        for rejected in report.rejected:
            self.stderr.write(f"line {rejected.line}: {rejected.reason}")
        if options["report"]:
            with options["report"].open("w", newline="", encoding="utf-8") as out:
                writer = csv.writer(out)
                writer.writerow(["line", "reason"])
                writer.writerows((r.line, r.reason) for r in report.rejected)
        self.stdout.write(report.summary)
        if report.rejected and not report.created and not report.duplicates:
            sys.exit(1)
