"""The audit log page and API on a log of one million events: each filter a person would use,
through the test Client, so the page's keyset pagination and indexes are measured."""

from __future__ import annotations

import os
import time
from typing import Any

from bench._setup import latency_summary, prepare, say

NAME = "audit_log_page"
REQUESTS = 20


def main() -> None:
    prepare(NAME)
    from django.test import Client

    from accord.audit.models import AuditEvent
    from accord.core.testing import build_county, sign_in_directly
    from bench._chain import generate

    county = build_county()
    agencies = [agency.pk for agency in county.agencies.values()]
    count = int(os.environ.get("BENCH_PAGE_EVENTS", "1000000"))
    seconds = generate(count, agency_ids=agencies)
    say(NAME, f"generated {count:,} chained events in {seconds:.1f} s")
    middle = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    middle //= 2
    jail = county.agencies["jail"].pk
    today = time.strftime("%Y-%m-%d")
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("council_auditor", "newest page", {}),
        ("council_auditor", "a page half-way down", {"before": middle}),
        ("council_auditor", "action = sign-in failed", {"action": "auth.sign_in_failed"}),
        ("council_auditor", "agency = jail", {"agency": jail}),
        ("council_auditor", "actor contains 'user123'", {"actor": "user123"}),
        ("council_auditor", "actor contains (no match)", {"actor": "nobody-at-all"}),
        (
            "council_auditor",
            "object type + id",
            {"object_type": "accounts.user", "object_id": "1042"},
        ),
        ("council_auditor", "from/to today", {"date_from": today, "date_to": today}),
        ("defender_auditor", "agency auditor: newest page", {}),
        ("defender_auditor", "agency auditor: half-way down", {"before": middle}),
    ]
    for persona, label, query in cases:
        client = sign_in_directly(Client(), county.people[persona])
        assert client.get("/audit/", query).status_code == 200
        latencies = []
        for _ in range(REQUESTS):
            started = time.perf_counter()
            response = client.get("/audit/", query)
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 200
        say(NAME, f"GET /audit/ {label}: {latency_summary(latencies)}")
    client = sign_in_directly(Client(), county.people["council_auditor"])
    latencies = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = client.get("/api/v1/audit/events", {"page_size": 100})
        latencies.append(time.perf_counter() - started)
        assert response.status_code == 200
    say(NAME, f"GET /api/v1/audit/events (100 per page): {latency_summary(latencies)}")


if __name__ == "__main__":
    main()
