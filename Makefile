# splice — one-command install, run and test. Everything lives in .venv/ in this checkout.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test test-slow lint typecheck docs chaos bench lock clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[all,dev]'
	touch $(STAMP)

## The main job: the quickstart on the embedded default (no other service needed).
run: install
	$(BIN)/splice run examples/quickstart

## The whole suite: lint, format check, strict typing, tests (slow soak tests excluded).
test: install lint typecheck
	$(BIN)/pytest -q -m "not slow"

test-slow: install
	$(BIN)/pytest -q -m slow

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

typecheck: install
	$(BIN)/mypy

docs: install
	$(BIN)/splice docs

## The crash harness: kill -9 at random moments; CHAOS_N / CHAOS_KILLS override the counts.
chaos: install
	$(BIN)/python -m tests.chaos.harness

## The benchmark suite against the peers (installs them into bench/.peers/); never part of test.
bench: install
	$(BIN)/python bench/run.py

## Refresh the lock file from a clean environment.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade "pip>=24"
	.lock-venv/bin/python -m pip install --quiet -e '.[all,dev]'
	.lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^splice' > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
