"""The client page with 20 cases and 200 court events (target: p95 under 150 ms over 200
renders), and an attorney's case list with thousands of cases: the list, a search, a
filter, the next-court-date order, and the API's first page. Requests go through the
Django test Client, signed in (``accord.core.testing.sign_in_directly``).

``BENCH_CASES_LIST`` sets the attorney's caseload (default 5,000 cases), and
``BENCH_CASES_REQUESTS`` the renders per page (default 200)."""

from __future__ import annotations

import os
import time
from datetime import date, timedelta

from bench._setup import latency_summary, percentile, prepare, say

NAME = "cases_client_page"
TARGET_P95_MS = 150.0
CASES, EVENTS_PER_CASE = 20, 10
BATCH = 1000


def _client_with_history(county, attorney_id: int) -> int:
    """One client with 20 cases in one court, 10 court dates each (200 in all)."""
    from django.utils import timezone

    from accord.cases.bulk.actions import (
        CaseIn,
        ChargeIn,
        ClientIn,
        EventIn,
        PartyIn,
        PersonIn,
        TeamIn,
        load_caseload,
    )
    from accord.cases.models import CaseType, Client
    from accord.core.actors import SYSTEM

    case_type = CaseType.objects.get(standard="NPDWS-2023", code="felony_low").pk
    today = timezone.localdate()
    now = timezone.now()
    cases = []
    for n in range(CASES):
        opened = today - timedelta(days=700 - 30 * n)
        is_open = n >= CASES - 4
        case = CaseIn(
            number=f"{opened.year}-CF-{n:06d}",
            court_id=county.agencies["court"].pk,
            case_type_id=case_type,
            opened_on=opened,
            charges=[
                ChargeIn("HCS 13-1802", "Theft", "felony", "Class 6"),
                ChargeIn("HCS 13-1502", "Criminal trespass", "misdemeanor", "Class 3"),
            ],
            parties=[PartyIn("victim", PersonIn("Vic", f"Tim{n}"))],
            team=[TeamIn(attorney_id, "attorney", opened)],
            events=[
                EventIn(
                    "pretrial",
                    now + timedelta(days=(k + 1) * 7) if is_open else now - timedelta(days=400 - k),
                    "Courtroom 2A",
                    "scheduled" if is_open else "held",
                )
                for k in range(EVENTS_PER_CASE)
            ],
        )
        if not is_open:
            case.status, case.closed_on = "closed", opened + timedelta(days=90)
            case.disposition, case.disposition_on = "dismissed", opened + timedelta(days=90)
        cases.append(case)
    client = ClientIn(
        number="HC-BENCH",
        person=PersonIn("Jordan", "Reyes", date_of_birth=date(1990, 3, 4)),
        cases=cases,
    )
    load_caseload(county.agencies["defender"], [client], actor=SYSTEM, link=False)
    return int(Client.objects.get(number="HC-BENCH").pk)


def _caseload(county, attorney_id: int, count: int) -> float:
    """``count`` more clients with one case each, all the attorney's; seconds taken."""
    from django.utils import timezone

    from accord.cases.bulk.actions import (
        CaseIn,
        ChargeIn,
        ClientIn,
        EventIn,
        PersonIn,
        TeamIn,
        load_caseload,
    )
    from accord.cases.models import CaseType
    from accord.core.actors import SYSTEM

    case_type = CaseType.objects.get(standard="NPDWS-2023", code="misdemeanor_low").pk
    today = timezone.localdate()
    now = timezone.now()
    started = time.perf_counter()
    for start in range(0, count, BATCH):
        clients = []
        for n in range(start, min(count, start + BATCH)):
            opened = today - timedelta(days=n % 900)
            clients.append(
                ClientIn(
                    number=f"HC-{n:06d}",
                    person=PersonIn(
                        f"Client{n}",
                        f"Surname{n % 997}",
                        date_of_birth=date(1960 + n % 40, 1 + n % 12, 1 + n % 28),
                    ),
                    cases=[
                        CaseIn(
                            number=f"{opened.year}-MM-{n:06d}",
                            court_id=county.agencies["court"].pk,
                            case_type_id=case_type,
                            opened_on=opened,
                            charges=[ChargeIn("HCS 13-2904", "Disorderly conduct", "misdemeanor")],
                            team=[TeamIn(attorney_id, "attorney", opened)],
                            events=[EventIn("pretrial", now + timedelta(hours=n % 2000), "1B")],
                        )
                    ],
                )
            )
        load_caseload(county.agencies["defender"], clients, actor=SYSTEM, link=False)
    return time.perf_counter() - started


def _time(client, url: str, requests: int) -> list[float]:
    for _ in range(10):  # warm up: templates compiled, caches filled
        assert client.get(url).status_code == 200
    latencies = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        latencies.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
    return latencies


def main() -> None:
    prepare(NAME)
    from django.test import Client

    from accord.core.testing import build_county, profile_of, sign_in_directly

    requests = int(os.environ.get("BENCH_CASES_REQUESTS", "200"))
    caseload = int(os.environ.get("BENCH_CASES_LIST", "5000"))
    county = build_county()
    attorney = county.defender_attorney
    attorney_id = profile_of(attorney).pk
    client_id = _client_with_history(county, attorney_id)
    browser = sign_in_directly(Client(), attorney)

    latencies = _time(browser, f"/cases/clients/{client_id}/", requests)
    p95 = percentile(latencies, 0.95) * 1000
    say(
        NAME,
        f"client page, {CASES} cases and {CASES * EVENTS_PER_CASE} court events: "
        f"{latency_summary(latencies)} (target p95 < {TARGET_P95_MS:.0f} ms: "
        f"{'met' if p95 < TARGET_P95_MS else 'MISSED'})",
    )

    seconds = _caseload(county, attorney_id, caseload)
    say(
        NAME,
        f"{caseload} more cases loaded in {seconds:.1f} s "
        f"({caseload / seconds:.0f} cases/s, batches of {BATCH})",
    )
    for label, url in (
        ("case list", "/cases/"),
        ("case list, last page", f"/cases/?page={caseload // 25}"),
        ("case list, search", "/cases/?q=surname42"),
        ("case list, next court date order", "/cases/?sort=next"),
        ("case list, open misdemeanors", "/cases/?status=open&conflict=&sort=opened"),
        ("API case list, first page", "/api/v1/cases/cases"),
    ):
        latencies = _time(browser, url, max(20, requests // 4))
        say(NAME, f"{label} of {caseload + CASES} cases ({url}): {latency_summary(latencies)}")


if __name__ == "__main__":
    main()
