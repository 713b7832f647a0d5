# Xtract: `make run DIR=/some/folder` crawls a folder on the embedded default;
# `make test` runs the test suite. Both set up .venv on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
DIR    ?= .
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test test-fast lint check bench faults failovers hosts truth clean chromium samples validators containers

# a quiet install: the editable install's one notice (a warning about folders named like
# the packages, which this layout does not have) is silenced; anything else shows
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	PYTHONWARNINGS='ignore:::setuptools.command.editable_wheel' $(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	XTRACT_ALLOWED_ROOTS='["$(abspath $(DIR))"]' $(BIN)/xtract run "$(abspath $(DIR))"

# what some tests drive, from Debian, installed here when missing (apt-get, as root or
# through sudo): Chromium (the dashboard's browser tests), iproute2 (network namespaces
# as hosts), debootstrap, podman and runc (an extractor image built and run)
chromium:
	@missing=""; \
	command -v chromium >/dev/null || test -x /usr/bin/chromium || missing="$$missing chromium"; \
	for tool in ip:iproute2 debootstrap:debootstrap podman:podman runc:runc; do \
	  command -v $${tool%%:*} >/dev/null || missing="$$missing $${tool##*:}"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing from Debian for the tests:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing >/dev/null; fi

# real files in the research formats for the truth test (tests/samples.sh)
samples: $(STAMP)
	@bash tests/samples.sh $(BIN)/pip

# community validators whose pins clash with ours (rocrate-validator wants rich<14,
# globus-compute-sdk rich>=14), each in a venv of its own under .cache/validators
ROCV := .cache/validators/rocrate
validators: $(ROCV)/.installed
$(ROCV)/.installed:
	$(PYTHON) -m venv $(ROCV)
	$(ROCV)/bin/pip install --quiet 'roc-validator>=0.13,<0.14'
	touch $@

# two pytest processes (pytest-xdist), a test file kept whole on one of them (its
# module fixtures started once); most tests wait on servers and subprocesses, so two
# share two cores well. TEST_WORKERS=0: one process, in file order
TEST_WORKERS ?= 2
test: $(STAMP) chromium samples validators
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile

# the stores, Lua scripts and key table against one embedded Redis, no service: seconds
# every extractor family's image and the service image, with podman, from a Debian base
# made by debootstrap (as root; containers/README.md)
containers: $(STAMP)
	XTRACT=$(abspath $(BIN))/xtract bash containers/build.sh
	XTRACT=$(abspath $(BIN))/xtract bash containers/build.sh service

test-fast: $(STAMP)
	$(BIN)/pytest -q tests/fast

# the fault campaign: 8 kill -9s of each of five roles (crawl worker, orchestrator,
# offload worker, API process, embedded redis-server) = 40, each trial logged to
# bench/results/faults.jsonl and summed up by bench/faults_table.py for docs/RELIABILITY.md
# (CI runs the same tests with 2 trials per role)
faults: $(STAMP)
	mkdir -p bench/results && rm -f bench/results/faults.jsonl
	PATH="$(abspath $(BIN)):$$PATH" XTRACT_FAULT_TRIALS=8 XTRACT_FAULT_SERVICE_TRIALS=8 \
	  XTRACT_FAULT_LOG=$(abspath bench/results/faults.jsonl) $(BIN)/pytest -q tests/faults/test_kills.py
	$(BIN)/python bench/faults_table.py bench/results/faults.jsonl

# Sentinel failovers during crawls: 20 trials, each killing the master of the moment mid-
# crawl (CI runs 1), logged to bench/results/failovers.jsonl for docs/RELIABILITY.md
failovers: $(STAMP)
	mkdir -p bench/results && rm -f bench/results/failovers.jsonl
	PATH="$(abspath $(BIN)):$$PATH" XTRACT_FAILOVER_TRIALS=20 \
	  XTRACT_FAILOVER_LOG=$(abspath bench/results/failovers.jsonl) \
	  $(BIN)/pytest -q tests/service/test_sentinel.py -k failover

# hosts lost and cut off: ten trials of the several-hosts test (30 faults, as root), each
# fault's take-over time in bench/results/hosts.jsonl; CI runs one trial
hosts: $(STAMP)
	mkdir -p bench/results && rm -f bench/results/hosts.jsonl
	PATH="$(abspath $(BIN)):$$PATH" XTRACT_HOST_TRIALS=10 \
	  XTRACT_HOST_LOG=$(abspath bench/results/hosts.jsonl) \
	  $(BIN)/pytest -q tests/service/test_hosts.py

# every fact true: the truth test on 150 real files of each kind (CI checks 12), and its
# table for docs/BENCHMARKS.md
truth: $(STAMP) samples
	rm -rf test-artifacts/truth
	XTRACT_TRUTH_PER_KIND=150 $(BIN)/pytest -q tests/truth
	$(BIN)/python bench/truth_table.py

# ESLint (and only it) from the npm registry, at the versions package-lock.json pins
NODE_STAMP := node_modules/.installed-stamp
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

# ruff, mypy --strict on the three packages, mypy on tests/ and bench/, ESLint on the
# dashboard's script
lint: $(STAMP) $(NODE_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/mypy tests bench
	npx --no-install eslint .

# everything CI checks: the linters above and the tests
check: lint test

# every benchmark, side by side with what a user would run instead; results land in
# bench/results/*.json, and bench/plots.py draws docs/img/ from them (docs/BENCHMARKS.md)
BENCH_STAMP := $(VENV)/.bench-stamp
$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e ".[bench]"
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	cd bench && ../$(BIN)/python bench_crawl.py --files 200000 --cold
	cd bench && ../$(BIN)/python bench_crawl.py --files 1000000 --runs 1 --name crawl-1000000
	cd bench && ../$(BIN)/python bench_globus_crawl.py --enforce
	cd bench && ../$(BIN)/python bench_extract.py --runs 3
	cd bench && ../$(BIN)/python bench_redis_cpu.py
	cd bench && ../$(BIN)/python bench_keywords.py
	cd bench && ../$(BIN)/python bench_offload.py
	cd bench && ../$(BIN)/python bench_reads.py
	cd bench && ../$(BIN)/python bench_reads.py --page 100 --runs 3
	cd bench && ../$(BIN)/python bench_status_poll.py
	cd bench && ../$(BIN)/python bench_cold_start.py
	cd bench && ../$(BIN)/python bench_incremental.py --runs 3
	cd bench && ../$(BIN)/python bench_search_pressure.py --files 100000
	cd bench && ../$(BIN)/python bench_identify.py --per-kind 150
	$(BIN)/python bench/plots.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
