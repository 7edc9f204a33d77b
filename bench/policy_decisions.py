"""The policy decision point against its targets (issue 3):

* 1,000 field-level decisions (100 records x 10 categories) under 10 ms with the verdict
  cache warm and under 50 ms cold;
* at least 20,000 decisions per second per core in batch (distinct attribute tuples, so
  every one is evaluated by Cedar);
* a list page of 100 records restricted by policy under 100 ms p95 with 100,000 records in
  the database (the API page, and the HTML page of 25), disclosures written included.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

from bench._setup import latency_summary, prepare, say

NAME = "policy_decisions"
DEFENSE = "defense_representation"
CATEGORIES = (
    "identity",
    "contact",
    "custody",
    "court_events",
    "charges",
    "case_status",
    "mental_health",
    "substance_use_part2",
    "housing",
    "benefits",
)
REPEATS = 20


def _agreements(county):  # type: ignore[no-untyped-def]
    from accord.agreements.testing import make_agreement, term

    make_agreement(
        "BENCH-JAIL",
        [(county.defender, county.defender_admin), (county.jail, county.jail_admin)],
        [term("3.2", county.jail, county.defender, ["identity", "custody", "charges"], [DEFENSE])],
    )
    make_agreement(
        "BENCH-COURT",
        [(county.defender, county.defender_admin), (county.court, county.court_clerk)],
        [term("2.1", county.court, county.defender, ["court_events", "case_status"], [DEFENSE])],
    )
    make_agreement(
        "BENCH-QSOA",
        [(county.defender, county.defender_admin), (county.provider, county.provider_case_worker)],
        [
            term(
                "4.1",
                county.provider,
                county.defender,
                ["substance_use_part2", "mental_health"],
                [DEFENSE],
                consent="part2",
            ),
            term(
                "4.2",
                county.provider,
                county.defender,
                ["housing", "benefits", "contact"],
                [DEFENSE],
                consent="client",
            ),
        ],
        kind="qsoa",
    )


def _consents(county, clients: int) -> None:  # type: ignore[no-untyped-def]
    from accord.consent.testing import make_consent

    for n in range(0, clients, 2):
        make_consent(
            county.provider,
            kind="part2",
            client_key=f"B-{n:06d}",
            disclosers=[county.provider],
            recipients=[county.defender],
            categories=["substance_use_part2", "mental_health", "housing"],
            purposes=[DEFENSE],
        )


def _cpu(samples: list[float]) -> str:
    ordered = sorted(samples)
    return f"CPU median {ordered[len(ordered) // 2] * 1000:.1f} ms"


def field_level(county) -> None:  # type: ignore[no-untyped-def]
    from accord.accounts.identity import actor_for_user
    from accord.policy import engine
    from accord.policy.actions import bump_policy_version
    from accord.policy.engine import Resource, decide_many

    owners = {
        "identity": county.jail,
        "custody": county.jail,
        "charges": county.jail,
        "court_events": county.court,
        "case_status": county.court,
    }
    resources = [
        Resource(owners.get(category, county.provider).pk, f"B-{n:06d}", category)
        for n in range(100)
        for category in CATEGORIES
    ]
    actor = actor_for_user(county.defender_attorney)
    colds, cold_cpu, rebuilt, warms, warm_cpu = [], [], [], [], []
    for _ in range(REPEATS):
        bump_policy_version("benchmark: cold start")
        started = time.perf_counter()
        engine.snapshot()
        rebuild = time.perf_counter() - started
        started, cpu = time.perf_counter(), time.process_time()
        decisions = decide_many(actor, "view", resources, DEFENSE)
        colds.append(time.perf_counter() - started)
        cold_cpu.append(time.process_time() - cpu)
        rebuilt.append(rebuild + colds[-1])
        started, cpu = time.perf_counter(), time.process_time()
        decide_many(actor, "view", resources, DEFENSE)
        warms.append(time.perf_counter() - started)
        warm_cpu.append(time.process_time() - cpu)
    allowed = sum(d.allowed for d in decisions)
    say(
        NAME,
        f"1,000 field-level decisions ({allowed} allowed), cache cold (policy set "
        f"parsed, no verdicts cached): {latency_summary(colds)}; {_cpu(cold_cpu)}",
    )
    say(
        NAME,
        f"1,000 field-level decisions including the policy-set rebuild: {latency_summary(rebuilt)}",
    )
    say(
        NAME, f"1,000 field-level decisions, cache warm: {latency_summary(warms)}; {_cpu(warm_cpu)}"
    )


def throughput(county) -> None:  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from accord.accounts.identity import actor_for_user
    from accord.policy import engine
    from accord.policy.actions import bump_policy_version
    from accord.policy.cedar import day_number
    from accord.policy.engine import Resource, decide_many

    snap = engine.snapshot()
    principal = (county.defender.pk, ("attorney",), ("bar_number",))
    owners = (county.jail.pk, county.court.pk, county.provider.pk)
    today = day_number(timezone.localdate())
    keys: list[tuple[object, ...]] = []
    n = 0
    while len(keys) < 20_000:
        for owner in owners:
            for category in CATEGORIES:
                for labels in ((), ("part2",), ("sealed",)):
                    for consent in ((False, False), (True, False), (False, True)):
                        keys.append(
                            (
                                principal,
                                "view",
                                DEFENSE,
                                today + n,
                                owner,
                                category,
                                labels,
                                False,
                                consent[0],
                                consent[1],
                                False,
                            )
                        )
        n += 1
    keys = keys[:20_000]
    started, cpu = time.perf_counter(), time.process_time()
    engine._evaluate(snap, keys)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    say(
        NAME,
        f"worst case, 20,000 distinct attribute tuples all evaluated by Cedar: "
        f"{len(keys) / seconds:,.0f} decisions/s wall, {len(keys) / cpu_seconds:,.0f} "
        f"per CPU-second",
    )
    # The common case: a batch of field-level decisions over many records and clients, in
    # which attribute tuples repeat (same owner, category, labels and consent facts).
    owners_by = (county.jail, county.court, county.provider)
    resources = [
        Resource(owners_by[i % 3].pk, f"B-{i % 100:06d}", CATEGORIES[(i // 3) % 10])
        for i in range(20_000)
    ]
    actor = actor_for_user(county.defender_attorney)
    bump_policy_version("benchmark: throughput")
    engine.snapshot()
    started, cpu = time.perf_counter(), time.process_time()
    decide_many(actor, "view", resources, DEFENSE)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    say(
        NAME,
        f"20,000 field-level decisions over 100 clients, cache cold at the start: "
        f"{len(resources) / seconds:,.0f} decisions/s wall, "
        f"{len(resources) / cpu_seconds:,.0f} per CPU-second",
    )


def list_page(county) -> None:  # type: ignore[no-untyped-def]
    from django.test import Client
    from django.utils import timezone

    from accord.core.actions import action
    from accord.core.actors import SYSTEM
    from accord.core.testing import sign_in_directly
    from accord.policy.models import ClientRecord

    count = int(os.environ.get("BENCH_POLICY_RECORDS", "100000"))
    owners = (
        county.jail,
        county.court,
        county.provider,
        county.agencies["prosecutor"],
        county.defender,
    )
    now = timezone.now()

    @action
    def seed(*, actor):  # type: ignore[no-untyped-def]
        rows = [
            ClientRecord(
                owner=owners[i % len(owners)],
                client_key=f"B-{i % 20000:06d}",
                category=CATEGORIES[i % len(CATEGORIES)],
                labels=",sealed," if i % 97 == 0 else "",
                summary=f"record {i}",
                recorded_at=now - timedelta(minutes=i),
            )
            for i in range(count)
        ]
        ClientRecord.objects.bulk_create(rows, batch_size=5000)

    started = time.perf_counter()
    seed(actor=SYSTEM)
    say(NAME, f"{count:,} client records inserted in {time.perf_counter() - started:.1f} s")
    client = sign_in_directly(Client(), county.defender_attorney)
    for label, url, query in (
        (
            "GET /api/v1/policy/records (100 per page)",
            "/api/v1/policy/records",
            {"purpose": DEFENSE, "page_size": "100"},
        ),
        ("GET /policy/ (HTML, 25 per page)", "/policy/", {"purpose": DEFENSE}),
        ("GET /policy/ page 40", "/policy/", {"purpose": DEFENSE, "page": "40"}),
        (
            "GET /api/v1/policy/records one client",
            "/api/v1/policy/records",
            {"purpose": DEFENSE, "client_key": "B-000042"},
        ),
    ):
        assert client.get(url, query).status_code == 200
        latencies = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            response = client.get(url, query)
            latencies.append(time.perf_counter() - started)
            assert response.status_code == 200
        say(NAME, f"{label}: {latency_summary(latencies)}")


def main() -> None:
    prepare(NAME)
    from accord.core.testing import build_county

    county = build_county()
    _agreements(county)
    _consents(county, 100)
    field_level(county)
    throughput(county)
    list_page(county)


if __name__ == "__main__":
    main()
