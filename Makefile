# Accord: `make run` sets up and starts a demo county; `make test` sets up and runs every gate.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ASSETS := src/accord/static/vendor/.built
PROD_ENV := ACCORD_MODE=production ACCORD_SECRET_KEY=check-deploy-$$(printf 'x%.0s' {1..60}) \
	ACCORD_FIELD_KEYS=k1:$$(printf 'A%.0s' {1..43})= ACCORD_ALLOWED_HOSTS=accord.example.org \
	ACCORD_DATABASE_URL=sqlite:///$(CURDIR)/var/check-deploy.sqlite3

.PHONY: run test setup assets lint typecheck checks pytest pytest-postgres bench clean

setup: $(STAMP) $(ASSETS)

$(STAMP): pyproject.toml requirements/constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e '.[dev]'
	touch $@

$(ASSETS): package.json package-lock.json scripts/build_assets.py
	npm ci --no-audit --no-fund --loglevel=error
	$(BIN)/python scripts/build_assets.py
	touch $@

assets: $(ASSETS)

run: setup
	$(BIN)/accord run

lint: setup
	$(BIN)/ruff check src bench scripts conftest.py
	$(BIN)/ruff format --check src bench scripts conftest.py

typecheck: setup
	ACCORD_MODE=test $(BIN)/mypy src bench

checks: setup
	ACCORD_MODE=test $(BIN)/accord check --fail-level WARNING
	ACCORD_MODE=test $(BIN)/accord makemigrations --check --dry-run
	mkdir -p var && $(PROD_ENV) $(BIN)/accord check --deploy --fail-level WARNING

# SQLite, whatever the environment says about PostgreSQL.
pytest: setup
	env -u ACCORD_TEST_DATABASE_URL -u ACCORD_DATABASE_URL $(BIN)/pytest -q -n 2 --dist loadfile --durations=15

# Runs only when ACCORD_TEST_DATABASE_URL names a PostgreSQL database (CI sets it).
pytest-postgres: setup
	@if [ -n "$$ACCORD_TEST_DATABASE_URL" ]; then \
		echo "pytest on PostgreSQL ($$ACCORD_TEST_DATABASE_URL)"; \
		$(BIN)/pytest -q -n 2 --dist loadfile --durations=15 -m "not browser"; \
	else echo "ACCORD_TEST_DATABASE_URL is not set: skipping the PostgreSQL run"; fi

test: lint typecheck checks pytest pytest-postgres

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) node_modules src/accord/static/vendor var
