# Runtime verification (tests/infra, pipelines/verify). Included by the root Makefile.
# `make verify ENV=...` (the promotion gate) lives in mk/pipelines.mk.
.PHONY: test-infra

test-infra: $(VENV)/.installed ## testinfra runtime contract against the service started locally as the container starts it
	@set -e; eval "$$(scripts/services.sh)"; $(PY) -m pytest tests/infra $(PYTEST_ARGS)
