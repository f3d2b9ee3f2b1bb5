# The two commands a newcomer needs: `make run` and `make test`. Everything else is a step of those.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test test-pure lint format bench mutate fuzz deploy-check clean stop-embedded browser

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Installs exactly the versions in uv.lock into .venv (uv itself stays: --inexact).
install: $(BIN)/uv
	$(BIN)/uv sync --frozen --inexact --quiet

# Embedded PostgreSQL/Redis start by themselves when DATABASE_URL/REDIS_URL are unset.
run: install
	$(BIN)/phien migrate
	@token=$$($(BIN)/phien seed-demo | tail -n 1); \
	echo; \
	echo "  Phiên is starting on http://$(HOST):$(PORT)"; \
	echo "  API docs      http://$(HOST):$(PORT)/docs"; \
	echo "  Readiness     http://$(HOST):$(PORT)/ready"; \
	echo "  Demo token    $$token"; \
	echo "  Try           curl -H 'Authorization: Bearer $$token' 'http://$(HOST):$(PORT)/api/v1/products?q=gao'"; \
	echo "  Live sale     HOST=$(HOST) PORT=$(PORT) $(BIN)/phien simulate live --platform tiktok-shop --orders 200 --minutes 1"; \
	echo; \
	HOST=$(HOST) PORT=$(PORT) exec $(BIN)/phien serve --simulators

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The dashboard's browser test drives Debian's chromium through Playwright. Installed here when
# missing and the machine allows it (root with apt-get); in CI the test fails without it.
browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
				|| echo "could not install chromium: the browser test will say so"; \
		else \
			echo "chromium missing and not installable here: the browser test will say so"; \
		fi; \
	fi

# Pure tests first, with PostgreSQL and Redis pointed at closed ports: one that reaches for
# a server fails here. Then the rest in parallel: each pytest-xdist worker has its own
# database, Redis database number, simulators and API (tests/stack.py).
TEST_WORKERS ?= 2
UNREACHABLE := DATABASE_URL=postgresql://phien@127.0.0.1:1/unreachable REDIS_URL=redis://127.0.0.1:1/0

test: lint browser
	$(UNREACHABLE) $(BIN)/pytest -m pure -q
	$(BIN)/pytest -m "not pure" -n $(TEST_WORKERS)

test-pure: install
	$(UNREACHABLE) $(BIN)/pytest -m pure

# Mutation testing of the rules that guard money, stock and tenants ([tool.mutmut] lists the
# modules) against the fast pure tests only. Minutes, not seconds: kept out of `make test`.
MUTATION_TARGET ?= 90
mutate: install
	rm -rf mutants
	$(BIN)/mutmut run --max-children $$(nproc)
	$(BIN)/mutmut export-cicd-stats
	@$(BIN)/python -c 'import json, sys; s = json.load(open("mutants/mutmut-cicd-stats.json")); \
	ratio = 100 * s["killed"] / s["total"]; \
	print("mutation kill ratio {0:.1f}% ({killed} of {total} killed, {survived} survived," \
	      " {no_tests} without tests)".format(ratio, **s)); \
	sys.exit(ratio < $(MUTATION_TARGET))'
	@$(BIN)/mutmut results | grep -v ': killed' || true

bench: install
	$(BIN)/python -m bench

# Builds the image and runs docker-compose.yml end to end (installs/starts Docker when it can);
# bounded: interrupted after 45 minutes, tearing the stack down on the way out.
deploy-check: install
	timeout --signal=INT --kill-after=120 2700 $(BIN)/python -m bench.deploy_check

# schemathesis (every phase, bounded) against a served API on a throw-away database.
fuzz: install
	$(BIN)/python -m bench.fuzz

stop-embedded: install
	$(BIN)/phien embedded stop

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache mutants
