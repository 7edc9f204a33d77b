"""Load for the exchange throughput benchmarks: a served Accord (a real HTTP server and real
worker processes or threads, started here as subprocesses), bookings posted to it over
HTTP one by one and in batches, and the time from each post to the in-app notification.

The scenario: 50 defender clients, each subscribed to by the attorney under the jail's
agreement; bookings about them (routed, notified) mixed with bookings about people nobody
has seen before (``BENCH_EXCHANGE_NEW_SHARE``, default 0.2: recorded and linked by the
people app, routed to nobody). Latency is measured from just before the POST that carried
the event left the client to the notification's ``delivered_at``: ingest, commit, the
worker's poll interval and its delivery.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench._setup import latency_summary, say

FIRST = ["Ana", "Ben", "Cara", "Dev", "Eli", "Faye", "Gus", "Hana", "Ivo", "Jun"]
LAST = ["Okafor", "Lindqvist", "Moreau", "Tanaka", "Haddad"]
STRANGER_FIRST = ["Rosa", "Theo", "Uma", "Viktor", "Wren", "Xavi", "Yara", "Zeb", "Ines", "Omar"]
STRANGER_LAST = ["Abara", "Brandt", "Castillo", "Dorsey", "Eklund", "Farouk", "Greer", "Holm"]
CLIENTS = 50


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)))


def client_person(i: int) -> dict[str, str]:
    """Distinct people (names and birth dates), so identity resolution keeps them apart."""
    return {
        "first_name": FIRST[i % 10],
        "last_name": LAST[i // 10 % 5],
        "date_of_birth": f"19{60 + i % 40}-{1 + i % 12:02d}-{1 + i % 28:02d}",
    }


def stranger(i: int) -> dict[str, str]:
    """Someone nobody has recorded yet (a new subject: linked by the model)."""
    rng = random.Random(i)
    return {
        "first_name": rng.choice(STRANGER_FIRST),
        "last_name": rng.choice(STRANGER_LAST),
        "date_of_birth": f"19{50 + rng.randrange(50)}-{rng.randrange(1, 13):02d}-"
        f"{rng.randrange(1, 29):02d}",
    }


def build_scenario() -> str:
    """The county, the jail's agreement, the subscribed clients; returns the jail's token."""
    from django.db import connections

    from accord.core.testing import build_county
    from accord.exchange.testing import attorney_subscribes, defender_client, jail_mou, token_for

    county = build_county()
    jail_mou(county)
    for i in range(CLIENTS):
        attorney_subscribes(county, defender_client(county, f"D-{i}", **client_person(i)))
    token = token_for(county, "jail", ["events:write"])
    connections.close_all()
    return token


@dataclass
class Load:
    """Posts events to a served Accord and remembers when each left."""

    port: int
    token: str
    new_share: float
    sent_at: dict[str, float] = field(default_factory=dict)
    notified: set[str] = field(default_factory=set)
    counter: int = 0

    def __post_init__(self) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        self.rng = random.Random(7)

    def event(self, prefix: str) -> dict[str, Any]:
        self.counter += 1
        key = f"{prefix}-{self.counter}"
        if self.rng.random() < self.new_share:
            subject = {"source_id": f"S-{key}", **stranger(self.counter)}
        else:
            n = self.rng.randrange(CLIENTS)
            subject = {"source_id": f"J-{n}", **client_person(n)}
            self.notified.add(key)
        return {
            "event_type": "custody.booked",
            "idempotency_key": key,
            "occurred_at": datetime.now(UTC).isoformat(),
            "payload": {"subject": subject, "booking_number": key, "facility": "Main jail"},
        }

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        data = json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        try:
            self.connection.request("POST", path, body=data, headers=headers)
            response = self.connection.getresponse()
        except (ConnectionError, http.client.HTTPException):
            # The server closed an idle keep-alive connection: post again (the idempotency
            # keys make a repeat harmless).
            self.connection.close()
            self.connection.request("POST", path, body=data, headers=headers)
            response = self.connection.getresponse()
        payload = response.read()
        if response.status not in (200, 201):
            raise RuntimeError(f"POST {path}: {response.status} {payload[:500]!r}")
        result: dict[str, Any] = json.loads(payload)
        return result

    def single(self, count: int, prefix: str) -> tuple[float, list[float]]:
        """``count`` events, one request each, as fast as answers come back."""
        samples = []
        started = time.perf_counter()
        for _ in range(count):
            body = self.event(prefix)
            self.sent_at[body["idempotency_key"]] = time.time()
            t0 = time.perf_counter()
            self.post("/api/v1/events", body)
            samples.append(time.perf_counter() - t0)
        return time.perf_counter() - started, samples

    def batches(self, count: int, size: int, rate: float, prefix: str) -> tuple[float, list[float]]:
        """``count`` events in batches of ``size``, at ``rate`` events/s (0: flat out)."""
        samples = []
        started = time.perf_counter()
        sent = 0
        while sent < count:
            if rate:
                due = started + sent / rate
                time.sleep(max(0.0, due - time.perf_counter()))
            events = [self.event(prefix) for _ in range(min(size, count - sent))]
            now = time.time()
            for body in events:
                self.sent_at[body["idempotency_key"]] = now
            t0 = time.perf_counter()
            answer = self.post("/api/v1/events/batch", {"events": events})
            samples.append(time.perf_counter() - t0)
            if answer["created"] != len(events):
                raise RuntimeError(f"batch not all created: {answer['items'][:3]}")
            sent += len(events)
        return time.perf_counter() - started, samples


def wait_for(port: int, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answered on port {port}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(commands: Sequence[Sequence[str]], env: dict[str, str], log_dir: Path) -> list[Any]:
    log_dir.mkdir(parents=True, exist_ok=True)
    processes = []
    for i, command in enumerate(commands):
        log = (log_dir / f"process-{i}.log").open("w")
        processes.append(
            subprocess.Popen(  # noqa: S603 - our own commands
                list(command), env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        )
    return processes


def stop(processes: Sequence[Any]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def accord(*args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "accord"), *args]


def drain(keys: set[str], seconds: float) -> dict[str, float]:
    """Wait until every notification of these events is in its inbox; their delivery times
    (Unix seconds) by idempotency key."""
    from django.db import connections

    from accord.exchange.models import Notification

    deadline = time.monotonic() + seconds
    found: dict[str, float] = {}
    while True:
        rows = Notification.objects.filter(
            event__idempotency_key__in=list(keys - set(found)), delivered_at__isnull=False
        ).values_list("event__idempotency_key", "delivered_at")
        found.update({key: when.timestamp() for key, when in rows})
        connections.close_all()
        if len(found) == len(keys) or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def report(
    name: str, what: str, load: Load, prefix: str, *, elapsed: float, posts: list[float]
) -> None:
    """Throughput, request latency, and post-to-inbox latency of one phase."""
    count = sum(1 for key in load.sent_at if key.startswith(f"{prefix}-"))
    keys = {key for key in load.notified if key.startswith(f"{prefix}-")}
    say(name, f"{what}: {count} events in {elapsed:.1f} s = {count / elapsed:.0f} events/s")
    say(name, f"{what}: request latency {latency_summary(posts)}")
    delivered = drain(keys, seconds=max(60.0, elapsed * 3))
    waits = [delivered[key] - load.sent_at[key] for key in delivered]
    if waits:
        say(name, f"{what}: post-to-inbox {latency_summary(waits)}")
    missing = len(keys) - len(delivered)
    if missing:
        say(name, f"{what}: {missing} of {len(keys)} notifications not delivered in time")


def run_phases(name: str, port: int, token: str) -> None:
    """Warm up, then single posts, batches at the target rate, batches flat out, and
    batches flat out from ``BENCH_EXCHANGE_SENDERS`` (2) senders at once."""
    single = env_int("BENCH_EXCHANGE_SINGLE", 300)
    batched = env_int("BENCH_EXCHANGE_BATCHED", 2000)
    size = env_int("BENCH_EXCHANGE_BATCH", 50)
    rate = env_int("BENCH_EXCHANGE_RATE", 200)
    share = float(os.environ.get("BENCH_EXCHANGE_NEW_SHARE", "0.2"))
    load = Load(port, token, share)
    elapsed, posts = load.batches(100, size, 0, "warm")
    drain({k for k in load.notified if k.startswith("warm-")}, 120)
    say(name, f"warm-up: 100 events in {elapsed:.1f} s (the first model scoring builds its SQL)")
    if single:
        elapsed, posts = load.single(single, "one")
        report(name, "single posts", load, "one", elapsed=elapsed, posts=posts)
    if batched and rate:
        elapsed, posts = load.batches(batched, size, rate, "paced")
        report(name, f"batches of {size} at {rate}/s", load, "paced", elapsed=elapsed, posts=posts)
    if batched:
        elapsed, posts = load.batches(batched, size, 0, "flat")
        report(name, f"batches of {size} flat out", load, "flat", elapsed=elapsed, posts=posts)
    senders = env_int("BENCH_EXCHANGE_SENDERS", 2)
    if batched and senders > 1:
        elapsed, posts = concurrent(load, senders, batched, size)
        what = f"{senders} senders, batches of {size} flat out"
        report(name, what, load, "many", elapsed=elapsed, posts=posts)


def concurrent(load: Load, senders: int, count: int, size: int) -> tuple[float, list[float]]:
    """``count`` events in batches from ``senders`` clients at once (agencies post at the
    same time), each on its own connection; their posts are added to ``load``."""
    loads = [Load(load.port, load.token, load.new_share) for _ in range(senders)]
    results: list[list[float]] = [[] for _ in loads]
    failures: list[BaseException] = []

    def send(i: int) -> None:
        try:
            results[i] = loads[i].batches(count // senders, size, 0, f"many-{i}")[1]
        except Exception as exc:  # raised again in the main thread
            failures.append(exc)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(senders)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise failures[0]
    for other in loads:
        load.sent_at.update(other.sent_at)
        load.notified |= other.notified
    return elapsed, [sample for samples in results for sample in samples]
