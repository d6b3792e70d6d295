"""One versioned unit: for one synth, the pyproject version, the image tag, the task
definition (image and APP_VERSION), the service/task-definition ``release`` tag and the
stack outputs all agree; the CI tag rule keeps the version as the prefix."""

from __future__ import annotations

import json
import tomllib

import pytest

from pipelines.release import image_tag_for
from stacks.environments import SynthOptions, load_delivery
from stacks.release import PYPROJECT, project_version, release_from_options
from tests.conftest import TEST_GIT_REVISION, TEST_IMAGE_TAG
from tests.synth_helpers import ENVIRONMENTS, Synthesized, hcl_jsonencoded

DELIVERY = load_delivery()


def test_reads_the_version_from_pyproject() -> None:
    with PYPROJECT.open("rb") as fh:
        assert project_version() == tomllib.load(fh)["project"]["version"]


def test_ci_image_tag_is_the_version_plus_the_commit() -> None:
    assert image_tag_for("1.2.3", "0123456789abcdef" * 2 + "01234567") == "1.2.3-0123456789ab"
    assert image_tag_for("1.2.3", "unknown") == "1.2.3"


def test_digest_pins_the_image_when_given() -> None:
    digest = "sha256:" + "ab" * 32
    release = release_from_options(
        SynthOptions(image_tag="1.0.0-abc", image_digest=digest, git_revision="a" * 40), DELIVERY
    )
    assert release.image == f"{DELIVERY.image_repository_uri()}@{digest}"


def test_version_agrees_everywhere_for_one_synth(synthesized: Synthesized) -> None:
    version = project_version()
    assert version == TEST_IMAGE_TAG  # the session synth is stamped with the version tag
    release = release_from_options(
        SynthOptions(image_tag=TEST_IMAGE_TAG, git_revision=TEST_GIT_REVISION), DELIVERY
    )
    assert release.image == f"{DELIVERY.image_repository_uri()}:{version}"
    for env in ENVIRONMENTS:
        stack = synthesized.of(env, "service")
        task_definitions = stack.resources("aws_ecs_task_definition")
        assert task_definitions, env
        for name, task in task_definitions.items():
            (container,) = hcl_jsonencoded(task["container_definitions"])
            assert container["image"] == release.image, (env, name)
            variables = {e["name"]: e["value"] for e in container["environment"]}
            assert variables["APP_VERSION"] == version, (env, name)
            assert variables["GIT_REVISION"] == TEST_GIT_REVISION, (env, name)
            assert task["tags"]["release"] == f"{version}+{TEST_GIT_REVISION}", (env, name)
        (service,) = stack.resources("aws_ecs_service").values()
        assert service["tags"]["release"] == f"{version}+{TEST_GIT_REVISION}", env
        outputs = {k: v["value"] for k, v in stack.doc["output"].items()}
        assert outputs["release_version"] == version, env
        assert outputs["release_git_revision"] == TEST_GIT_REVISION, env
        assert outputs["release_image"] == release.image, env
    for stack_id in synthesized.stack_ids:  # every stack's metadata names the release
        assert synthesized.stack(stack_id).doc["//"]["release"] == {
            "version": version,
            "git_revision": TEST_GIT_REVISION,
            "image": release.image,
        }, stack_id


def test_release_is_never_a_provider_default_tag(synthesized: Synthesized) -> None:
    for stack_id in synthesized.stack_ids:
        (provider,) = synthesized.stack(stack_id).doc["provider"]["aws"]
        tags = provider["default_tags"][0]["tags"]
        assert "release" not in tags, stack_id
        assert json.dumps(tags).count(TEST_GIT_REVISION) == 0, stack_id


def test_app_reports_the_release_version_and_revision(monkeypatch: pytest.MonkeyPatch) -> None:
    # GET /version answers settings.app_version / git_revision: the task definition sets
    # GIT_REVISION, and the image carries pyproject.toml.
    from app.core.config import Settings

    monkeypatch.setenv("GIT_REVISION", TEST_GIT_REVISION)
    monkeypatch.delenv("APP_VERSION", raising=False)
    settings = Settings()
    assert settings.app_version == project_version()
    assert settings.git_revision == TEST_GIT_REVISION
