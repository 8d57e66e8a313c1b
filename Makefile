# The two commands: `make run` and `make test`. Everything else is set up by them.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
export TEST_DATABASE_URL
# One pytest-xdist worker per core; a file's tests stay on one worker (the e2e journey is a story),
# in the order tests/conftest.py gives (the longest files first: RUN_FIRST).
TEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 1)

.PHONY: run test venv lint bench clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Needs $(PYTHON) (Python 3.11 or newer): set PYTHON=python3.x"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

venv: $(VENV)/.installed

run: venv
	$(FLASK) db upgrade
	$(FLASK) keys generate
	$(FLASK) demo-data
	@$(FLASK) demo-logins
# The job queue's worker (notification e-mails, the daily digest) runs beside the server and stops with it.
	$(FLASK) worker & worker=$$!; trap 'kill -INT $$worker 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host 127.0.0.1 --port 5000

test: venv
	@bash scripts/ensure-chromium.sh
	$(BIN)/ruff check app credentials tests bench scripts
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check app credentials tests bench scripts

bench: venv
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/pdf.py
	$(BIN)/python bench/issue.py
	$(BIN)/python bench/verify.py
	$(BIN)/python bench/scorecard.py
	$(BIN)/python bench/roster_import.py
	$(BIN)/python bench/catalogue.py
	$(BIN)/python bench/catalogue.py --postgres --if-reachable
	$(BIN)/python bench/claim_upload.py
	$(BIN)/python bench/claim_upload.py --postgres --if-reachable
	$(BIN)/python bench/requirements.py
	$(BIN)/python bench/requirements.py --postgres --if-reachable

clean:
	rm -rf $(VENV) instance .pytest_cache
