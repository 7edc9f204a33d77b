"""Event ingestion through the HTTP API on SQLite with ``accord run`` (target: sustained
200 events/s, p95 under 1 s from ingest to in-app notification).

``accord run`` is started as it ships (gunicorn, one process of 8 threads, the task worker
on a thread of the same process polling every 0.5 s); bookings are posted to it over HTTP
one by one (``BENCH_EXCHANGE_SINGLE``, default 300), then in batches of
``BENCH_EXCHANGE_BATCH`` (50) at ``BENCH_EXCHANGE_RATE`` events/s (200), flat out, and
flat out from ``BENCH_EXCHANGE_SENDERS`` (2) senders at once (``BENCH_EXCHANGE_BATCHED``
events each, default 2,000). See ``bench/_exchange_load.py`` for the scenario and what
the latency covers."""

from __future__ import annotations

import os

from bench._exchange_load import (
    accord,
    build_scenario,
    free_port,
    run_phases,
    start,
    stop,
    wait_for,
)
from bench._setup import BENCH_DIR, prepare, say

NAME = "exchange_throughput"


def main() -> None:
    database = prepare(NAME)
    token = build_scenario()
    port = free_port()
    env = {
        **os.environ,
        "ACCORD_MODE": "test",
        "ACCORD_DATABASE_URL": f"sqlite:///{database}",
        "ACCORD_VAR_DIR": str(BENCH_DIR / NAME),
    }
    processes = start(
        [accord("run", "--no-demo", "--bind", f"127.0.0.1:{port}")], env, BENCH_DIR / NAME / "logs"
    )
    try:
        wait_for(port)
        say(NAME, "accord run: 1 process, 8 threads, worker thread (SQLite)")
        run_phases(NAME, port, token)
    finally:
        stop(processes)


if __name__ == "__main__":
    main()
