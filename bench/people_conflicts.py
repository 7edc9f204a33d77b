"""Conflict checks over 1,000,000 party records of one defender office, on SQLite and on
PostgreSQL (targets: the true person among the hits for >= 99% of corrupted look-ups; p95
under 5 ms with a date of birth, under 50 ms without).

The records are synthetic (Faker's name lists, docs/people.md) and loaded through the
importer's action; 3% carry an alias. Each look-up takes a known person and corrupts it as
an intake interview might (typos, nicknames, swapped names, one part of a compound surname,
a mistyped or missing DOB). ``BENCH_PEOPLE_PARTIES`` sets the size (default 1,000,000),
``BENCH_PEOPLE_LOOKUPS`` the look-ups per kind (default 1,000),
``BENCH_PEOPLE_REUSE=1`` measures again on the database a previous run loaded,
``BENCH_PEOPLE_POSTGRES`` the PostgreSQL server (default postgresql://postgres@127.0.0.1:5432)
and ``BENCH_PEOPLE_DATABASE`` the database on it (default ``accord_bench_people``; dropped and
recreated unless reused)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench._setup import BENCH_DIR, ROOT, percentile, say

NAME = "people_conflicts"
POSTGRES = os.environ.get("BENCH_PEOPLE_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
DATABASE = os.environ.get("BENCH_PEOPLE_DATABASE", "accord_bench_people")
BATCH = 5000


def _database(engine: str, *, reuse: bool) -> None:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    if engine == "sqlite":
        path = BENCH_DIR / f"{NAME}.sqlite3"
        for suffix in ("", "-wal", "-shm", "-journal"):
            if not reuse:
                path.with_name(path.name + suffix).unlink(missing_ok=True)
        os.environ["ACCORD_DATABASE_URL"] = f"sqlite:///{path}"
    else:
        import psycopg

        if not reuse:
            with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
                connection.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
                connection.execute(f"CREATE DATABASE {DATABASE}")
        os.environ["ACCORD_DATABASE_URL"] = f"{POSTGRES}/{DATABASE}"
    os.environ["ACCORD_MODE"] = "test"
    os.environ["ACCORD_VAR_DIR"] = str(BENCH_DIR / NAME)
    os.environ["DJANGO_SETTINGS_MODULE"] = "accord.settings"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def _load(count: int, lookups: int, *, reuse: bool) -> tuple[Any, dict[int, Any], float]:
    """Load ``count`` people (or, reusing, only generate them again); return the agency,
    the people chosen for look-ups (by source id number), and the seconds the load took."""
    from accord.core.actors import SYSTEM
    from accord.directory.actions import create_agency
    from accord.directory.models import Agency
    from accord.people.actions import import_people_batch
    from accord.people.synthetic import Synthesizer
    from accord.people.validation import clean_person

    agency = Agency.objects.filter(short_name="BPD").first()
    if agency is None:
        agency = create_agency(
            actor=SYSTEM,
            name="Bench Public Defender",
            short_name="BPD",
            kind="public_defender",
            jurisdiction="Bench County",
        )
    synth = Synthesizer(seed=99)
    chosen = set(random.Random(5).sample(range(1, count + 1), min(count, 2 * lookups)))
    kept: dict[int, Any] = {}
    started = time.perf_counter()
    for start in range(1, count + 1, BATCH):
        rows = []
        for person in synth.people(min(BATCH, count - start + 1), start=start):
            aliases = []
            if synth.rng.random() < 0.03:
                aliases = [
                    {
                        "first_name": person.first_name,
                        "last_name": synth.with_alias(person).last_name,
                    }
                ]
            clean, errors = clean_person(
                {
                    "source_id": f"P{person.person_id}",
                    "first_name": person.first_name,
                    "middle_name": person.middle_name,
                    "last_name": person.last_name,
                    "date_of_birth": person.date_of_birth,
                    "sex": person.sex,
                    "identifiers": {"ssn_last4": person.ssn_last4},
                    "address_line": person.address_line,
                    "city": person.city,
                    "state": person.state,
                    "postal_code": person.postal_code,
                    "aliases": aliases,
                }
            )
            assert not errors, errors
            rows.append((person.person_id, clean))
            if person.person_id in chosen:
                kept[person.person_id] = person
        if not reuse:
            import_people_batch(agency, rows, actor=SYSTEM, source_name="bench")
        if start // BATCH % 40 == 0:
            say(NAME, f"  {start + len(rows) - 1:,} loaded ({time.perf_counter() - started:.0f} s)")
    return agency, kept, time.perf_counter() - started


def _warm(engine: str) -> None:
    """Read the look-up's tables and indexes into the OS page cache first, as a server
    answering conflict checks all day would have them: this machine's kernel evicts page
    cache it considers cold, so a run minutes after loading otherwise times disk reads."""
    from django.db import connection

    started = time.perf_counter()
    if engine == "sqlite":
        with Path(connection.settings_dict["NAME"]).open("rb") as handle:
            while handle.read(1 << 24):
                pass
    else:
        with connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
            for relation in (
                "people_personkey",
                "person_key_lookup",
                "people_personrecord",
                "person_record_match",
            ):
                cursor.execute("SELECT pg_prewarm(%s, 'read')", [relation])
    say(NAME, f"[{engine}] page cache warmed in {time.perf_counter() - started:.0f} s")


def run(engine: str) -> None:
    count = int(os.environ.get("BENCH_PEOPLE_PARTIES", "1000000"))
    lookups = int(os.environ.get("BENCH_PEOPLE_LOOKUPS", "1000"))
    reuse = os.environ.get("BENCH_PEOPLE_REUSE") == "1"
    _database(engine, reuse=reuse)
    from django.db import connection

    from accord.people.matching import Party, find_matches
    from accord.people.models import PersonKey, PersonRecord
    from accord.people.synthetic import Synthesizer

    agency, people, load_seconds = _load(count, lookups, reuse=reuse)
    if engine == "postgresql":
        # VACUUM sets the visibility map, as autovacuum does in production after a bulk
        # load: without it every index-only scan of the key index also reads the table
        # (the benchmark server runs with autovacuum off). ANALYZE for the planner.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
    keys = PersonKey.objects.count()
    say(NAME, f"[{engine}] {count:,} party records ({keys:,} keys) loaded in {load_seconds:.0f} s")
    _warm(engine)
    ids = dict(
        PersonRecord.objects.filter(source_id__in=[f"P{n}" for n in people]).values_list(
            "source_id", "pk"
        )
    )
    synth = Synthesizer(seed=123)
    order = sorted(people)
    for with_dob in (True, False):
        chosen = order[:lookups] if with_dob else order[lookups:]
        latencies: list[float] = []
        cpu: list[float] = []
        hits: list[int] = []
        misses: Counter[str] = Counter()
        found = 0
        for i, number in enumerate(chosen):
            party, errors = synth.corrupt_lookup(people[number], with_dob=with_dob)
            query = Party(**party)
            if i < 20:
                find_matches(agency.pk, query)  # warm the caches on the first few
            one, one_cpu = time.perf_counter(), time.process_time()
            matches = find_matches(agency.pk, query)
            latencies.append(time.perf_counter() - one)
            cpu.append(time.process_time() - one_cpu)
            hits.append(len(matches))
            if ids[f"P{number}"] in {m.record_id for m in matches}:
                found += 1
            else:
                misses[" + ".join(errors) or "none"] += 1
                if os.environ.get("BENCH_PEOPLE_DEBUG"):
                    truth = people[number]
                    say(
                        NAME,
                        f"  missed {party} for {truth.first_name} {truth.middle_name} "
                        f"{truth.last_name} {truth.date_of_birth} ({len(matches)} hits)",
                    )
        recall = found / len(chosen)
        p50, p95, p99 = (percentile(latencies, q) * 1000 for q in (0.5, 0.95, 0.99))
        cpu50, cpu95 = (percentile(cpu, q) * 1000 for q in (0.5, 0.95))
        target = 5 if with_dob else 50
        ok = recall >= 0.99 and p95 < target
        say(
            NAME,
            f"[{engine}] {'with' if with_dob else 'without'} DOB: {len(chosen):,} corrupted "
            f"look-ups, true person among the hits for {recall:.2%}; latency p50 {p50:.1f} ms, "
            f"p95 {p95:.1f} ms, p99 {p99:.1f} ms (this process's CPU: p50 {cpu50:.1f} ms, "
            f"p95 {cpu95:.1f} ms; load average {os.getloadavg()[0]:.1f}); hits per look-up median "
            f"{percentile(hits, 0.5):.0f}, p95 {percentile(hits, 0.95):.0f} (targets >= 99%, "
            f"p95 < {target} ms: {'met' if ok else 'MISSED'})",
        )
        if misses:
            say(NAME, f"[{engine}]   missed, by corruption: {dict(misses.most_common(8))}")


def main() -> None:
    engine = os.environ.get("BENCH_PEOPLE_ENGINE")
    if engine:
        run(engine)
        return
    for engine in ("sqlite", "postgresql"):
        started = time.perf_counter()
        completed = subprocess.run(
            [sys.executable, "-m", "bench.people_conflicts"],
            env={**os.environ, "BENCH_PEOPLE_ENGINE": engine},
            cwd=ROOT,
            check=False,
        )
        say(
            NAME,
            f"[{engine}] done in {time.perf_counter() - started:.0f} s "
            f"(exit {completed.returncode})",
        )


if __name__ == "__main__":
    main()
