"""``accord conflicts check``: check a party list (CSV) against everyone an agency knows and
write the ranked hits (CSV). The check is recorded and audited like one run from the UI."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accord.core.errors import AccordError
from accord.people.management.commands.people import agency_named, operator, refused


class Command(BaseCommand):
    # Checks import every URL and app; a file-to-file resolve should not wait on them.
    requires_system_checks: list[str] = []
    help = "Conflict checks: check a CSV of parties and write the hits as CSV."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        check = sub.add_parser("check", help="Check parties.csv; write hits.csv.")
        check.add_argument("--input", required=True, help="parties CSV (docs/people.md)")
        check.add_argument("--output", required=True, help="hits CSV to write ('-': stdout)")
        check.add_argument(
            "--agency", required=True, help="short name of the agency whose people are checked"
        )
        check.add_argument("--reference", default="", help="the matter checked, e.g. a case number")
        check.add_argument(
            "--as", dest="as_user", default=None, help="username of the person checking"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from accord.people.actions import check_conflicts
        from accord.people.csvio import HIT_COLUMNS, hit_rows, read_parties, write_rows
        from accord.people.models import CheckSource

        actor = operator(options["as_user"])
        agency = agency_named(options["agency"])
        path = Path(options["input"])
        try:
            with path.open(encoding="utf-8-sig", newline="") as stream:
                parsed = read_parties(stream)
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        for error in parsed.errors:
            self.stderr.write(str(error))
        if not parsed.rows:
            raise CommandError("No party to check (every row was refused, or the file is empty).")
        try:
            check = check_conflicts(
                agency,
                [party for _line, party in parsed.rows],
                rows=[line for line, _party in parsed.rows],
                actor=actor,
                reference=options["reference"],
                source=CheckSource.COMMAND,
            )
        except AccordError as exc:
            raise refused(exc) from exc
        if options["output"] == "-":
            write_rows(self.stdout, HIT_COLUMNS, hit_rows(check))  # type: ignore[arg-type]
        else:
            try:
                with Path(options["output"]).open("w", encoding="utf-8", newline="") as out:
                    write_rows(out, HIT_COLUMNS, hit_rows(check))
            except OSError as exc:
                raise CommandError(f"Cannot write {options['output']}: {exc}") from exc
            self.stdout.write(
                f"Conflict check #{check.pk}: {check.candidate_count} parties, {check.hit_count} "
                f"hits ({parsed.bad_lines} rows refused); written to {options['output']}."
            )
        if parsed.bad_lines:
            sys.exit(1)
