"""A bulk feed of bookings (issue 5's target: 1,000,000 bookings imported from CSV, matched
and routed in under 10 minutes). Writes a CSV of ``BENCH_IMPORT_ROWS`` bookings (default
100,000) from a jail for ``BENCH_IMPORT_PEOPLE`` people (default 30 % of the rows: most
people are booked more than once), 10 % of whom are the defender's clients under their own
spelling (the people app's corruption model: nicknames, typos, swapped names, mistyped
DOBs); the defender's attorney subscribes to a fifth of the clients under the jail MOU,
and to a further few under a purpose no agreement allows (refusals). Three bookings in a
hundred carry a clerk's typo in the first name (the jail's record changes and is linked
again). Then runs ``accord import events`` in a process of its own (wall, CPU, peak memory
from ``wait4``), delivers every notification in this process, checks the routing against
the truth, and verifies the audit chain. ``BENCH_IMPORT_POSTGRES`` (e.g.
``postgresql://postgres@127.0.0.1:5432``) runs it on PostgreSQL instead of SQLite;
``BENCH_IMPORT_PROFILE=FILE`` runs the import under cProfile and writes its profile to FILE."""

from __future__ import annotations

import csv
import os
import random
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bench._setup import BENCH_DIR, prepare, say

if TYPE_CHECKING:
    from accord.core.testing import County

NAME = "exchange_import"
POSTGRES_DATABASE = "accord_bench_import"
FIELDS = [
    "event_type",
    "idempotency_key",
    "occurred_at",
    "booking_number",
    "facility",
    "subject.source_id",
    "subject.first_name",
    "subject.middle_name",
    "subject.last_name",
    "subject.date_of_birth",
]


def _write_feed(path: Path, rows: int, people: int, seed: int = 5) -> dict[str, int]:
    """The CSV; returns the truth: jail source id → person id."""
    from django.utils import timezone

    from accord.people.synthetic import Synthesizer

    synth = Synthesizer(seed)
    rng = random.Random(seed)
    persons = synth.people(people)
    jail = [synth.agency_record(p, "JAIL", f"J-{p.person_id}") for p in persons]
    order = list(range(people)) + [rng.randrange(people) for _ in range(rows - people)]
    rng.shuffle(order)
    start = timezone.now() - timedelta(days=1000)
    step = timedelta(days=999) / max(rows, 1)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(FIELDS)
        for i, n in enumerate(order):
            record = jail[n]
            first = record["first_name"]
            if rng.random() < 0.03:
                first = synth.typo(first)
            when = start + step * i
            if rng.random() < 0.01:
                when -= timedelta(days=rng.randrange(1, 30))  # arrives late
            released = rng.random() < 0.2
            writer.writerow(
                [
                    "custody.released" if released else "custody.booked",
                    f"bk-{i}",
                    when.isoformat(),
                    f"B-{i}",
                    "" if released else "Main jail",
                    record["source_id"],
                    first,
                    record["middle_name"],
                    record["last_name"],
                    record["date_of_birth"],
                ]
            )
    return {r["source_id"]: int(r["person_id"]) for r in jail}


def _defender(county: County, people: int, clients: int, seed: int = 5) -> dict[int, int]:
    """The defender's records of ``clients`` of the people (its own spelling), each linked
    as a person of its own; returns record id → person id."""
    from accord.accounts.identity import actor_for_user
    from accord.people.actions import import_people_batch, link_in_bulk
    from accord.people.models import PersonRecord
    from accord.people.synthetic import Synthesizer
    from accord.people.validation import clean_person

    synth = Synthesizer(seed)
    persons = synth.people(people)  # the same people: same seed, same draws
    rng = random.Random(seed + 1)
    chosen = rng.sample(persons, clients)
    actor = actor_for_user(county.defender_attorney)
    truth: dict[str, int] = {}
    batch = []
    for line, person in enumerate(chosen, start=2):
        row = synth.agency_record(person, "PD", f"D-{person.person_id}")
        values = {k: v for k, v in row.items() if k not in ("source", "person_id", "sex")}
        cleaned, errors = clean_person(values)
        if errors:
            continue
        truth[row["source_id"]] = person.person_id
        batch.append((line, cleaned))
    for start in range(0, len(batch), 5000):
        result = import_people_batch(
            county.defender,
            batch[start : start + 5000],
            actor=actor,
        )
        records = list(PersonRecord.objects.filter(pk__in=result.record_ids))
        link_in_bulk(records, {}, actor=actor)
    return {
        pk: truth[sid]
        for pk, sid in PersonRecord.objects.filter(agency=county.defender).values_list(
            "pk", "source_id"
        )
    }


def _subscriptions(county: County, client_truth: dict[int, int]) -> list[int]:
    """The attorney subscribes to a fifth of the clients for the defense (allowed by the
    jail MOU) and to one in fifty more for social services (no agreement: refused).
    Returns the record ids subscribed for the defense."""
    from accord.accounts.identity import actor_for_user
    from accord.core.access import Purpose
    from accord.exchange.actions import subscribe
    from accord.people.models import PersonRecord

    attorney = actor_for_user(county.defender_attorney)
    record_ids = sorted(client_truth)
    subscribed = record_ids[: max(len(record_ids) // 5, 1)]
    refused = record_ids[len(subscribed) : len(subscribed) + max(len(record_ids) // 50, 1)]
    by_pk = PersonRecord.objects.in_bulk(subscribed + refused)
    for pk in subscribed:
        subscribe(actor=attorney, person_record=by_pk[pk], purpose=Purpose.DEFENSE)
    for pk in refused:
        subscribe(actor=attorney, person_record=by_pk[pk], purpose=Purpose.SERVICES)
    say(
        NAME,
        f"defender: {len(client_truth):,} clients, {len(subscribed):,} subscribed (defense), "
        f"{len(refused):,} under a purpose no agreement allows",
    )
    return subscribed


def _run_import(feed: Path, username: str, rows: int) -> None:
    """``accord import events`` in a process of its own: wall, CPU and peak memory."""
    command = [
        str(Path(sys.executable).with_name("accord")),
        "import",
        "events",
        str(feed),
        "--as",
        username,
        "--verbosity",
        "2",
        "--chunk-size",
        os.environ.get("BENCH_IMPORT_CHUNK", "20000"),
    ]
    profile = os.environ.get("BENCH_IMPORT_PROFILE")
    if profile:  # a cProfile of the import process, for finding where its time goes
        command = [sys.executable, "-m", "cProfile", "-o", profile, *command]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)  # noqa: S603
    assert child.stdout is not None
    last = ""
    for line in child.stdout:
        last = line.strip()
        say(NAME, f"import: {last}")
    _pid, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"import failed ({status}): {last}")
    say(
        NAME,
        f"import of {rows:,} rows: {wall:.1f} s wall ({rows / wall:,.0f} rows/s), "
        f"{usage.ru_utime + usage.ru_stime:.1f} s CPU, peak {usage.ru_maxrss / 1024**2:.2f} GiB "
        f"(target: 1,000,000 in 600 s)",
    )


def _check_routing(
    county: County, jail_truth: dict[str, int], client_truth: dict[int, int], subscribed: list[int]
) -> None:
    """Routing against the truth: every event about a subscribed client, and no other."""
    from accord.exchange.models import Event, Notification
    from accord.people.models import PersonLink, PersonRecord

    wanted_people = {client_truth[pk] for pk in subscribed}
    jail_ids = dict(PersonRecord.objects.filter(agency=county.jail).values_list("pk", "source_id"))
    events = list(Event.objects.values_list("pk", "subject_record_id", "master_id"))
    notified = set(Notification.objects.values_list("event_id", flat=True))
    expected = {pk for pk, rec, _m in events if jail_truth[jail_ids[rec]] in wanted_people}
    hit = len(expected & notified)
    say(
        NAME,
        f"routing: {len(notified):,} notifications; {hit:,} of {len(expected):,} bookings of "
        f"subscribed clients notified (recall {hit / max(len(expected), 1):.4f}), "
        f"{len(notified - expected):,} about someone else",
    )
    persons = PersonLink.objects.values("master_id").distinct().count()
    linked = sum(1 for _pk, _rec, m in events if m is not None)
    say(
        NAME,
        f"people: {len(jail_ids):,} jail records, {persons:,} persons in all; {linked:,} of "
        f"{len(events):,} events matched to a person",
    )


def _prepare() -> Path | None:
    """SQLite under var/bench/ (the database file, for its size), or with
    ``BENCH_IMPORT_POSTGRES`` (a server URL) a fresh database ``accord_bench_import``."""
    server = os.environ.get("BENCH_IMPORT_POSTGRES")
    if not server:
        return prepare(NAME)
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {POSTGRES_DATABASE}")
        connection.execute(f"CREATE DATABASE {POSTGRES_DATABASE}")
    os.environ["ACCORD_DATABASE_URL"] = f"{server}/{POSTGRES_DATABASE}"
    os.environ["ACCORD_MODE"] = "test"
    os.environ["ACCORD_VAR_DIR"] = str(BENCH_DIR / NAME)
    os.environ["DJANGO_SETTINGS_MODULE"] = "accord.settings"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    say(NAME, f"PostgreSQL database {POSTGRES_DATABASE} migrated")
    return None


def main() -> None:
    database = _prepare()
    from accord.audit import chain
    from accord.core.testing import build_county
    from accord.exchange.models import Notification
    from accord.exchange.tasks import deliver
    from accord.exchange.testing import jail_mou

    rows = int(os.environ.get("BENCH_IMPORT_ROWS", "100000"))
    people = int(os.environ.get("BENCH_IMPORT_PEOPLE", str(max(rows * 3 // 10, 10))))
    county = build_county()
    jail_mou(county)
    started = time.perf_counter()
    feed = BENCH_DIR / f"{NAME}-{'sqlite' if database else 'postgresql'}.csv"
    jail_truth = _write_feed(feed, rows, people)
    took = time.perf_counter() - started
    say(NAME, f"feed: {rows:,} bookings of {people:,} people written in {took:.1f} s")
    client_truth = _defender(county, people, max(people // 10, 1))
    subscribed = _subscriptions(county, client_truth)
    _run_import(feed, county.jail_officer.username, rows)
    _check_routing(county, jail_truth, client_truth, subscribed)
    started = time.perf_counter()
    ids = list(Notification.objects.values_list("pk", flat=True))
    for pk in ids:
        deliver(pk)
    took = time.perf_counter() - started
    delivered = Notification.objects.filter(delivered_at__isnull=False).count()
    say(
        NAME,
        f"delivery: {delivered:,} in-app in {took:.1f} s ({len(ids) / max(took, 1e-9):,.0f}/s)",
    )
    started = time.perf_counter()
    result = chain.verify()
    took = time.perf_counter() - started
    size = f"; database {database.stat().st_size / 1024**3:.2f} GiB" if database else ""
    say(
        NAME,
        f"audit chain: ok={result.ok} ({result.checked:,} events) verified in {took:.1f} s{size}",
    )
