# Every target bootstraps its own virtualenv in .venv from pyproject.toml.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test check bench lint clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/tomconsole demo

# CI runs exactly this (.ci/run): the linters, the import contracts, then the suite.
test: lint
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check tomconsole tests bench
	$(BIN)/ruff format --check tomconsole tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

check: test

bench: $(STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)
	$(BIN)/python -m bench.incidents
	$(BIN)/python -m bench.outage --hosts 500
	$(BIN)/python -m bench.prometheus --hosts 1000 5000
	$(BIN)/python -m bench.network
	$(BIN)/python -m bench.databases
	$(BIN)/python -m bench.security
	$(BIN)/python -m bench.processes
	$(BIN)/python -m bench.terminal

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
