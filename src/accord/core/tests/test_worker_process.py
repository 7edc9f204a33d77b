"""The background worker as a real process: a task enqueued inside an action's transaction
is picked up by `accord worker` running against the same database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test import RequestFactory
from django_tasks_db.models import DBTaskResult

from accord.accounts.actions import SignInResult, sign_in_with_password
from accord.accounts.identity import actor_for_user
from accord.core.testing import build_county


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgresql://{auth}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def _fail_sign_in(username: str) -> SignInResult:
    request = RequestFactory().post("/accounts/sign-in/")
    request.session = {}  # type: ignore[assignment]
    return sign_in_with_password(request, username, "not the password", actor=actor_for_user(None))


@pytest.mark.django_db(transaction=True)
def test_it_runs_an_enqueued_task_in_a_separate_worker_process(tmp_path: Path):
    county = build_county()
    results = [_fail_sign_in(county.defender_attorney.username) for _ in range(5)]
    assert results[-1] is SignInResult.LOCKED
    task = DBTaskResult.objects.get()
    assert task.status == "READY"

    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    env.update(
        ACCORD_MODE="test",
        ACCORD_DATABASE_URL=_database_url(),
        ACCORD_VAR_DIR=str(tmp_path),
        ACCORD_EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
    )
    accord = Path(sys.executable).parent / "accord"
    done = subprocess.run(
        [str(accord), "worker", "--batch", "--interval", "0.1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    task.refresh_from_db()
    assert task.status == "SUCCESSFUL"
    mail = "".join(p.read_text() for p in (tmp_path / "mail").iterdir())
    assert "locked after 5 failed sign-ins" in mail
    assert county.defender_admin.email in mail
