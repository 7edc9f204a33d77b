"""Verifying a long audit chain: one million events (target: under 30 s)."""

from __future__ import annotations

import os
import time

from bench._setup import prepare, say, timed

NAME = "audit_verify"
TARGET_SECONDS = 30.0


def main() -> None:
    prepare(NAME)
    from accord.audit import chain
    from bench._chain import generate

    count = int(os.environ.get("BENCH_VERIFY_EVENTS", "1000000"))
    seconds = generate(count, agency_ids=range(1, 13))
    say(NAME, f"generated {count:,} chained events in {seconds:.1f} s ({count / seconds:,.0f}/s)")
    result: list[chain.Verification] = []
    cpu = time.process_time()
    seconds = timed(lambda: result.append(chain.verify()))
    cpu = time.process_time() - cpu
    verification = result[0]
    status = "intact" if verification.ok else f"BROKEN at #{verification.first_bad_seq}"
    say(
        NAME,
        f"verified {verification.checked:,} events in {seconds:.1f} s (CPU {cpu:.1f} s) "
        f"({verification.checked / seconds:,.0f} events/s), {status}; "
        f"target < {TARGET_SECONDS:.0f} s: {'met' if seconds < TARGET_SECONDS else 'MISSED'}",
    )


if __name__ == "__main__":
    main()
