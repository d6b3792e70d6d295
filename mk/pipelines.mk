# Delivery targets: the same commands in GitHub Actions, CodeBuild and on a laptop.
#   make release-image [IMAGE_REPOSITORY=]  build the API image, tagged <version>-<commit>
#   make release-push IMAGE_REPOSITORY=...  push it; write reports/release.env (digest)
#   make release-migrate ENV=dev IMAGE=<ref> alembic upgrade head as a one-off ECS task
# (Named release-* because mk/app.mk owns the local `image` and `migrate` targets.)
#   make deploy ENV=dev                     cdktf deploy of the environment's stacks
#   make verify ENV=dev                     post-deploy verification (promotion gate)
#   make drift ENV=dev                      cdktf diff; fails on drift
#   make workflow-lint                      GitHub workflows: schema + zizmor (offline)
#   make hadolint                           lint app/Dockerfile
#   make lint-pipelines                     mypy (strict) of pipelines/ (make lint covers stacks, modules)
#   make tools                              install the pinned Terraform CLI (CodeBuild)
CDKTF_CLI_VERSION := 0.21.0
TERRAFORM_VERSION := 1.13.4
CDKTF := npx --yes cdktf-cli@$(CDKTF_CLI_VERSION)
IMAGE_REPOSITORY ?= kakehashi/api
RELEASE_VERSION = $(shell $(PY) -m pipelines.release version)
GIT_REVISION = $(shell $(PY) -m pipelines.release revision)
IMAGE_TAG ?= $(shell $(PY) -m pipelines.release image-tag)
IMAGE ?=
WORKFLOWS := $(wildcard .github/workflows/*.yml)

.PHONY: lint-pipelines release-image release-push release-migrate deploy verify drift workflow-lint hadolint tools
tools: ## install the pinned Terraform CLI (cdktf deploy/diff need it)
	scripts/install-terraform.sh $(TERRAFORM_VERSION)

release-image: $(VENV)/.installed ## build the API image (tag <version>-<commit>)
	docker build --file app/Dockerfile --pull \
	  --build-arg GIT_REVISION=$(GIT_REVISION) \
	  --label org.opencontainers.image.version=$(RELEASE_VERSION) \
	  --label org.opencontainers.image.revision=$(GIT_REVISION) \
	  --tag $(IMAGE_REPOSITORY):$(IMAGE_TAG) .

release-push: $(VENV)/.installed ## push the image; reports/release.env gets its digest
	docker push $(IMAGE_REPOSITORY):$(IMAGE_TAG)
	@mkdir -p reports
	@digest=$$(docker inspect --format '{{index .RepoDigests 0}}' $(IMAGE_REPOSITORY):$(IMAGE_TAG)); \
	  printf 'RELEASE_VERSION=%s\nIMAGE_TAG=%s\nIMAGE_DIGEST=%s\n' \
	    "$(RELEASE_VERSION)" "$(IMAGE_TAG)" "$${digest##*@}" > reports/release.env; \
	  cat reports/release.env

release-migrate: $(VENV)/.installed ## migrations as an ECS task (PHASE=pre with IMAGE=<ref>, or post)
	$(PY) -m pipelines.migrate --env $(ENV) --phase $(or $(PHASE),pre) $(if $(IMAGE),--image $(IMAGE))

# Pipelines (GitHub Actions sets CI, CodeBuild CODEBUILD_BUILD_ID) approve automatically; a
# person at a terminal reviews the plan cdktf prints and confirms it.
DEPLOY_APPROVE = $(if $(or $(CI),$(CODEBUILD_BUILD_ID)),--auto-approve,)

deploy: $(VENV)/.installed ## validate + policy gate, then cdktf deploy of ENV's stacks (KAKEHASHI_IMAGE_DIGEST pins the image)
	@test -n "$(ENV)" || { echo "deploy: set ENV=<environment>"; exit 2; }
	@# Never deploy what the gate has not seen: config validation and the policy checks first.
	$(MAKE) --no-print-directory synth ENV=$(ENV)
	KAKEHASHI_ENV=$(ENV) $(CDKTF) deploy $(DEPLOY_APPROVE) --ignore-missing-stack-dependencies \
	  'kakehashi-$(ENV)-*'

verify: $(VENV)/.installed ## post-deploy verification of ENV (the promotion gate)
	$(PY) -m pipelines.verify --env $(ENV)

drift: $(VENV)/.installed ## cdktf diff of ENV's stacks; fails on drift
	@test -n "$(ENV)" || { echo "drift: set ENV=<environment>"; exit 2; }
	@# Plain synthesis (no policy gate: a policy finding must not hide drift).
	KAKEHASHI_ENV=$(ENV) $(PY) main.py
	$(PY) -m pipelines.drift --env $(ENV) --cdktf "$(CDKTF)"

workflow-lint: $(VENV)/.installed ## GitHub workflows: JSON schema + zizmor (offline)
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows $(WORKFLOWS)
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-actions $(wildcard .github/actions/*/action.yml)
	$(VENV)/bin/zizmor --offline --config .github/zizmor.yml .github

hadolint: $(VENV)/.installed ## lint the Dockerfile
	$(VENV)/bin/hadolint app/Dockerfile

lint-pipelines: $(VENV)/.installed ## mypy (strict) of pipelines/
	$(VENV)/bin/mypy pipelines
