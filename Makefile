# Xtract: `make run DIR=/some/folder` crawls a folder on the embedded default;
# `make test` runs the test suite. Both set up .venv on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
DIR    ?= .
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test test-fast lint check bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	XTRACT_ALLOWED_ROOTS='["$(abspath $(DIR))"]' $(BIN)/xtract run "$(abspath $(DIR))"

test: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/pytest -q

# the stores, Lua scripts and key table against one embedded Redis, no service: seconds
test-fast: $(STAMP)
	$(BIN)/pytest -q tests/fast

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# everything CI checks: ruff, format, mypy --strict on all three packages, the tests
check: lint test

bench: $(STAMP)
	$(BIN)/python bench/bench_crawl.py
	$(BIN)/python bench/bench_offload.py
	$(BIN)/python bench/bench_cold_start.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
