"""What every benchmark does first: a throwaway SQLite database of its own under var/bench/,
test-mode settings, Django set up and the database migrated."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "var" / "bench"


def prepare(name: str) -> Path:
    """Point Accord at a fresh ``var/bench/<name>.sqlite3``, set Django up and migrate."""
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    database = BENCH_DIR / f"{name}.sqlite3"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    os.environ["ACCORD_MODE"] = "test"
    os.environ["ACCORD_DATABASE_URL"] = f"sqlite:///{database}"
    os.environ["ACCORD_VAR_DIR"] = str(BENCH_DIR / name)
    os.environ["DJANGO_SETTINGS_MODULE"] = "accord.settings"
    import django
    from django.core.management import call_command

    django.setup()
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    say(
        name,
        f"database {database.relative_to(ROOT)} migrated in {time.perf_counter() - started:.1f} s",
    )
    return database


def say(name: str, text: str) -> None:
    print(f"[{name}] {text}", flush=True)


def percentile(samples: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (fraction in 0..1) of ``samples``."""
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


def latency_summary(samples_s: Sequence[float]) -> str:
    ms = [s * 1000 for s in samples_s]
    return (
        f"n={len(ms)} median {statistics.median(ms):.1f} ms, p95 {percentile(ms, 0.95):.1f} ms, "
        f"max {max(ms):.1f} ms"
    )


def timed(func: Callable[[], object]) -> float:
    started = time.perf_counter()
    func()
    return time.perf_counter() - started
