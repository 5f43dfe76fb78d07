# tsconsole developer entry points.
#   make run     set up .venv, migrate, seed demo data, run web + Celery worker + beat
#   make test    lint + full test suite against throwaway PostgreSQL/Redis (ARGS="-k foo" passes to pytest)
#   make lint    ruff
#   make bench   benchmarks on their own PostgreSQL/Redis (ARGS="claim pages ingest sla")
#   make clean   remove caches and build artefacts (keeps .venv and var/)

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV   := .venv
PY     := $(VENV)/bin/python
ARGS   ?=

# Defaults for `make run` only; anything already set in the environment wins.
RUN_ENV = DEBUG="$${DEBUG:-1}" TSCONSOLE_DEMO="$${TSCONSOLE_DEMO:-1}" PORT="$${PORT:-8000}"

.PHONY: help run venv venv-dev test lint bench clean

help:
	@echo "make run    - start tsconsole on http://127.0.0.1:$${PORT:-8000} (web + worker + beat)"
	@echo "make test   - ruff + pytest against throwaway PostgreSQL and Redis (ARGS='-k foo')"
	@echo "make lint   - ruff check"
	@echo "make bench  - benchmarks on their own PostgreSQL/Redis (ARGS='claim pages')"
	@echo "make clean  - remove caches and build artefacts"

venv:
	@scripts/venv.sh

venv-dev:
	@scripts/venv.sh dev

run: venv
	@mkdir -p var
	env $(RUN_ENV) $(PY) manage.py migrate --noinput
	env $(RUN_ENV) $(PY) manage.py collectstatic --noinput
	env $(RUN_ENV) $(PY) manage.py seed_demo
	@exec env $(RUN_ENV) $(PY) scripts/run_all.py

test:
	scripts/test.sh $(ARGS)

lint: venv-dev
	$(VENV)/bin/ruff check .

bench:
	scripts/bench.sh $(ARGS)

clean:
	find . -path ./.venv -prune -o \( -name __pycache__ -o -name '*.egg-info' \) -type d -print0 | xargs -0 rm -rf
	find . -path ./.venv -prune -o -name '*.pyc' -type f -print0 | xargs -0 rm -f
	rm -rf .pytest_cache .ruff_cache test-artifacts staticfiles build dist
