# The one quality gate: developers and every pipeline run these same targets.
#   make synth [ENV=prod]   synthesize every stack (set-up included) and print the summary
#   make test               the whole test suite (set-up and services included)
#   make lint               ruff, mypy, hadolint, workflow linters
SHELL := /bin/bash
.DEFAULT_GOAL := help
.SUFFIXES:

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
ENV ?=
PYTEST_ARGS ?=

# jsii (under the cdktf bindings) prints a banner on Node 20; it is noise here.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export PYTHONUNBUFFERED := 1

$(VENV)/.installed: requirements/dev.txt scripts/bootstrap.sh
	@PYTHON=$(PYTHON) scripts/bootstrap.sh $(VENV) requirements/dev.txt

.PHONY: help venv synth test lint fmt clean
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

venv: $(VENV)/.installed ## create/update the virtualenv from requirements/

synth: $(VENV)/.installed ## synthesize all stacks (ENV=dev,prod to narrow) + summary
	@KAKEHASHI_ENV=$(ENV) $(PY) -m stacks.synth

test: $(VENV)/.installed ## run the whole test suite (starts PostgreSQL/Redis when needed)
	@set -e; eval "$$(scripts/services.sh)"; $(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed ## ruff, mypy (strict), hadolint and the workflow linters
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy stacks modules pipelines app
	$(VENV)/bin/hadolint app/Dockerfile
	$(MAKE) --no-print-directory workflow-lint

fmt: $(VENV)/.installed ## apply ruff fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean: ## remove synthesized output and caches (keeps the virtualenv)
	rm -rf cdktf.out reports .pytest_cache .mypy_cache .ruff_cache

# Each area keeps its own targets in mk/<area>.mk (app, policy, pipelines, ...).
-include mk/*.mk
