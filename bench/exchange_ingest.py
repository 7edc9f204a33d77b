"""Event ingestion through the API (target: sustained 200 events/s; p95 under 1 s from
ingest to in-app notification). Posts ``BENCH_EXCHANGE_EVENTS`` bookings (default 2,000)
with a jail token, one request each, for clients the defender's attorney is subscribed to
under an agreement; then runs the delivery of every notification in this process (the
worker's work without its polling interval) and reports occurrence-to-inbox latency.

This measures one process on SQLite; `accord run`'s worker thread adds its 0.5 s poll."""

from __future__ import annotations

import json
import os
import time

from bench._setup import latency_summary, prepare, say

NAME = "exchange_ingest"
FIRST = ["Ana", "Ben", "Cara", "Dev", "Eli", "Faye", "Gus", "Hana", "Ivo", "Jun"]
LAST = ["Okafor", "Lindqvist", "Moreau", "Tanaka", "Haddad"]


def _person(i: int) -> dict[str, str]:
    """Distinct people (names and birth dates), so identity resolution keeps them apart."""
    return {
        "first_name": FIRST[i % 10],
        "last_name": LAST[i // 10 % 5],
        "date_of_birth": f"19{60 + i % 40}-{1 + i % 12:02d}-{1 + i % 28:02d}",
    }


def main() -> None:
    prepare(NAME)
    from django.utils import timezone

    from accord.core.testing import build_county, with_token
    from accord.exchange.models import Notification
    from accord.exchange.tasks import deliver
    from accord.exchange.testing import (
        attorney_subscribes,
        booking,
        defender_client,
        jail_mou,
        token_for,
    )

    count = int(os.environ.get("BENCH_EXCHANGE_EVENTS", "2000"))
    clients = 50
    county = build_county()
    jail_mou(county)
    for i in range(clients):
        record = defender_client(county, f"D-{i}", **_person(i))
        attorney_subscribes(county, record)
    client = with_token(token_for(county, "jail", ["events:write"]))
    samples = []
    started = time.perf_counter()
    for i in range(count):
        n = i % clients
        body = {
            "event_type": "custody.booked",
            "idempotency_key": f"bench-{i}",
            "occurred_at": timezone.now().isoformat(),
            "payload": booking(f"J-{n}", booking_number=f"B-{i}", **_person(n)),
        }
        t0 = time.perf_counter()
        response = client.post(
            "/api/v1/events", data=json.dumps(body), content_type="application/json"
        )
        samples.append(time.perf_counter() - t0)
        assert response.status_code == 201, response.content
    elapsed = time.perf_counter() - started
    say(NAME, f"{count} events posted in {elapsed:.1f} s: {count / elapsed:.0f} events/s")
    say(NAME, f"POST /api/v1/events latency: {latency_summary(samples)}")
    started = time.perf_counter()
    pks = list(Notification.objects.values_list("pk", flat=True))
    for pk in pks:
        deliver(pk)
    elapsed = time.perf_counter() - started
    say(NAME, f"{len(pks)} notifications delivered in {elapsed:.1f} s")
    waits = [
        (n.delivered_at - n.created_at).total_seconds()
        for n in Notification.objects.only("delivered_at", "created_at")
    ]
    say(NAME, f"routed-to-inbox (queue drained after the run): {latency_summary(waits)}")


if __name__ == "__main__":
    main()
