"""The home page with the demo county seeded: p95 over 200 requests through the test Client,
signed in as demo users (target: p95 under 100 ms)."""

from __future__ import annotations

import os
import time

from bench._setup import latency_summary, percentile, prepare, say

NAME = "home_page"
TARGET_P95_MS = 100.0
# Besides an attorney: the council's auditor and the defender's, whose home pages also count
# the audit events of the last 24 hours.
PERSONAS = ("abe.auditor", "aubrey.auditor")


def main() -> None:
    prepare(NAME)
    from django.test import Client

    from accord.accounts.models import User
    from accord.core.actors import SYSTEM
    from accord.core.testing import sign_in_directly
    from accord.demo.accounts import PEOPLE
    from accord.demo.seed import seed_demo_county

    started = time.perf_counter()
    seed_demo_county(actor=SYSTEM)
    say(NAME, f"demo county seeded in {time.perf_counter() - started:.1f} s")
    requests = int(os.environ.get("BENCH_HOME_REQUESTS", "200"))
    attorney = next(p.username for p in PEOPLE if "attorney" in p.roles)
    for username in (attorney, *PERSONAS):
        client = sign_in_directly(Client(), User.objects.get(username=username))
        for _ in range(10):  # warm up: templates compiled, caches filled
            assert client.get("/").status_code == 200
        latencies = []
        for _ in range(requests):
            one = time.perf_counter()
            response = client.get("/")
            latencies.append(time.perf_counter() - one)
            assert response.status_code == 200, response.status_code
        p95 = percentile(latencies, 0.95) * 1000
        say(
            NAME,
            f"GET / as {username}: {latency_summary(latencies)} "
            f"(target p95 < {TARGET_P95_MS:.0f} ms: {'met' if p95 < TARGET_P95_MS else 'MISSED'})",
        )


if __name__ == "__main__":
    main()
