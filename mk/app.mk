# The bundled FastAPI service (app/). Included by the root Makefile.
.PHONY: run migrate test-app lint-app bench image

APP_IMAGE ?= kakehashi-api

run: $(VENV)/.installed ## run the API locally (SQLite + in-process cache unless DATABASE_URL/REDIS_URL)
	@$(VENV)/bin/alembic upgrade head
	@$(PY) -m app.devserver

migrate: $(VENV)/.installed ## apply database migrations (alembic upgrade head, same settings as the app)
	$(VENV)/bin/alembic upgrade head

test-app: $(VENV)/.installed ## only the service's tests (starts PostgreSQL/Redis when needed)
	@set -e; eval "$$(scripts/services.sh)"; $(PY) -m pytest tests/app $(PYTEST_ARGS)

lint-app: $(VENV)/.installed ## ruff, mypy and hadolint for the service
	$(VENV)/bin/ruff check app tests/app bench
	$(VENV)/bin/ruff format --check app tests/app bench
	$(VENV)/bin/mypy app
	$(VENV)/bin/hadolint app/Dockerfile

bench: $(VENV)/.installed ## load-test the service on PostgreSQL + Redis next to the shared floors
	@bench/run.sh

image: ## build the container image (needs a Docker engine)
	docker build -f app/Dockerfile --build-arg GIT_REVISION=$$(git rev-parse --short HEAD) -t $(APP_IMAGE):$$(git rev-parse --short HEAD) .
