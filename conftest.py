"""Shared pytest fixtures: the test county and its personas (see accord.core.testing)."""

from __future__ import annotations

import os
from pathlib import Path

# The environment for tests is set by the plugin accord.testenv (pyproject addopts), which
# loads before pytest-django reads the settings.
import pytest


@pytest.fixture
def county(db):
    from accord.core.testing import build_county

    return build_county()


# --- browser tests ------------------------------------------------------------------------
# Playwright for Python drives the system Chromium (never a downloaded browser). Without
# Chromium the browser tests skip, unless ACCORD_REQUIRE_BROWSER=1 (CI), where they fail.

CHROMIUM = os.environ.get("ACCORD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("ACCORD_REQUIRE_BROWSER") == "1":
            pytest.fail(f"ACCORD_REQUIRE_BROWSER=1 but there is no Chromium at {CHROMIUM}")
        pytest.skip(f"no Chromium at {CHROMIUM}: browser tests skipped (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context against the live server; ``page.base`` is its URL."""
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base = live_server.url
    yield page
    context.close()
