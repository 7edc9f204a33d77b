"""Event ingestion through the HTTP API on PostgreSQL with two worker processes (target:
sustained 200 events/s, p95 under 1 s from ingest to in-app notification).

Needs ``BENCH_PG_URL`` (e.g. ``postgresql://postgres@127.0.0.1:5432/ingestbench``; the
database is dropped and created afresh), else it says so and stops. ``accord web`` (two
gunicorn processes of four threads) and two ``accord worker`` processes are started;
the phases and sizes are those of ``exchange_throughput`` (see ``bench/_exchange_load.py``)."""

from __future__ import annotations

import os
import subprocess
import time
from urllib.parse import urlsplit

from bench._exchange_load import (
    accord,
    build_scenario,
    free_port,
    run_phases,
    start,
    stop,
    wait_for,
)
from bench._setup import BENCH_DIR, say

NAME = "exchange_throughput_pg"


def _recreate(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    common = ["-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432)]
    common += ["-U", parts.username or "postgres"]
    subprocess.run(["dropdb", "--if-exists", *common, name], check=True)  # noqa: S603, S607 - the PostgreSQL tools
    subprocess.run(["createdb", *common, name], check=True)  # noqa: S603, S607 - the PostgreSQL tools


def main() -> None:
    url = os.environ.get("BENCH_PG_URL", "")
    if not url:
        say(NAME, "skipped: set BENCH_PG_URL to a PostgreSQL database it may drop and create")
        return
    _recreate(url)
    env = {
        **os.environ,
        "ACCORD_MODE": "test",
        "ACCORD_DATABASE_URL": url,
        "ACCORD_VAR_DIR": str(BENCH_DIR / NAME),
    }
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "accord.settings"
    import django
    from django.core.management import call_command

    django.setup()
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    say(NAME, f"PostgreSQL database migrated in {time.perf_counter() - started:.1f} s")
    token = build_scenario()
    port = free_port()
    commands = [
        accord("web", "--workers", "2", "--threads", "4", "--bind", f"127.0.0.1:{port}"),
        accord("worker"),
        accord("worker", "--no-schedule"),
    ]
    processes = start(commands, env, BENCH_DIR / NAME / "logs")
    try:
        wait_for(port)
        say(NAME, "accord web: 2 processes of 4 threads; 2 accord worker processes (PostgreSQL)")
        run_phases(NAME, port, token)
    finally:
        stop(processes)


if __name__ == "__main__":
    main()
