"""Run the benchmarks: ``python -m bench`` runs all, ``python -m bench audit_append`` one.

Each benchmark runs in a process of its own, since each points Django at a database of its
own before setting it up."""

from __future__ import annotations

import importlib
import os
import pkgutil
import platform
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

# Every module of this package not starting with "_" is a benchmark with a main(); these run
# first, in this order, and any others after them by name.
FIRST = ("audit_append", "audit_verify", "audit_log_page", "sign_in", "home_page")


def benchmarks() -> list[str]:
    found = {
        module.name
        for module in pkgutil.iter_modules([str(Path(__file__).parent)])
        if not module.name.startswith("_")
    }
    return [name for name in FIRST if name in found] + sorted(found - set(FIRST))


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def machine() -> str:
    return (
        f"{time.strftime('%Y-%m-%d %H:%M %Z')} · {os.cpu_count()} CPUs ({_cpu_model()}) · "
        f"{_memory_gib()} RAM · Python {platform.python_version()} · "
        f"SQLite {sqlite3.sqlite_version}"
    )


def main(argv: list[str]) -> int:
    known = benchmarks()
    unknown = [name for name in argv if name not in known]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(known)}")
        return 2
    if len(argv) == 1:
        if not os.environ.get("BENCH_CHILD"):
            print(f"machine: {machine()}", flush=True)
        importlib.import_module(f"bench.{argv[0]}").main()  # type: ignore[attr-defined]
        return 0
    print(f"machine: {machine()}", flush=True)
    failed = []
    for name in argv or known:
        started = time.perf_counter()
        completed = subprocess.run(  # noqa: S603 - ourselves
            [sys.executable, "-m", "bench", name],
            check=False,
            env={**os.environ, "BENCH_CHILD": "1"},
        )
        print(f"[{name}] finished in {time.perf_counter() - started:.0f} s", flush=True)
        if completed.returncode != 0:
            failed.append(name)
    if failed:
        print(f"benchmarks that did not complete: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
