# The README's two commands:
#   make run    set up and run the whole portal on this machine (web, worker, beat)
#   make test   set up and run the whole test suite
# Both need only Python 3.11, make and git; whatever else is missing is installed.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check --no-input install --progress-bar off
HOST ?= 127.0.0.1
PORT ?= 8000
# pytest-xdist workers; `make test PYTEST_WORKERS=0` runs in one process.
PYTEST_WORKERS ?= 2
# Extra arguments for pytest, e.g. `make test PYTEST_ARGS="-x -k login"`.
PYTEST_ARGS ?=

# A stamp per content of the requirement files: pip runs again only when they change.
RUN_STAMP := $(VENV)/.installed-run-$(shell cat requirements.txt | sha256sum | cut -c1-16)
TEST_STAMP := $(VENV)/.installed-test-$(shell cat requirements.txt requirements-test.txt | sha256sum | cut -c1-16)

ifeq ($(PYTEST_WORKERS),0)
XDIST :=
else
XDIST := -n $(PYTEST_WORKERS)
endif

.PHONY: help run test deps test-deps system-deps lint clean

help:
	@echo "make run    set up (venv, requirements, migrate, collectstatic, demo data) and run web + worker + beat"
	@echo "            on http://$(HOST):$(PORT)/ (HOST=... PORT=... to change)"
	@echo "make test   set up (venv, test requirements, chromium, CJK font, nginx) and run the whole suite"
	@echo "make lint   ruff"

run: deps
	mkdir -p "$${VAR_DIR:-var}"
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py seed_demo
	$(PY) manage.py runportal --host $(HOST) --port $(PORT)

test: test-deps system-deps
	$(VENV)/bin/lint-imports
	$(PY) -m pytest $(XDIST) $(PYTEST_ARGS)

lint: test-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

deps: $(RUN_STAMP)
test-deps: $(TEST_STAMP)

system-deps:
	scripts/install-test-deps.sh

$(PY):
	scripts/ensure-venv.sh "$(PYTHON)" "$(VENV)"

$(RUN_STAMP): | $(PY)
	$(PIP) -r requirements.txt
	rm -f $(VENV)/.installed-run-*
	touch $@

# requirements-test.txt includes requirements.txt, so this install covers `make run` too.
$(TEST_STAMP): | $(PY)
	$(PIP) -r requirements-test.txt
	rm -f $(VENV)/.installed-run-* $(VENV)/.installed-test-*
	touch $@ $(RUN_STAMP)

clean:
	rm -rf staticfiles test-artifacts .pytest_cache
