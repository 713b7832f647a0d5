# Xtract: `make run DIR=/some/folder` crawls a folder on the embedded default;
# `make test` runs the test suite. Both set up .venv on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
DIR    ?= .
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint check bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	XTRACT_ALLOWED_ROOTS='["$(abspath $(DIR))"]' $(BIN)/xtract run "$(abspath $(DIR))"

test: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

check: lint test

bench: $(STAMP)
	$(BIN)/python bench/bench_crawl.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
