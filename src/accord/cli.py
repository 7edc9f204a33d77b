"""The ``accord`` command: Accord's own commands plus every Django management command.

``accord run`` and ``accord demo`` default to demo mode (SQLite under ./var, demo county);
``accord web`` and ``accord worker`` default to production mode, which refuses to start
without its secrets. ``ACCORD_MODE`` set in the environment always wins.
"""

from __future__ import annotations

import os
import sys

MODE_DEFAULTS = {"run": "demo", "demo": "demo", "web": "production"}


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    command = args[0] if args else "help"
    if command in MODE_DEFAULTS:
        os.environ.setdefault("ACCORD_MODE", MODE_DEFAULTS[command])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.settings")
    from django.core.exceptions import ImproperlyConfigured

    try:
        import django

        django.setup()
    except ImproperlyConfigured as exc:
        print(f"accord: {exc}", file=sys.stderr)
        sys.exit(2)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["accord", *args])


if __name__ == "__main__":
    main()
