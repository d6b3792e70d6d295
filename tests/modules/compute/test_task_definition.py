"""ContainerTaskDefinition: validation, and the hardened container it renders."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from cdktf import App, TerraformStack

from modules.compute.task_definition import ContainerTaskDefinition, TaskDefinitionProps

PROPS = TaskDefinitionProps(
    family="t-api",
    cpu=256,
    memory_mib=512,
    container_name="api",
    image="repo:1",
    execution_role_arn="arn:aws:iam::111122223333:role/exec",
    task_role_arn="arn:aws:iam::111122223333:role/task",
    log_group_name="/t/api",
    region="ap-northeast-1",
)


def _build(**changes: Any) -> ContainerTaskDefinition:
    return ContainerTaskDefinition(TerraformStack(App(), "t"), "task", replace(PROPS, **changes))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"environment": {"DATABASE_PASSWORD": "x"}}, "environment[DATABASE_PASSWORD]: looks"),
        ({"environment": {"REDIS_AUTH_TOKEN": "x"}}, "environment[REDIS_AUTH_TOKEN]: looks"),
        ({"environment": {"CARRIER_API_KEY": "x"}}, "environment[CARRIER_API_KEY]: looks"),
        (
            {"environment": {"A": "1"}, "secrets": {"A": "arn:aws:secretsmanager:x"}},
            "A: in both environment and secrets",
        ),
        ({"user": "0"}, "user='0': a numeric, non-root UID"),
        ({"user": "app"}, "user='app': a numeric, non-root UID"),
        ({"stop_timeout_seconds": 300}, "stop_timeout_seconds=300: 2-120"),
        ({"writable_paths": ["tmp"]}, "writable_paths: 'tmp' must be an absolute"),
    ],
)
def test_fails_when_props_are_unsafe(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match="ContainerTaskDefinition task") as info:
        _build(**changes)
    assert message in str(info.value)


def test_reports_every_problem_at_once() -> None:
    with pytest.raises(ValueError, match="ContainerTaskDefinition task") as info:
        _build(user="0", stop_timeout_seconds=1, environment={"X_SECRET": "s"})
    text = str(info.value)
    assert "user='0'" in text
    assert "stop_timeout_seconds=1" in text
    assert "environment[X_SECRET]" in text


def test_accepts_secret_arn_and_key_id_settings_as_plain_environment() -> None:
    task = _build(
        environment={"DATABASE_SECRET_ARN": "arn", "JWT_KMS_KEY_ID": "arn", "LOG_LEVEL": "INFO"}
    )
    names = [e["name"] for e in task.container_definition["environment"]]
    assert names == ["DATABASE_SECRET_ARN", "JWT_KMS_KEY_ID", "LOG_LEVEL"]


def test_container_is_hardened_by_default() -> None:
    container = _build().container_definition
    assert container["user"] == "10001"
    assert container["readonlyRootFilesystem"] is True
    assert container["privileged"] is False
    assert container["stopTimeout"] == 120
    assert container["portMappings"] == []
    assert "healthCheck" not in container
    assert container["mountPoints"] == [
        {"sourceVolume": "writable-tmp", "containerPath": "/tmp", "readOnly": False}
    ]
