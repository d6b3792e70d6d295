"""CodeBuild buildspecs: structure, the shared make targets, the digest hand-over."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
BUILDSPECS = ROOT / "pipelines" / "buildspecs"
PHASES = {"install", "pre_build", "build", "post_build"}


def load(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((BUILDSPECS / name).read_text(encoding="utf-8"))
    return doc


def commands(doc: dict[str, Any]) -> list[str]:
    return [c for phase in doc["phases"].values() for c in phase.get("commands", [])]


def test_every_buildspec_is_version_0_2_with_known_phases() -> None:
    names = sorted(p.name for p in BUILDSPECS.glob("*.yml"))
    assert names == ["build.yml", "deploy.yml"]
    for name in names:
        doc = load(name)
        assert doc["version"] == 0.2, name
        assert set(doc["phases"]) <= PHASES, name
        assert doc["phases"]["install"]["runtime-versions"]["python"] == "3.11", name
        assert doc["env"]["shell"] == "bash", name
        assert all(isinstance(c, str) and c.strip() for c in commands(doc)), name


def test_build_runs_the_quality_gate_before_building_the_image() -> None:
    cmds = commands(load("build.yml"))
    order = [
        next(i for i, c in enumerate(cmds) if c.startswith(target))
        for target in (
            "make lint",
            "make test",
            "make synth",
            "make release-image ",
            "make release-push",
        )
    ]
    assert order == sorted(order)


def test_build_exports_the_digest_the_pipeline_hands_to_deploys() -> None:
    from stacks.delivery import BUILD_EXPORTS

    doc = load("build.yml")
    assert doc["env"]["exported-variables"] == list(BUILD_EXPORTS)
    assert "reports/release.env" in doc["artifacts"]["files"]


def test_deploy_migrates_deploys_then_verifies_as_the_deployer() -> None:
    cmds = commands(load("deploy.yml"))
    order = [
        next(i for i, c in enumerate(cmds) if needle in c)
        for needle in (
            "pipelines.assume_role",
            "PHASE=pre",
            "make deploy",
            "PHASE=post",
            "make verify",
        )
    ]
    assert order == sorted(order)
    assert any('IMAGE="$IMAGE_REPOSITORY_URI@$KAKEHASHI_IMAGE_DIGEST"' in c for c in cmds)


def test_delivery_stack_points_at_these_buildspecs() -> None:
    from stacks.delivery import BUILD_BUILDSPEC, DEPLOY_BUILDSPEC

    assert (ROOT / BUILD_BUILDSPEC).is_file()
    assert (ROOT / DEPLOY_BUILDSPEC).is_file()
