"""GitHub workflows: validators (schema, zizmor) and our own structural rules."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
GITHUB = ROOT / ".github"
WORKFLOWS = {p.stem: p for p in sorted((GITHUB / "workflows").glob("*.yml"))}
ACTIONS = sorted((GITHUB / "actions").glob("*/action.yml"))
BIN = Path(sys.executable).parent
PINNED = re.compile(
    r"^\s*-?\s*uses:\s*(?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40})\s+#\s*v\d+\.\d+\.\d+\s*$"
)
USES = re.compile(r"^\s*-?\s*uses:\s*(?P<target>\S+)")
ENVIRONMENTS = ("dev", "staging", "prod")


def load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in doc:  # YAML 1.1 reads the `on:` key as a boolean
        doc["on"] = doc.pop(True)
    return doc


def jobs(name: str) -> dict[str, dict[str, Any]]:
    return dict(load(WORKFLOWS[name])["jobs"])


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def all_files() -> list[Path]:
    return [*WORKFLOWS.values(), *ACTIONS]


def tool(name: str) -> str:
    path = BIN / name
    found = str(path) if path.exists() else shutil.which(name)
    assert found, f"{name} is not installed (make venv)"
    return found


def test_has_the_three_workflows() -> None:
    assert set(WORKFLOWS) == {"ci", "deploy", "drift"}


def test_workflows_match_the_github_schema() -> None:
    for schema, files in (
        ("vendor.github-workflows", WORKFLOWS.values()),
        ("vendor.github-actions", ACTIONS),
    ):
        result = subprocess.run(
            [tool("check-jsonschema"), "--builtin-schema", schema, *map(str, files)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing() -> None:
    result = subprocess.run(
        [
            tool("zizmor"),
            "--offline",
            "--config",
            str(GITHUB / "zizmor.yml"),
            "--format",
            "plain",
            str(GITHUB),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout


def test_zizmor_config_justifies_every_disabled_rule() -> None:
    text = (GITHUB / "zizmor.yml").read_text(encoding="utf-8")
    config = yaml.safe_load(text)
    for rule in config.get("rules", {}):
        block = text.split(f"\n  {rule}:\n", 1)[1].split("\n  ", 1)[0]
        reason = [
            line
            for line in text.split(f"\n  {rule}:\n", 1)[1].splitlines()
            if line.strip().startswith("#")
        ]
        assert len(" ".join(reason)) > 80, f"{rule}: say why it is disabled"
        assert block is not None


def test_every_remote_action_is_pinned_to_a_commit_with_its_version() -> None:
    for path in all_files():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = USES.match(line)
            if not match or match.group("target").startswith("./"):
                continue
            assert PINNED.match(line), (
                f"{path.name}:{number}: not pinned to a SHA + # vX.Y.Z: {line}"
            )


def test_default_permissions_are_empty_and_every_job_declares_its_own() -> None:
    for name, path in WORKFLOWS.items():
        doc = load(path)
        assert doc["permissions"] == {}, name
        for job_id, job in doc["jobs"].items():
            assert "permissions" in job, f"{name}.{job_id}"
            assert job["permissions"].get("contents") == "read", f"{name}.{job_id}"
            assert set(job["permissions"].values()) <= {"read", "write"}


def test_id_token_only_where_aws_is_reached() -> None:
    allowed = {
        ("deploy", "build"),
        *(("deploy", f"deploy-{e}") for e in ENVIRONMENTS),
        ("drift", "drift"),
    }
    granted = {
        (name, job_id)
        for name in WORKFLOWS
        for job_id, job in jobs(name).items()
        if job["permissions"].get("id-token") == "write"
    }
    assert granted == allowed
    assert not any(j["permissions"].get("id-token") for j in jobs("ci").values())


def test_every_checkout_drops_its_credentials() -> None:
    for name in WORKFLOWS:
        for job_id, job in jobs(name).items():
            checkouts = [s for s in steps(job) if s.get("uses", "").startswith("actions/checkout@")]
            assert checkouts, f"{name}.{job_id}"
            for step in checkouts:
                assert step["with"]["persist-credentials"] is False, f"{name}.{job_id}"


def test_every_workflow_has_a_concurrency_group() -> None:
    for name, path in WORKFLOWS.items():
        assert load(path)["concurrency"]["group"], name
    assert load(WORKFLOWS["deploy"])["concurrency"]["cancel-in-progress"] is False


def test_no_dangerous_triggers() -> None:
    for name, path in WORKFLOWS.items():
        assert not {"pull_request_target", "workflow_run"} & set(load(path)["on"]), name


def test_no_expression_is_interpolated_into_a_script() -> None:
    # Untrusted text reaches scripts only through env: (quoted shell variables).
    for path in all_files():
        doc = load(path)
        blocks = [*doc.get("jobs", {}).values()] if "jobs" in doc else [doc["runs"]]
        for block in blocks:
            for step in steps(block):
                assert "${{" not in step.get("run", ""), f"{path}: {step.get('name', step)}"


def test_ci_runs_the_make_targets_with_database_services() -> None:
    ci = jobs("ci")
    runs = {s.get("run", "").strip() for job in ci.values() for s in steps(job)}
    for target in (
        "make lint",
        "make lint-pipelines",
        "make test",
        "make synth",
        "make workflow-lint",
    ):
        assert target in runs, target
    assert {"postgres", "redis"} <= set(ci["test"]["services"])
    assert load(WORKFLOWS["ci"])["on"].keys() == {"pull_request", "push"}


def test_ci_uploads_sarif_and_runs_hadolint_and_testinfra() -> None:
    ci = jobs("ci")
    uploads = [
        s
        for j in ci.values()
        for s in steps(j)
        if "codeql-action/upload-sarif@" in s.get("uses", "")
    ]
    assert {u["with"]["sarif_file"] for u in uploads} == {
        "reports/policy/results.sarif",
        "reports/hadolint.sarif",
    }
    for job_id in ("synth", "hadolint"):
        assert ci[job_id]["permissions"]["security-events"] == "write"
    assert any("make hadolint" in s.get("run", "") for s in steps(ci["hadolint"]))
    testinfra = " ".join(s.get("run", "") for s in steps(ci["image"]))
    assert "pytest tests/infra --hosts docker://" in testinfra


def test_deploy_builds_once_then_promotes_dev_staging_prod_in_order() -> None:
    deploy = jobs("deploy")
    assert set(deploy) == {"build", "deploy-dev", "deploy-staging", "deploy-prod"}
    assert "needs" not in deploy["build"]
    assert deploy["build"]["outputs"]["digest"] == "${{ steps.push.outputs.IMAGE_DIGEST }}"
    previous = "build"
    for env in ENVIRONMENTS:
        job = deploy[f"deploy-{env}"]
        assert job["environment"] == env
        assert previous in job["needs"]
        assert "build" in job["needs"]
        (action,) = [s for s in steps(job) if s.get("uses") == "./.github/actions/deploy"]
        assert action["with"] == {
            "environment": env,
            "image-digest": "${{ needs.build.outputs.digest }}",
            "image-tag": "${{ needs.build.outputs.tag }}",
        }
        previous = f"deploy-{env}"
    assert set(load(WORKFLOWS["deploy"])["on"]) == {"push", "workflow_dispatch"}


def test_deploy_action_migrates_deploys_the_digest_and_verifies() -> None:
    runs = load(GITHUB / "actions/deploy/action.yml")["runs"]["steps"]
    scripts = [s.get("run", "") for s in runs]
    order = [
        next(i for i, s in enumerate(scripts) if needle in s)
        for needle in ("PHASE=pre", "make deploy", "pipelines.verify --env")
    ]
    assert order == sorted(order)
    deploy = next(s for s in runs if "make deploy" in s.get("run", ""))
    assert deploy["env"]["KAKEHASHI_IMAGE_DIGEST"] == "${{ inputs.image-digest }}"
    chained = [s for s in runs if "configure-aws-credentials@" in s.get("uses", "")]
    assert [s["with"].get("role-chaining", False) for s in chained] == [False, True]


def test_drift_runs_nightly_per_environment_and_fails_on_drift() -> None:
    doc = load(WORKFLOWS["drift"])
    assert doc["on"]["schedule"][0]["cron"]
    job = doc["jobs"]["drift"]
    assert job["strategy"]["matrix"]["environment"] == list(ENVIRONMENTS)
    assert job["strategy"]["fail-fast"] is False
    assert any("make drift" in s.get("run", "") for s in steps(job))


@pytest.mark.parametrize(
    "target",
    [
        "lint",
        "lint-pipelines",
        "test",
        "synth",
        "release-image",
        "release-push",
        "release-migrate",
        "deploy",
        "verify",
        "drift",
        "hadolint",
        "workflow-lint",
        "tools",
    ],
)
def test_make_targets_used_by_pipelines_exist(target: str) -> None:
    makefiles = [ROOT / "Makefile", *sorted((ROOT / "mk").glob("*.mk"))]
    defined = {
        m.group(1)
        for f in makefiles
        for m in re.finditer(r"^([a-z][a-z-]*):", f.read_text(encoding="utf-8"), re.M)
    }
    assert target in defined
