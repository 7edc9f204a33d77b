"""``accord people``: resolve a CSV of person records without touching the database, import
records in bulk, link pending records, train the matching model."""

from __future__ import annotations

import getpass
import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accord.core.actors import Actor
from accord.core.errors import AccordError

BATCH_SIZE = 1000


def operator(username: str | None) -> Actor:
    """A named person (``--as``), or the person at the console acting as the system (the
    operating system's user name is recorded, not trusted)."""
    if username:
        from accord.accounts.identity import actor_for_username
        from accord.accounts.models import User

        try:
            return actor_for_username(username)
        except User.DoesNotExist as exc:
            raise CommandError(f"No user {username}.") from exc
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Actor(label=f"cli:{user}"[:150], is_system=True)


def agency_named(name: str) -> Any:
    from accord.directory.models import Agency

    agency = Agency.objects.filter(short_name__iexact=name).first()
    if agency is None and name.isdigit():
        agency = Agency.objects.filter(pk=int(name)).first()
    if agency is None:
        raise CommandError(f"No agency with the short name {name}.")
    return agency


def refused(exc: AccordError) -> CommandError:
    details = "; ".join(f"{e['field']}: {e['reason']}" for e in exc.errors)
    return CommandError(f"{exc.detail} {details}".strip())


class Command(BaseCommand):
    # Checks import every URL and app; a file-to-file resolve should not wait on them.
    requires_system_checks: list[str] = []
    help = "Person records: resolve a CSV (no database writes), import, link, train the model."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        resolve = sub.add_parser(
            "resolve", help="Link a CSV of person records into persons; writes only --output."
        )
        resolve.add_argument("--input", required=True, help="records CSV (docs/people.md)")
        resolve.add_argument("--output", required=True, help="links CSV to write")
        resolve.add_argument("--threshold", type=float, default=None)
        importer = sub.add_parser("import", help="Load person records of one agency in bulk.")
        importer.add_argument("file")
        importer.add_argument("--source", required=True, help="the agency's short name")
        importer.add_argument("--batch-size", type=int, default=BATCH_SIZE)
        importer.add_argument("--as", dest="as_user", default=None)
        importer.add_argument(
            "--link",
            choices=("later", "now", "no"),
            default="later",
            help="link the new records now, in the background (default), or not at all",
        )
        link = sub.add_parser("link", help="Link records that have no person yet.")
        link.add_argument("--source", default=None)
        link.add_argument("--limit", type=int, default=5000)
        train = sub.add_parser("train", help="Train the matching model on the database's records.")
        train.add_argument(
            "--synthetic",
            type=int,
            default=0,
            help="train on this many synthetic records instead, and write --output (no database)",
        )
        train.add_argument("--output", default=None, help="with --synthetic: the model JSON file")

    def handle(self, *args: Any, **options: Any) -> None:
        handler = getattr(self, f"_{options['subcommand']}")
        try:
            handler(options)
        except AccordError as exc:
            raise refused(exc) from exc

    def _resolve(self, options: dict[str, Any]) -> None:
        from accord.people import resolution
        from accord.people.csvio import read_records_frame

        started = time.perf_counter()
        try:
            frame, errors = read_records_frame(options["input"])
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read {options['input']}: {exc}") from exc
        for error in errors:
            self.stderr.write(str(error))
        if frame.empty:
            raise CommandError("No usable records.")
        threshold = options["threshold"] or resolution.CLUSTER_THRESHOLD
        records, persons = resolution.resolve_to_csv(frame, options["output"], threshold=threshold)
        self.stdout.write(
            f"{records:,} records resolved into {persons:,} persons in "
            f"{time.perf_counter() - started:.1f} s ({len(errors)} bad rows skipped); "
            f"links written to {options['output']}."
        )

    def _import(self, options: dict[str, Any]) -> None:
        from django.db import transaction

        from accord.people import actions
        from accord.people.csvio import read_records
        from accord.people.tasks import link_pending_records

        actor = operator(options["as_user"])
        agency = agency_named(options["source"])
        path = Path(options["file"])
        try:
            with path.open(encoding="utf-8-sig", newline="") as stream:
                parsed = read_records(stream)
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        for error in parsed.errors:
            self.stderr.write(str(error))
        wrong_source = [
            (line, clean)
            for line, clean in parsed.rows
            if clean.values.get("source")
            and clean.values["source"].lower() != agency.short_name.lower()
        ]
        for line, clean in wrong_source:
            self.stderr.write(
                f"line {line}: source: {clean.values['source']} is not {agency.short_name}"
            )
        rows = [r for r in parsed.rows if r not in wrong_source]
        created = updated = unchanged = 0
        size = max(1, options["batch_size"])
        for start in range(0, len(rows), size):
            batch = rows[start : start + size]
            # Each batch is one transaction: a failure leaves no half-written batch behind.
            result = actions.import_people_batch(agency, batch, actor=actor, source_name=path.name)
            created, updated = created + result.created, updated + result.updated
            unchanged += result.unchanged
        bad = parsed.bad_lines + len(wrong_source)
        if options["link"] == "now":
            summary = actions.link_pending(actor=actor, agency=agency, limit=len(rows) or 1)
            linked = f"; linked now: {summary.linked} to known persons, {summary.new_persons} new"
        elif options["link"] == "later" and (created or updated):
            transaction.on_commit(lambda: link_pending_records.enqueue(agency.pk))
            linked = "; linking queued"
        else:
            linked = ""
        self.stdout.write(
            f"{created} created, {updated} updated, {unchanged} unchanged, {bad} bad rows "
            f"(reported above){linked}."
        )
        if bad:
            sys.exit(1 if not rows else 0)

    def _link(self, options: dict[str, Any]) -> None:
        from accord.people import actions

        agency = agency_named(options["source"]) if options["source"] else None
        summary = actions.link_pending(actor=operator(None), agency=agency, limit=options["limit"])
        self.stdout.write(
            f"{summary.linked} linked to known persons, {summary.new_persons} new persons, "
            f"{summary.reviews} sent for review."
        )

    def _train(self, options: dict[str, Any]) -> None:
        from accord.people import actions

        if options["synthetic"]:
            # How Accord's shipped default_model.json is made (docs/people.md).
            import json

            from accord.people.resolution import train_model
            from accord.people.synthetic import Synthesizer

            if not options["output"]:
                raise CommandError("--synthetic needs --output.")
            rows = Synthesizer(seed=2024).agency_records(options["synthetic"])
            for row in rows:
                row["unique_id"] = f"{row['source']}:{row['source_id']}"
            trained = train_model(rows)
            Path(options["output"]).write_text(json.dumps(trained, indent=1) + "\n", "utf-8")
            self.stdout.write(
                f"Model trained on {len(rows)} synthetic records: {options['output']}"
            )
            return

        model = actions.train_linkage_model(actor=operator(None))
        self.stdout.write(f"Model #{model.pk} trained on {model.record_count} records.")
