"""One versioned unit: pyproject version, image tag, task definition, tags, outputs agree."""

from __future__ import annotations

import json
import tomllib

import pytest

from stacks.environments import load_delivery
from stacks.release import PYPROJECT, Release, image_tag_for, project_version
from tests.conftest import TEST_GIT_REVISION, TEST_IMAGE_TAG
from tests.synth_helpers import ENVIRONMENTS, Synthesized

DIGEST = "sha256:" + "ab" * 32


def test_reads_the_version_from_pyproject() -> None:
    with PYPROJECT.open("rb") as fh:
        assert project_version() == tomllib.load(fh)["project"]["version"]


def test_image_tag_is_version_plus_commit() -> None:
    assert image_tag_for("1.2.3", "0123456789abcdef" * 2 + "01234567") == "1.2.3-0123456789ab"
    assert image_tag_for("1.2.3", "unknown") == "1.2.3"


def test_image_reference_prefers_the_digest() -> None:
    repo = load_delivery().image_repository_uri()
    release = Release(version="1.2.3", git_revision="a" * 40, image_digest=DIGEST)
    assert release.image_reference(repo) == f"{repo}@{DIGEST}"
    assert Release(version="1.2.3").image_reference(repo) == f"{repo}:1.2.3"


def test_rejects_a_tag_of_another_version_and_a_bad_digest() -> None:
    with pytest.raises(ValueError, match=r"image_digest=.*image_tag=") as info:
        Release(version="1.2.3", image_tag="9.9.9", image_digest="md5:x")
    assert "one versioned unit" in str(info.value)


def test_release_tags_are_not_provider_default_tags(synthesized: Synthesized) -> None:
    for stack_id in synthesized.stack_ids:
        (provider,) = synthesized.stack(stack_id).doc["provider"]["aws"]
        assert "release" not in provider["default_tags"][0]["tags"], stack_id


def _service_stacks(synthesized: Synthesized) -> list[str]:
    return [
        f"kakehashi-{e}-service"
        for e in ENVIRONMENTS
        if f"kakehashi-{e}-service" in synthesized.stack_ids
    ]


def test_version_agrees_everywhere_for_one_synth(synthesized: Synthesized) -> None:
    version = project_version()
    # The session synth is stamped with these (tests/conftest.py).
    assert version == TEST_IMAGE_TAG
    stacks = _service_stacks(synthesized)
    if not stacks:
        pytest.skip("no service stack on this branch yet (merged from the service branch)")
    repo = load_delivery().image_repository_uri()
    release = Release.current(git_revision=TEST_GIT_REVISION, image_tag=TEST_IMAGE_TAG)
    for stack_id in stacks:
        stack = synthesized.stack(stack_id)
        task_defs = stack.resources("aws_ecs_task_definition")
        api = next(t for t in task_defs.values() if t["family"].endswith("-api"))
        (container,) = [c for c in json.loads(api["container_definitions"]) if c["name"] == "api"]
        assert container["image"] == release.image_reference(repo), stack_id
        env = {e["name"]: e["value"] for e in container["environment"]}
        assert env["APP_VERSION"] == version
        assert env["GIT_REVISION"] == TEST_GIT_REVISION
        assert api["tags"]["release"] == version
        (service,) = stack.resources("aws_ecs_service").values()
        assert service["tags"]["release"] == version
        outputs = json.dumps(stack.doc.get("output", {}))
        assert version in outputs, stack_id
        assert TEST_GIT_REVISION in outputs, stack_id
