# bookapi's commands. `make run` serves the API locally; `make test` runs every
# check; `make fuzz` runs the long property-based tests. All install what is missing first (.venv from the requirements files,
# node_modules from package-lock.json, and for the tests Debian's Chromium).
#
# The deploy commands work on one stage of zappa_settings.json (STAGE, default
# dev) from that stage's lean deploy venv, .venv-deploy-<runtime>, which
# scripts/deploy-venv builds with the Python of the stage's Lambda runtime and
# rebuilds only when a requirements file changes.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# The headless browser of the docs page test: Debian's package, since browser
# downloads of test tools are not used here. CHROMIUM=/path names another.
CHROMIUM ?= /usr/bin/chromium
export CHROMIUM
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
PORT ?= 5000
STAGE ?= dev

.PHONY: install chromium run seed bench test pytest newman check lint format \
	typecheck clean faults crash races fuzz fuzz-properties fuzz-api load audit \
	deploy-venv deploy update package table rehearse

install: $(VENV)/.installed node_modules/.installed

chromium: $(CHROMIUM)

$(VENV)/.installed: requirements.txt requirements-deploy.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# Installed only when missing; apt-get needs root, so others go through sudo.
$(CHROMIUM):
	$(SUDO) apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium

run: install
	scripts/run-local

# Load the goodbooks-10k sample into the local table, with or without `make run`.
seed: install
	scripts/seed

# Measure the Lambda package against a bare handler and Powertools, then time
# an import of the full goodbooks-10k catalogue. Each rewrites its own section
# of docs/benchmarks.md. BENCH_ARGS=--quick makes the Lambda part a short run.
BENCH_ARGS ?=
bench: install
	$(BIN)/python -m benchmarks.lambda_bench $(BENCH_ARGS)
	$(BIN)/python -m benchmarks.import_bench

test: check rehearse pytest

pytest: install chromium
	$(BIN)/python scripts/audit.py --allow-unreachable
	$(BIN)/pytest

# The Postman collection, run by newman against the server of `make run`.
newman: install
	scripts/newman http://127.0.0.1:$(PORT)

check: lint typecheck

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy bookapi deploy tests benchmarks scripts/audit.py wsgi.py

# Longer reliability runs; their figures are in docs/reliability.md.
fuzz: fuzz-properties fuzz-api

fuzz-properties: install
	$(BIN)/pytest --hypothesis-profile=fuzz --timeout=1800 --durations=0 \
		tests/test_properties.py

faults: install
	$(BIN)/python -m benchmarks.faults

crash: install
	$(BIN)/python -m benchmarks.crash

races: install
	$(BIN)/python -m benchmarks.races

# Its figures are in docs/benchmarks.md.
load: install
	$(BIN)/python -m benchmarks.load

# Fails (exit 2) when the vulnerability service cannot be reached.
audit: install
	$(BIN)/python scripts/audit.py

# FUZZ_EXAMPLES generated requests per operation in the fuzzing phase, a new
# random seed each run; FUZZ_ARGS passes more options to `st run`, such as
# FUZZ_ARGS="--seed 1" to repeat a run.
FUZZ_EXAMPLES ?= 1000
FUZZ_ARGS ?=

fuzz-api: install
	$(BIN)/python -m tests.fuzz --max-examples $(FUZZ_EXAMPLES) $(FUZZ_ARGS)

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

deploy-venv:
	scripts/deploy-venv $(STAGE)

# Create the stage's DynamoDB table before its first deploy.
table:
	scripts/stage-table $(STAGE)

deploy:
	scripts/zappa $(STAGE) deploy

update:
	scripts/zappa $(STAGE) update

# The zip that `zappa deploy` would upload, at a stable path for inspection
# and benchmarks.
package:
	mkdir -p dist
	scripts/zappa $(STAGE) package -o dist/bookapi-$(STAGE).zip

# Deploy, update, roll back and undeploy the stage on a local AWS stand-in,
# and serve the API from the uploaded package; see docs/deploy.md.
rehearse: install
	$(BIN)/python -m tests.rehearsal $(STAGE)

clean:
	rm -rf $(VENV) .venv-deploy-* node_modules dist test-artifacts \
		.pytest_cache .mypy_cache .ruff_cache
