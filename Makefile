# tsconsole developer entry points.
#   make run            set up .venv, start PostgreSQL + Redis (var/), migrate, seed demo data, run web + worker + beat
#   make test           lint + full test suite against throwaway PostgreSQL/Redis (ARGS="-k foo" passes to pytest)
#   make lint           ruff
#   make bench          benchmarks on their own PostgreSQL/Redis (ARGS="claim pages ingest sla peer memory hotspots")
#   make services       start only the checkout's PostgreSQL + Redis in the background (make services-stop)
#   make clean          remove caches and build artefacts (keeps .venv and var/)

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV   := .venv
PY     := $(VENV)/bin/python
ARGS   ?=

# Defaults for `make run` only; anything already set in the environment wins. The demo serves plain
# HTTP on 127.0.0.1 without debug pages: production settings less the HTTPS-only ones.
RUN_ENV = TSCONSOLE_DEMO="$${TSCONSOLE_DEMO:-1}" PORT="$${PORT:-8000}" \
	SECURE_SSL_REDIRECT="$${SECURE_SSL_REDIRECT:-0}" SECURE_COOKIES="$${SECURE_COOKIES:-0}" \
	SECURE_HSTS_SECONDS="$${SECURE_HSTS_SECONDS:-0}" SITE_URL="$${SITE_URL:-http://127.0.0.1:$${PORT:-8000}}"

.PHONY: help run venv venv-dev test lint bench services services-stop clean

help:
	@echo "make run    - start tsconsole on http://127.0.0.1:$${PORT:-8000} (web + worker + beat)"
	@echo "make test   - ruff + pytest against throwaway PostgreSQL and Redis (ARGS='-k foo')"
	@echo "make lint   - ruff check"
	@echo "make bench  - benchmarks on their own PostgreSQL/Redis (ARGS='claim pages')"
	@echo "make services - start only PostgreSQL + Redis of this checkout (make services-stop)"
	@echo "make clean  - remove caches and build artefacts"

venv:
	@scripts/venv.sh local

venv-dev:
	@scripts/venv.sh dev,local

run: venv
	@exec env $(RUN_ENV) $(PY) scripts/run_all.py

services: venv
	$(PY) -m tsconsole.localservices start

services-stop: venv
	$(PY) -m tsconsole.localservices stop

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
