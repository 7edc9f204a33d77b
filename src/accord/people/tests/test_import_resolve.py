"""Bulk import with a report of every bad row, and resolving a CSV without the database."""

import csv
import io
from itertools import combinations

import pytest
from django.core.management import call_command

from accord.audit.codes import AuditAction
from accord.audit.models import AuditEvent
from accord.people.csvio import RECORD_COLUMNS
from accord.people.matching import Party, find_matches
from accord.people.models import PersonAlias, PersonLink, PersonRecord
from accord.people.synthetic import Synthesizer

HEADER = "source_id,first_name,middle_name,last_name,date_of_birth,ssn_last4,aliases\n"


def _import(path, *args):
    out, err = io.StringIO(), io.StringIO()
    code: str | int | None = 0
    try:
        call_command(
            "people", "import", str(path), "--source", "TPD", *args, stdout=out, stderr=err
        )
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_import_keeps_good_rows_and_reports_every_bad_one(county, tmp_path):
    path = tmp_path / "records.csv"
    path.write_text(
        HEADER
        + "C-1,Robert,J,Nguyen,1980-02-03,1234,Bobby Win; Rob Nguyen-Tran\n"
        + "C-2,,,Missing,1980-02-03,,\n"
        + "C-3,Ana,,Rivera,03/04/1990,,\n"
        + "C-4,Luis,,Ortega,,12345,\n"
        + "C-5,Maria,,Garcia Lopez,1985-11-20,,\n"
        + "C-5,Maria,,Garcia,1985-11-20,,\n",
        encoding="utf-8",
    )
    code, out, err = _import(path, "--batch-size", "1", "--link", "no")
    assert code == 0
    assert "line 3: first_name: required" in err
    assert "line 4: date_of_birth: not a date (use YYYY-MM-DD)" in err
    assert "line 5: identifiers.ssn_last4: exactly the last 4 digits" in err
    assert "line 7: source_id: repeats line 6" in err
    assert "2 created, 0 updated, 0 unchanged, 4 bad rows" in out
    robert = PersonRecord.objects.get(source_id="C-1")
    assert robert.identifiers == {"ssn_last4": "1234"}
    assert set(PersonAlias.objects.filter(record=robert).values_list("last_name", flat=True)) == {
        "Win",
        "Nguyen-Tran",
    }
    # Filed for conflict checks straight away, aliases included.
    found = find_matches(county.agencies["defender"].pk, Party("Bobby", "Win"))
    assert [m.record_id for m in found] == [robert.pk]
    events = AuditEvent.objects.filter(action=AuditAction.PEOPLE_IMPORTED)
    assert events.count() == 2  # one per batch
    assert events.values_list("details", flat=True)[0]["file"] == "records.csv"


@pytest.mark.django_db
def test_import_again_updates_changed_rows_only_and_links_now(county, tmp_path):
    path = tmp_path / "records.csv"
    path.write_text(HEADER + "C-1,Robert,,Nguyen,1980-02-03,,\nC-2,Ana,,Rivera,,,\n", "utf-8")
    _import(path, "--link", "no")
    path.write_text(HEADER + "C-1,Robert,,Nguyen,1980-02-03,,\nC-2,Anna,,Rivera,,,\n", "utf-8")
    code, out, _err = _import(path, "--link", "now")
    assert code == 0
    assert "0 created, 1 updated, 1 unchanged" in out
    assert PersonLink.objects.count() == 2


@pytest.mark.django_db
def test_import_refuses_rows_of_another_source(county, tmp_path):
    path = tmp_path / "records.csv"
    path.write_text("source,source_id,first_name,last_name\nTCJ,J-1,A,B\nTPD,P-1,C,D\n", "utf-8")
    _code, out, err = _import(path, "--link", "no")
    assert "line 2: source: TCJ is not TPD" in err
    assert "1 created" in out


@pytest.mark.django_db
def test_import_queues_linking_by_default(county, tmp_path, django_capture_on_commit_callbacks):
    path = tmp_path / "records.csv"
    path.write_text(HEADER + "C-1,Robert,,Nguyen,1980-02-03,,\n", "utf-8")
    with django_capture_on_commit_callbacks(execute=True):
        _code, out, _err = _import(path)
    assert "linking queued" in out


def test_resolve_links_a_csv_without_touching_the_database(tmp_path):
    rows = Synthesizer(seed=11).agency_records(600)
    records = tmp_path / "records.csv"
    with records.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=[*RECORD_COLUMNS, "person_id"])
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in writer.fieldnames})
    out = io.StringIO()
    call_command(
        "people",
        "resolve",
        "--input",
        str(records),
        "--output",
        str(tmp_path / "links.csv"),
        stdout=out,
    )
    assert "600 records resolved into" in out.getvalue()
    with (tmp_path / "links.csv").open(encoding="utf-8") as stream:
        links = list(csv.DictReader(stream))
    assert list(links[0]) == [
        "source",
        "source_id",
        "person",
        "person_size",
        "best_match",
        "match_probability",
        "match_weight",
    ]
    truth = {(r["source"], r["source_id"]): r["person_id"] for r in rows}
    by_person: dict[str, list[str]] = {}
    for link in links:
        by_person.setdefault(link["person"], []).append(truth[(link["source"], link["source_id"])])
    pairs = [(a == b) for members in by_person.values() for a, b in combinations(members, 2)]
    assert pairs
    assert sum(pairs) / len(pairs) >= 0.98  # linked pairs are the same person


def test_resolve_reports_bad_rows_by_line(tmp_path):
    records = tmp_path / "records.csv"
    records.write_text(
        "source,source_id,first_name,last_name,date_of_birth\n"
        "A,1,John,Smith,1990-03-04\nA,2,,Smith,\nB,1,Jon,Smith,1990-13-04\n"
        "B,2,John,Smyth,1990-03-04\nA,1,John,Smith,1990-03-04\n",
        encoding="utf-8",
    )
    err = io.StringIO()
    call_command(
        "people",
        "resolve",
        "--input",
        str(records),
        "--output",
        str(tmp_path / "links.csv"),
        stderr=err,
        stdout=io.StringIO(),
    )
    assert "line 3: first_name: required" in err.getvalue()
    assert "line 4: date_of_birth: not a date" in err.getvalue()
    assert "line 6: source_id: repeats an earlier line" in err.getvalue()
