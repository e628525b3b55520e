# bookapi's commands. `make run` serves the API locally; `make test` runs every
# check; `make fuzz` runs a long property-based test of the API from its OpenAPI
# document. All install what is missing first (.venv from the requirements
# files, node_modules from package-lock.json).

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install run test check lint format typecheck clean

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

run: install
	scripts/run-local

test: check
	$(BIN)/pytest

check: lint typecheck

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy bookapi tests wsgi.py

# FUZZ_EXAMPLES generated requests per operation in the fuzzing phase, a new
# random seed each run; FUZZ_ARGS passes more options to `st run`, such as
# FUZZ_ARGS="--seed 1" to repeat a run.
FUZZ_EXAMPLES ?= 1000
FUZZ_ARGS ?=

.PHONY: fuzz
fuzz: install
	$(BIN)/python -m tests.fuzz --max-examples $(FUZZ_EXAMPLES) $(FUZZ_ARGS)

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) node_modules dist .pytest_cache .mypy_cache .ruff_cache .schemathesis
