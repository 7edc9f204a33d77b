"""Delivery by a real worker process against the test database: the task enqueued in the
ingest transaction is run by `accord worker --batch`; a worker killed with SIGKILL in the
middle of its work loses nothing and the inbox gets each notification once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from accord.accounts.identity import actor_for_user
from accord.core.testing import build_county
from accord.exchange.actions import ingest_event, set_preferences
from accord.exchange.models import DeliveryStatus, Notification
from accord.exchange.testing import (
    attorney_subscribes,
    booking,
    defender_client,
    jail_mou,
    minutes_ago,
)


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgresql://{auth}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def _worker(tmp_path: Path, *extra: str) -> list[str]:
    return [str(Path(sys.executable).parent / "accord"), "worker", "--interval", "0.1", *extra]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    env.update(
        ACCORD_MODE="test",
        ACCORD_DATABASE_URL=_database_url(),
        ACCORD_VAR_DIR=str(tmp_path),
        ACCORD_EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
    )
    return env


def _routed(count: int) -> None:
    county = build_county()
    jail_mou(county)
    attorney_subscribes(county, defender_client(county))
    set_preferences(
        actor=actor_for_user(county.defender_attorney),
        email=True,
        quiet_from=None,
        quiet_until=None,
    )
    for i in range(count):
        ingest_event(
            county.jail,
            "custody.booked",
            booking(booking_number=f"B-{i}"),
            f"k-{i}",
            minutes_ago(10),
            actor=actor_for_user(county.jail_officer),
        )


@pytest.mark.django_db(transaction=True)
def test_it_delivers_through_a_separate_worker_process(tmp_path: Path):
    _routed(3)
    done = subprocess.run(
        [*_worker(tmp_path), "--batch"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    statuses = list(Notification.objects.values_list("status", flat=True))
    assert statuses == [DeliveryStatus.DELIVERED] * 3
    mails = list((tmp_path / "mail").iterdir())
    assert "Booked into custody" in "".join(p.read_text() for p in mails)


@pytest.mark.django_db(transaction=True)
def test_it_loses_and_duplicates_nothing_when_the_worker_is_killed(tmp_path: Path):
    _routed(20)
    env = _env(tmp_path)
    for _ in range(3):
        worker = subprocess.Popen(
            _worker(tmp_path), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(2.5)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    # Tasks a killed worker had claimed stay "running" in the queue: the outbox's safety net
    # (redeliver_stalled, hourly) enqueues them again; here, do it now.
    from accord.exchange.tasks import deliver_notification

    for pk in Notification.objects.exclude(status=DeliveryStatus.DELIVERED).values_list(
        "pk", flat=True
    ):
        deliver_notification.enqueue(pk)
    done = subprocess.run(
        [*_worker(tmp_path), "--batch"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = list(Notification.objects.values_list("event_id", "recipient_id", "status"))
    assert len(rows) == 20
    assert len({(e, r) for e, r, _ in rows}) == 20
    assert {s for _, _, s in rows} == {DeliveryStatus.DELIVERED}
    assert Notification.objects.filter(delivered_at__isnull=True).count() == 0
