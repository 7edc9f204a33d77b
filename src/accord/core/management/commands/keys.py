from __future__ import annotations

import importlib
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand

from accord.core import crypto
from accord.core.actors import SYSTEM


class Command(BaseCommand):
    help = "Field-encryption keys: print a new key, or re-seal stored values under the current key."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        new = sub.add_parser("new", help="Print a new id:key entry for ACCORD_FIELD_KEYS.")
        new.add_argument("--id", default=None, help="Key id (default: k<timestamp>).")
        sub.add_parser("rotate", help="Re-encrypt every stored value with the first (current) key.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "new":
            from django.utils import timezone

            key_id = options["id"] or f"k{timezone.now():%Y%m%d}"
            self.stdout.write(crypto.new_key_entry(key_id))
            self.stdout.write(
                "Put it first in ACCORD_FIELD_KEYS (keep the old entries after it), restart, "
                "then run `accord keys rotate`."
            )
            return
        for config in apps.get_app_configs():
            if config.name.startswith("accord."):
                try:
                    importlib.import_module(f"{config.name}.actions")
                except ModuleNotFoundError:
                    continue
        total = 0
        for rotate in crypto.ROTATIONS:
            count = rotate(actor=SYSTEM)
            self.stdout.write(f"{rotate.__module__}.{rotate.__name__}: {count} re-sealed")
            total += count
        current, _ = crypto.keyring()
        self.stdout.write(self.style.SUCCESS(f"{total} values now sealed under key {current}."))
