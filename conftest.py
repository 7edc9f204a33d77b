"""Shared pytest fixtures: the test county and its personas (see accord.core.testing)."""

from __future__ import annotations

import os

os.environ.setdefault("ACCORD_MODE", "test")
if os.environ.get("ACCORD_TEST_DATABASE_URL"):
    os.environ["ACCORD_DATABASE_URL"] = os.environ["ACCORD_TEST_DATABASE_URL"]

import pytest


@pytest.fixture
def county(db):
    from accord.core.testing import build_county

    return build_county()
