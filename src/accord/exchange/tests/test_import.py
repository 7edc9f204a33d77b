"""Bulk feeds: CSV and JSON lines, a report of every rejected line, safe re-runs."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from accord.exchange.importer import server_advice, shared_buffers
from accord.exchange.models import Event
from accord.exchange.testing import minutes_ago

HEADER = (
    "event_type,idempotency_key,occurred_at,booking_number,facility,charges,"
    "subject.source_id,subject.first_name,subject.last_name,subject.date_of_birth"
)
CSV = (
    HEADER
    + """
custody.booked,b-1,{t},B-1,Main jail,Theft;Trespass,J-1,Jordan,Avery,1990-04-12
custody.booked,b-2,{t},B-2,,,J-2,Sam,Reyes,1988-01-02
custody.booked,b-3,yesterday,B-3,Main jail,,J-3,Lee,Park,
custody.released,b-4,{t},B-1,,,J-1,Jordan,Avery,1990-04-12
"""
)


def test_it_imports_good_rows_and_reports_bad_ones_by_line(county, tmp_path: Path):
    path = tmp_path / "bookings.csv"
    path.write_text(CSV.format(t=minutes_ago(10).isoformat()))
    out, err = StringIO(), StringIO()
    call_command("import", "events", str(path), "--as", "jail_officer", stdout=out, stderr=err)
    assert "2 created, 0 already taken, 2 rejected" in out.getvalue()
    assert "line 3: payload.facility: required" in err.getvalue()
    assert "line 4: occurred_at" in err.getvalue()
    booked = Event.objects.get(idempotency_key="b-1")
    assert booked.payload["charges"] == ["Theft", "Trespass"]
    assert booked.payload["subject"]["last_name"] == "Avery"

    again = StringIO()
    call_command(
        "import", "events", str(path), "--as", "jail_officer", stdout=again, stderr=StringIO()
    )
    assert "0 created, 2 already taken, 2 rejected" in again.getvalue()
    assert Event.objects.count() == 2


def test_it_imports_json_lines(county, tmp_path: Path):
    good = {
        "event_type": "court.hearing_scheduled",
        "idempotency_key": "h-1",
        "occurred_at": minutes_ago(5).isoformat(),
        "payload": {
            "subject": {"source_id": "C-9", "first_name": "Jordan", "last_name": "Avery"},
            "case_reference": "2026-CF-1",
            "hearing_at": "2026-12-01T09:00:00-06:00",
        },
    }
    path = tmp_path / "court.jsonl"
    path.write_text(json.dumps(good) + "\n{not json\n")
    out, err = StringIO(), StringIO()
    call_command("import", "events", str(path), "--as", "court_clerk", stdout=out, stderr=err)
    assert "1 created" in out.getvalue()
    assert "line 2: not JSON" in err.getvalue()


def test_it_advises_a_bigger_buffer_pool_only_when_the_server_has_a_small_one():
    note = server_advice(128 * 1024**2)
    assert note is not None
    assert "shared_buffers is 128 MB" in note
    assert "README" in note
    assert server_advice(6 * 1024**3) is None
    assert server_advice(None) is None


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's own setting")
def test_it_reads_the_servers_buffer_pool_on_postgresql():
    with connection.cursor() as cursor:
        cursor.execute("SHOW shared_buffers")
        shown = cursor.fetchone()[0]
    units = {"kB": 1024, "MB": 1024**2, "GB": 1024**3}
    number, unit = int(shown.rstrip("kMGB")), shown.lstrip("0123456789")
    assert shared_buffers() == number * units[unit]


@pytest.mark.django_db
@pytest.mark.skipif(
    connection.vendor == "postgresql", reason="other databases have no such setting"
)
def test_it_has_no_buffer_pool_advice_for_sqlite():
    assert shared_buffers() is None
