"""Audit append throughput on SQLite: each event in its own transaction, through an action,
as a real change would write it (target: at least 2,000 events/s)."""

from __future__ import annotations

import os
import time

from bench._setup import latency_summary, prepare, say

NAME = "audit_append"
TARGET_PER_SECOND = 2000


def main() -> None:
    prepare(NAME)
    from accord.audit import chain
    from accord.audit.codes import AuditAction
    from accord.core.actions import action
    from accord.core.actors import Actor

    @action
    def record(i: int, *, actor: Actor) -> None:
        chain.append(
            actor,
            AuditAction.AUDIT_VIEWED,
            object_type="accounts.user",
            object_id=str(1000 + i % 300),
            object_label=f"user{i % 300:03d}",
            details={"via": "web", "filters": {"actor": "smith", "page": i}},
        )

    actor = Actor(
        label="bench.auditor",
        user_id=7,
        agency_id=3,
        roles=frozenset({"auditor"}),
        request_id="0" * 32,
        source_ip="127.0.0.1",
    )
    count = int(os.environ.get("BENCH_APPEND_EVENTS", "10000"))
    for i in range(200):  # warm up: connection, statement cache, the first pages of the file
        record(i, actor=actor)
    latencies = []
    cpu = time.process_time()
    started = time.perf_counter()
    for i in range(count):
        one = time.perf_counter()
        record(i, actor=actor)
        latencies.append(time.perf_counter() - one)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    rate = count / seconds
    say(
        NAME,
        f"{count:,} events appended, one transaction each, in {seconds:.2f} s "
        f"(CPU {cpu:.2f} s, {count / cpu:,.0f} events per CPU-second): "
        f"{rate:,.0f} events/s (target >= {TARGET_PER_SECOND:,}: "
        f"{'met' if rate >= TARGET_PER_SECOND else 'MISSED'}); "
        f"per event {latency_summary(latencies)}",
    )
    verification = chain.verify()
    say(NAME, f"chain after the run: {'intact' if verification.ok else 'BROKEN'}")


if __name__ == "__main__":
    main()
