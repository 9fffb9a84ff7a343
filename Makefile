# The two commands: `make run` serves Switchboard, `make test` runs the suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# Test processes in parallel (pytest-xdist), each test module in one of them so that its
# server starts once: 3, or fewer when the test server's max_connections cannot hold them
# (tests/workers.py); TEST_WORKERS=N chooses, and 0 runs the suite in this one process.
export TEST_WORKERS

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/switchboard serve --host $${HOST:-127.0.0.1} --port $${PORT:-8000}

# Then the tests marked `alone` (a latency they assert, or a known sensitivity to a busy
# machine), by themselves (exit status 5: none among those PYTEST_ARGS selected).
test: $(STAMP)
	$(BIN)/python -m pytest -n $${TEST_WORKERS:-$$($(BIN)/python -m tests.workers)} --dist loadfile --no-loadscope-reorder -m "not alone" $(PYTEST_ARGS)
	$(BIN)/python -m pytest -m alone $(PYTEST_ARGS) || test $$? -eq 5

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
