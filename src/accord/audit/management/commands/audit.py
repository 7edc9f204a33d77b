from __future__ import annotations

import getpass
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accord.audit import actions
from accord.core.actors import Actor


def _operator() -> Actor:
    """The person at the console, as far as the operating system says (recorded, not trusted)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Actor(label=f"cli:{user}"[:150], is_system=True)


class Command(BaseCommand):
    help = "Verify the audit log's hash chain, or sign a checkpoint of its head."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("verify", help="Exit 0 if the log is intact; name the first bad event.")
        sub.add_parser("checkpoint", help="Sign the current head with ACCORD_AUDIT_SIGNING_KEY.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "checkpoint":
            try:
                checkpoint = actions.sign_checkpoint(actor=_operator())
            except RuntimeError as exc:
                raise CommandError(str(exc)) from exc
            if checkpoint is None:
                self.stdout.write("Nothing new to sign.")
            else:
                self.stdout.write(f"Signed checkpoint at event #{checkpoint.seq}.")
            return
        started = time.perf_counter()
        result = actions.verify_chain(actor=_operator(), via="cli")
        elapsed = time.perf_counter() - started
        if result.ok:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Audit log intact: {result.checked} events verified in {elapsed:.1f} s."
                )
            )
            return
        self.stderr.write(
            f"Audit log TAMPERED: first bad event #{result.first_bad_seq}: {result.reason} "
            f"({result.checked} events before it verified)."
        )
        sys.exit(1)
