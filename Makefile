# The few commands people type. Only Python >= 3.11 needs to be on the machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test test-fast test-postgres lint typecheck bench teams-package serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install whenever pyproject.toml changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/govbot db upgrade
	$(BIN)/govbot demo

# Everything on SQLite and, when GOVBOT_TEST_DATABASE_URL is set (see tests/conftest.py),
# the database tests again on PostgreSQL. Tests share nothing (a SQLite file per test; a
# PostgreSQL schema per session and xdist worker), and most of their time is spent
# waiting on servers, so each pass runs on pytest-xdist workers (one per core) and the
# two passes run side by side; the PostgreSQL pass writes to .pytest-postgres.log,
# printed when both are done. Either pass failing fails the target.
XDIST ?= -n auto
test: $(STAMP)
ifdef GOVBOT_TEST_DATABASE_URL
	@GOVBOT_TEST_BACKEND=postgres $(BIN)/python -m pytest $(XDIST) -m db -p no:cacheprovider \
		> .pytest-postgres.log 2>&1 & pg=$$!; \
	$(BIN)/python -m pytest $(XDIST); sqlite=$$?; \
	wait $$pg; postgres=$$?; \
	echo; echo "=== PostgreSQL pass (GOVBOT_TEST_BACKEND=postgres pytest -m db) ==="; \
	cat .pytest-postgres.log; \
	echo "SQLite pass exit $$sqlite, PostgreSQL pass exit $$postgres"; \
	test $$sqlite -eq 0 -a $$postgres -eq 0
else
	$(BIN)/python -m pytest $(XDIST)
endif

# The unit tests only: no database, no socket, no slow test (well under a minute).
test-fast: $(STAMP)
	$(BIN)/python -m pytest tests/unit -m "not slow and not db"

test-postgres: $(STAMP)
	GOVBOT_TEST_BACKEND=postgres $(BIN)/python -m pytest $(XDIST) -m db

lint: $(STAMP)
	$(BIN)/ruff check bot handlers store tests bench
	$(BIN)/ruff format --check bot handlers store tests bench

typecheck: $(STAMP)
	$(BIN)/mypy bot store handlers
	$(BIN)/mypy --strict bot/domain bot/service

bench: $(STAMP)
	$(BIN)/python -m bench

teams-package: $(STAMP)
	$(BIN)/govbot teams-package

serve: $(STAMP)
	$(BIN)/govbot db upgrade
	$(BIN)/govbot serve

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
