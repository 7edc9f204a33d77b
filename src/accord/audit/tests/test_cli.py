"""``accord audit verify`` and ``accord audit checkpoint``, against the tampering an intruder
with database access could do."""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import override_settings

from accord.audit import chain
from accord.audit.codes import AuditAction
from accord.audit.models import AuditCheckpoint, AuditEvent
from accord.audit.tests import tampering
from accord.core.actors import SYSTEM

ON_POSTGRESQL = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def _append(n: int) -> None:
    for i in range(n):
        chain.append(SYSTEM, "test.event", details={"i": i})


def _verify() -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``accord audit verify``."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit", "verify", stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_it_exits_zero_on_an_intact_log():
    _append(5)
    status, out, _err = _verify()
    assert status == 0
    assert "Audit log intact: 5 events verified" in out


@pytest.mark.django_db
def test_it_records_each_verification_in_the_log():
    _append(2)
    _verify()
    recorded = AuditEvent.objects.get(action=AuditAction.AUDIT_VERIFIED)
    assert recorded.actor_label.startswith("cli:")
    assert recorded.details == {
        "via": "cli",
        "ok": True,
        "checked": 2,
        "first_bad_seq": None,
        "reason": "",
    }


@pytest.mark.django_db
def test_it_names_an_edited_event():
    _append(5)
    tampering.tamper("UPDATE audit_auditevent SET object_label = %s WHERE seq = 3", ["x"])
    status, _out, err = _verify()
    assert status == 1
    assert "first bad event #3: content does not match its hash" in err


@pytest.mark.django_db
def test_it_names_a_deleted_event():
    _append(5)
    tampering.delete(2)
    status, _out, err = _verify()
    assert status == 1
    assert "first bad event #2: sequence gap" in err


@pytest.mark.django_db
def test_it_names_the_event_displaced_by_an_inserted_one():
    _append(5)
    tampering.insert_forged(at=3)
    status, _out, err = _verify()
    assert status == 1
    # The forged #3 links and hashes correctly; the original #3, now #4, no longer does.
    assert "first bad event #4" in err


@pytest.mark.django_db
def test_it_names_reordered_events():
    _append(5)
    tampering.swap(2, 4)
    status, _out, err = _verify()
    assert status == 1
    assert "first bad event #2" in err


@pytest.mark.django_db
def test_it_detects_a_truncated_tail_after_a_checkpoint():
    _append(5)
    call_command("audit", "checkpoint", stdout=io.StringIO())
    checkpoint = AuditCheckpoint.objects.get()
    assert checkpoint.seq == 6  # the event announcing the checkpoint is covered too
    tampering.delete(6)
    tampering.delete(5)
    status, _out, err = _verify()
    assert status == 1
    assert "first bad event #5: log ends before signed checkpoint #6" in err


@pytest.mark.django_db
def test_it_detects_a_rewritten_chain_signed_with_another_key():
    _append(5)
    call_command("audit", "checkpoint", stdout=io.StringIO())
    tampering.tamper("UPDATE audit_auditevent SET actor_label = %s WHERE seq = 2", ["mallory"])
    tampering.rehash_from(2)
    tampering.forge_checkpoint_over_head()
    status, _out, err = _verify()
    assert status == 1
    assert "checkpoint signature does not verify" in err


@pytest.mark.django_db
def test_it_detects_a_rewritten_chain_under_a_genuine_checkpoint():
    _append(5)
    call_command("audit", "checkpoint", stdout=io.StringIO())
    tampering.tamper("UPDATE audit_auditevent SET actor_label = %s WHERE seq = 2", ["mallory"])
    tampering.rehash_from(2)
    status, _out, err = _verify()
    assert status == 1
    assert "first bad event #6: differs from the signed checkpoint" in err


@pytest.mark.django_db
def test_it_signs_nothing_new_twice():
    _append(1)
    first, second = io.StringIO(), io.StringIO()
    call_command("audit", "checkpoint", stdout=first)
    call_command("audit", "checkpoint", stdout=second)
    assert "Signed checkpoint at event #2." in first.getvalue()
    assert "Nothing new to sign." in second.getvalue()
    assert AuditEvent.objects.filter(action=AuditAction.AUDIT_CHECKPOINT).count() == 1


@pytest.mark.django_db
def test_it_refuses_to_checkpoint_without_a_signing_key():
    _append(1)
    with override_settings(AUDIT_SIGNING_KEY=""), pytest.raises(CommandError, match="SIGNING_KEY"):
        call_command("audit", "checkpoint", stdout=io.StringIO())
    assert not AuditEvent.objects.filter(action=AuditAction.AUDIT_CHECKPOINT).exists()


@pytest.mark.skipif(not ON_POSTGRESQL, reason="the append-only trigger exists on PostgreSQL only")
@pytest.mark.django_db
def test_it_has_postgresql_refuse_a_plain_update_or_delete():
    _append(2)
    for sql in (
        "UPDATE audit_auditevent SET actor_label = 'mallory' WHERE seq = 1",
        "DELETE FROM audit_auditevent WHERE seq = 2",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert chain.verify().ok


def test_it_runs_as_a_real_command_against_its_own_database(tmp_path: Path):
    """Through the installed ``accord`` script, as an operator or a cron job would run it."""
    database = tmp_path / "audit.sqlite3"
    env = {
        **os.environ,
        "ACCORD_MODE": "test",
        "ACCORD_DATABASE_URL": f"sqlite:///{database}",
        "ACCORD_VAR_DIR": str(tmp_path),
    }
    accord = str(Path(sys.executable).parent / "accord")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [accord, *args], env=env, capture_output=True, text=True, timeout=120, check=False
        )

    assert run("migrate", "--no-input").returncode == 0
    appended = run(
        "shell",
        "-c",
        "from accord.audit import chain; from accord.core.actors import SYSTEM\n"
        "for i in range(5): chain.append(SYSTEM, 'test.event', details={'i': i})",
    )
    assert appended.returncode == 0, appended.stderr
    intact = run("audit", "verify")
    assert intact.returncode == 0, intact.stderr
    assert "Audit log intact: 5 events verified" in intact.stdout
    with sqlite3.connect(database) as db:
        db.execute("UPDATE audit_auditevent SET actor_label = 'mallory' WHERE seq = 3")
    tampered = run("audit", "verify")
    assert tampered.returncode == 1
    assert "first bad event #3" in tampered.stderr
