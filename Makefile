# The two commands of the README: `make demo` and `make test`. Each creates .venv if missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck test-sqlite test-postgres system-packages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/earful demo

test: lint typecheck test-sqlite test-postgres

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

# Debian packages the tests use (dovecot's IMAP server for the email tests, chromium for the
# browser tests, driven by Playwright without `playwright install`); installs only what is
# missing, so it costs nothing once done.
system-packages:
	dpkg -s dovecot-imapd >/dev/null 2>&1 || (apt-get update && apt-get install -y dovecot-imapd)
	dpkg -s chromium >/dev/null 2>&1 || (apt-get update && apt-get install -y chromium)

test-sqlite: $(STAMP) system-packages
	$(BIN)/pytest

# Runs the same suite on PostgreSQL when one answers; CI sets EARFUL_REQUIRE_SERVICES=1
# so that a missing server fails the run instead of skipping it.
test-postgres: $(STAMP) system-packages
	$(BIN)/python scripts/run_on_postgres.py
