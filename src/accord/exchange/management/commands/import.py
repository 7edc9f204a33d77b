# ruff: noqa: N999 - the command is "accord import events"; "import" is its name
"""``accord import events FILE --as USERNAME``: a bulk feed of events (CSV, JSON lines or
NIEM XML) for the named staff member's agency, a chunk of rows per transaction; prints a
report with every rejected line and its reason. Re-running the same file is safe
(idempotency keys)."""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from accord.accounts.identity import actor_for_username
from accord.directory.models import Agency
from accord.exchange.importer import (
    CHUNK_SIZE,
    FORMAT_BY_SUFFIX,
    READERS,
    FeedStopped,
    Report,
    import_events,
    rows_of,
    server_advice,
    shared_buffers,
)
from accord.people.bulk_linkage import LinkageIndex

MAX_CHUNK_SIZE = 20_000


class Command(BaseCommand):
    help = "Import a bulk feed: accord import events FILE --as USERNAME [--format csv|jsonl|xml]"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", choices=["events"])
        parser.add_argument("file", type=Path)
        parser.add_argument("--as", dest="username", required=True, help="the sending staff member")
        parser.add_argument("--format", choices=sorted(READERS), default=None)
        parser.add_argument("--report", type=Path, help="write rejected rows here as CSV")
        parser.add_argument(
            "--chunk-size", type=int, default=CHUNK_SIZE, help="rows per transaction"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not 1 <= options["chunk_size"] <= MAX_CHUNK_SIZE:
            # A chunk's keys and ids go into IN (...) lists: SQLite takes 32,766 parameters.
            raise CommandError(f"--chunk-size: 1 to {MAX_CHUNK_SIZE:,} rows.")
        if not path.exists():
            raise CommandError(f"No file {path}.")
        fmt = options["format"] or FORMAT_BY_SUFFIX.get(path.suffix.lower(), "csv")
        actor = actor_for_username(options["username"])
        if actor.agency_id is None:
            raise CommandError("That user works for no agency.")
        agency = Agency.objects.get(pk=actor.agency_id)
        verbose = options["verbosity"] > 1

        started = time.monotonic()

        def progress(report: Report) -> None:
            if verbose:
                took = time.monotonic() - started
                self.stdout.write(f"... {report.summary} ({took:.1f} s)")

        advice = server_advice(shared_buffers())
        if advice:
            self.stderr.write(advice)
        if connection.vendor == "sqlite":
            # A bulk load touches index pages all over a large file: a 256 MB page cache
            # for this connection (the default is 2 MB) keeps them in memory.
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA cache_size = -262144")
        # Every person record in memory, so each chunk's subjects are linked in one pass.
        index = LinkageIndex()
        with path.open(newline="", encoding="utf-8") as handle:
            try:
                report = import_events(
                    rows_of(handle, fmt),
                    agency,
                    actor=actor,
                    chunk_size=options["chunk_size"],
                    index=index,
                    progress=progress,
                )
            except FeedStopped as stopped:
                self._write_report(stopped.report, options["report"])
                self.stdout.write(stopped.report.summary)
                raise CommandError(
                    f"{stopped}. The rows before line {stopped.first_line} were saved; "
                    "fix the cause and run the same file again (rows already taken are skipped)."
                ) from stopped
        self._write_report(report, options["report"])
        self.stdout.write(report.summary)
        if report.rejected and not report.created and not report.duplicates:
            sys.exit(1)

    def _write_report(self, report: Report, target: Path | None) -> None:
        for rejected in report.rejected:
            self.stderr.write(f"line {rejected.line}: {rejected.reason}")
        if target:
            with target.open("w", newline="", encoding="utf-8") as out:
                writer = csv.writer(out)
                writer.writerow(["line", "reason"])
                writer.writerows((r.line, r.reason) for r in report.rejected)
