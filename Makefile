# The two commands of the README: `make serve` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev

.PHONY: serve test check lint typecheck unit e2e bench bench-replay clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(STAMP_RUN)

serve: $(STAMP_RUN)
	$(BIN)/strata server

lint: $(STAMP_DEV)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports

typecheck: $(STAMP_DEV)
	$(BIN)/mypy

check: lint typecheck

test: check
	$(BIN)/pytest -q -n 2 --dist loadfile

bench: $(STAMP_DEV)
	$(BIN)/python -m benchmarks.peers

# The same pre-signed requests replayed by wrk to every system (benchmarks/replay.py).
bench-replay: $(STAMP_DEV)
	$(BIN)/python -m benchmarks.replay

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
