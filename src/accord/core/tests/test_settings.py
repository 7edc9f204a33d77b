"""Production refuses to start without its secrets, and names the variable to set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

GOOD_KEY = "k" * 64
GOOD_FIELD_KEYS = "k1:" + "A" * 43 + "="


def _check(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    clean.update(
        {
            "ACCORD_MODE": "production",
            "ACCORD_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "ACCORD_VAR_DIR": str(tmp_path),
            **env,
        }
    )
    accord = Path(sys.executable).parent / "accord"
    return subprocess.run(
        [str(accord), "check"], env=clean, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({}, "ACCORD_SECRET_KEY"),
        ({"ACCORD_SECRET_KEY": "change-me"}, "ACCORD_SECRET_KEY"),
        ({"ACCORD_SECRET_KEY": "short"}, "ACCORD_SECRET_KEY"),
        ({"ACCORD_SECRET_KEY": GOOD_KEY}, "ACCORD_FIELD_KEYS"),
        (
            {"ACCORD_SECRET_KEY": GOOD_KEY, "ACCORD_FIELD_KEYS": GOOD_FIELD_KEYS},
            "ACCORD_ALLOWED_HOSTS",
        ),
    ],
)
def test_it_refuses_to_start_production_without_a_secret(env, names, tmp_path):
    result = _check(env, tmp_path)
    assert result.returncode != 0
    assert names in result.stderr


def test_it_starts_production_with_its_secrets_from_files(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text(GOOD_KEY)
    result = _check(
        {
            "ACCORD_SECRET_KEY_FILE": str(secret),
            "ACCORD_FIELD_KEYS": GOOD_FIELD_KEYS,
            "ACCORD_ALLOWED_HOSTS": "accord.example.org",
        },
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
