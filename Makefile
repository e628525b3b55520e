# bookapi's commands. `make run` serves the API locally; `make test` runs every
# check. Both install what is missing first (.venv from the requirements files,
# node_modules from package-lock.json).
#
# The deploy commands work on one stage of zappa_settings.json (STAGE, default
# dev) from that stage's lean deploy venv, .venv-deploy-<runtime>, which
# scripts/deploy-venv builds with the Python of the stage's Lambda runtime and
# rebuilds only when a requirements file changes.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAGE ?= dev

.PHONY: install run test check lint format typecheck clean pytest \
	deploy-venv deploy update package table rehearse

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: requirements.txt requirements-deploy.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

run: install
	scripts/run-local

test: check rehearse pytest

pytest: install
	$(BIN)/pytest

check: lint typecheck

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy bookapi deploy tests wsgi.py

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
