"""The command line: ``accord conflicts check`` and ``accord people`` through call_command,
and once as a real process."""

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accord.people.models import ConflictCheck

pytestmark = pytest.mark.django_db


def _write(path, header, rows):
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_conflicts_check_writes_hits_and_reports_bad_rows(county, known, tmp_path):
    parties = _write(
        tmp_path / "parties.csv",
        ["first_name", "last_name", "date_of_birth", "role"],
        [
            ["Bill", "Harper", "1990-03-04", "witness"],
            ["", "Nobody", "", ""],
            ["Mary", "Lopez", "1985-11-20", "victim"],
            ["Ann", "Other", "not a date", ""],
        ],
    )
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_code:
        call_command(
            "conflicts",
            "check",
            "--input",
            str(parties),
            "--output",
            str(tmp_path / "hits.csv"),
            "--agency",
            "TPD",
            stdout=out,
            stderr=err,
        )
    assert exit_code.value.code == 1
    assert "line 3: first_name: required" in err.getvalue()
    assert "line 5: date_of_birth: not a date" in err.getvalue()
    with (tmp_path / "hits.csv").open(encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    by_row = {r["row"]: r for r in rows}
    assert by_row["2"]["record_source_id"] == "PD-1"
    assert by_row["2"]["explanation"] == "nickname + exact DOB"
    assert by_row["2"]["roles"] == "former client in 2019-CF-0042"
    assert by_row["4"]["record_source_id"] == "PD-2"
    check = ConflictCheck.objects.get()
    assert check.source == "command"
    assert check.candidate_count == 2


def test_conflicts_check_refuses_an_unknown_agency(county, tmp_path):
    parties = _write(tmp_path / "p.csv", ["first_name", "last_name"], [["A", "B"]])
    with pytest.raises(CommandError, match="No agency"):
        call_command(
            "conflicts", "check", "--input", str(parties), "--output", "-", "--agency", "NOPE"
        )


def test_conflicts_check_as_a_person_of_another_agency_is_refused(county, known, tmp_path):
    parties = _write(tmp_path / "p.csv", ["first_name", "last_name"], [["William", "Harper"]])
    with pytest.raises(CommandError, match="Only this agency"):
        call_command(
            "conflicts",
            "check",
            "--input",
            str(parties),
            "--output",
            "-",
            "--agency",
            "TPD",
            "--as",
            "jail_officer",
        )


def test_conflicts_check_neutralises_formulas_in_its_output(county, tmp_path):
    from accord.core.actors import SYSTEM
    from accord.people.actions import record_person

    record_person(
        county.agencies["defender"],
        "=HYPERLINK(1)",
        actor=SYSTEM,
        link=False,
        first_name="Eve",
        last_name="Adams",
    )
    parties = _write(tmp_path / "p.csv", ["first_name", "last_name"], [["Eve", "Adams"]])
    out = io.StringIO()
    call_command(
        "conflicts",
        "check",
        "--input",
        str(parties),
        "--output",
        "-",
        "--agency",
        "TPD",
        stdout=out,
    )
    assert "'=HYPERLINK(1)" in out.getvalue()


def test_the_real_command_checks_a_file(tmp_path):
    """One real process: the installed ``accord`` entry point, its own database."""
    database = tmp_path / "cli.sqlite3"
    env = {
        **os.environ,
        "ACCORD_MODE": "test",
        "ACCORD_DATABASE_URL": f"sqlite:///{database}",
        "ACCORD_VAR_DIR": str(tmp_path / "var"),
    }
    accord = str(Path(sys.executable).with_name("accord"))

    def run(*args, check=True):
        return subprocess.run(
            [accord, *args],
            env=env,
            capture_output=True,
            text=True,
            check=check,
            timeout=300,
        )

    run("migrate", "--verbosity", "0")
    script = (
        "from accord.core.actors import SYSTEM\n"
        "from accord.directory.actions import create_agency\n"
        "from accord.people.actions import record_person\n"
        "pd = create_agency(actor=SYSTEM, name='PD', short_name='PD', kind='public_defender',"
        " jurisdiction='X')\n"
        "record_person(pd, 'C-1', actor=SYSTEM, link=False, first_name='Robert',"
        " last_name='Nguyen', date_of_birth='1980-02-03')\n"
    )
    run("shell", "-c", script)
    parties = _write(
        tmp_path / "parties.csv",
        ["first_name", "last_name", "date_of_birth"],
        [["Bob", "Nguyen", "1980-03-02"]],
    )
    done = run(
        "conflicts",
        "check",
        "--input",
        str(parties),
        "--output",
        str(tmp_path / "hits.csv"),
        "--agency",
        "PD",
    )
    assert "1 parties, 1 hits" in done.stdout
    hits = (tmp_path / "hits.csv").read_text(encoding="utf-8")
    assert "nickname + DOB day/month swapped" in hits
