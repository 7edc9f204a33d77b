"""A pytest plugin loaded with ``-p accord.testenv`` (pyproject addopts), so the test mode
is set before pytest-django loads the settings — a conftest.py is read too late."""

import os

os.environ.setdefault("ACCORD_MODE", "test")
# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# there are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
if os.environ.get("ACCORD_TEST_DATABASE_URL"):
    os.environ["ACCORD_DATABASE_URL"] = os.environ["ACCORD_TEST_DATABASE_URL"]
