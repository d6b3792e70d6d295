"""pipelines/ helpers: migrations runner (moto), drift parsing, bootstrap trust and the
GitHub identifiers, checked against the synthesized delivery stack."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from pipelines import bootstrap, ci_config, drift, migrate
from pipelines.assume_role import export_lines
from stacks import naming
from stacks.environments import load_delivery, load_environments
from tests.synth_helpers import ENVIRONMENTS, Synthesized

REGION = "ap-northeast-1"
NEW_IMAGE = "999900001111.dkr.ecr.ap-northeast-1.amazonaws.com/kakehashi/api@sha256:" + "ab" * 32


class EcsWithTasks:
    """moto's ECS for task definitions and services; run_task/describe_tasks scripted
    (moto cannot start Fargate tasks)."""

    def __init__(self, client: Any, exit_code: int) -> None:
        self._client = client
        self.exit_code = exit_code
        self.exceptions = client.exceptions
        self.ran: list[dict[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def run_task(self, **kwargs: Any) -> dict[str, Any]:
        self.ran.append(kwargs)
        return {"tasks": [{"taskArn": "arn:aws:ecs:task/1"}], "failures": []}

    def describe_tasks(self, **_: Any) -> dict[str, Any]:
        return {
            "tasks": [
                {
                    "lastStatus": "STOPPED",
                    "stoppedReason": "Essential container in task exited",
                    "containers": [{"exitCode": self.exit_code}],
                }
            ]
        }


@pytest.fixture
def ecs() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("ecs", region_name=REGION)
        ec2 = boto3.client("ec2", region_name=REGION)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
        sg = ec2.create_security_group(GroupName="svc", Description="svc", VpcId=vpc)["GroupId"]
        client.create_cluster(clusterName=naming.ecs_cluster("dev"))
        client.register_task_definition(
            family=naming.migration_task_family("dev"),
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu="256",
            memory="512",
            executionRoleArn="arn:aws:iam::111122223333:role/kakehashi-dev-api-execution",
            containerDefinitions=[
                {
                    "name": "migrate",
                    "image": "old@sha256:" + "00" * 32,
                    "command": ["alembic", "upgrade", "head"],
                    "essential": True,
                    "memory": 512,
                }
            ],
            tags=[{"key": "release", "value": "0.0.9"}],
        )
        client.create_service(
            cluster=naming.ecs_cluster("dev"),
            serviceName=naming.ecs_service("dev"),
            taskDefinition=naming.migration_task_family("dev"),
            desiredCount=0,
            launchType="FARGATE",
            networkConfiguration={
                "awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [sg]}
            },
        )
        yield client


def test_registers_the_migration_task_with_the_new_image_and_runs_it(ecs: Any) -> None:
    fake = EcsWithTasks(ecs, exit_code=0)
    assert migrate.run_migrations(fake, env="dev", image=NEW_IMAGE, sleep=lambda _: None) == 0
    latest = ecs.describe_task_definition(taskDefinition=naming.migration_task_family("dev"))
    definition = latest["taskDefinition"]
    assert definition["revision"] == 2
    assert definition["containerDefinitions"][0]["image"] == NEW_IMAGE
    assert definition["containerDefinitions"][0]["command"] == ["alembic", "upgrade", "head"]
    (run,) = fake.ran
    assert run["taskDefinition"] == definition["taskDefinitionArn"]
    assert run["networkConfiguration"]["awsvpcConfiguration"]["subnets"]


def test_fails_the_promotion_when_the_migration_fails(ecs: Any) -> None:
    fake = EcsWithTasks(ecs, exit_code=1)
    assert migrate.run_migrations(fake, env="dev", image=NEW_IMAGE, sleep=lambda _: None) == 1


def test_defers_migrations_to_after_the_first_deploy(
    ecs: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(migrate, "MARKER_DIR", tmp_path)
    fake = EcsWithTasks(ecs, exit_code=0)
    args = ["--env", "staging", "--image", NEW_IMAGE, "--phase", "pre"]
    assert migrate.main(args, ecs=fake) == 0
    assert (tmp_path / "migrations-pending-staging").exists()
    assert not fake.ran


def test_with_image_replaces_only_the_image() -> None:
    current = {
        "family": "f",
        "taskDefinitionArn": "arn:x",
        "revision": 3,
        "status": "ACTIVE",
        "containerDefinitions": [{"name": "migrate", "image": "old", "command": ["a"]}],
        "cpu": "256",
    }
    request = migrate.with_image(current, "new", [{"key": "release", "value": "1"}])
    assert request == {
        "family": "f",
        "cpu": "256",
        "containerDefinitions": [{"name": "migrate", "image": "new", "command": ["a"]}],
        "tags": [{"key": "release", "value": "1"}],
    }


def test_parses_cdktf_diff_into_clean_drift_and_unknown() -> None:
    output = "\n".join(
        [
            "kakehashi-dev-network  No changes. Your infrastructure matches the configuration.",
            "kakehashi-dev-data  Plan: 0 to add, 2 to change, 0 to destroy.",
        ]
    )
    stacks = ["kakehashi-dev-network", "kakehashi-dev-data", "kakehashi-dev-service"]
    assert [d.status for d in drift.parse_diff(output, stacks)] == ["clean", "drift", "unknown"]
    assert drift.parse_diff(output, stacks)[1].change == 2
    assert "| kakehashi-dev-data | drift | 0 | 2 | 0 |" in drift.summary(
        "dev", drift.parse_diff(output, stacks)
    )


def test_export_lines_quote_credentials() -> None:
    lines = export_lines({"AccessKeyId": "AKIA", "SecretAccessKey": "a b'c", "SessionToken": "t"})
    assert lines[1] == "export AWS_SECRET_ACCESS_KEY='a b'\"'\"'c'"


def _role_names(synthesized: Synthesized) -> set[str]:
    stack = synthesized.stack("kakehashi-delivery")
    return {role["name"] for role in stack.resources("aws_iam_role").values()}


def test_spoke_roles_trust_exactly_roles_the_delivery_stack_creates(
    synthesized: Synthesized,
) -> None:
    delivery = load_delivery()
    created = _role_names(synthesized)
    for env in ENVIRONMENTS:
        deployer = bootstrap.trust_policy("deployer", env, delivery.account_id)
        (statement,) = deployer["Statement"]
        principals = statement["Principal"]["AWS"]
        assert principals == [
            f"arn:aws:iam::{delivery.account_id}:role/kakehashi-deploy-{env}-codebuild",
            f"arn:aws:iam::{delivery.account_id}:role/{naming.github_deploy_role(env)}",
        ]
        assert {p.rsplit("/", 1)[1] for p in principals} <= created
    (reader,) = bootstrap.trust_policy("drift-reader", "prod", delivery.account_id)["Statement"]
    assert reader["Principal"]["AWS"] == [
        f"arn:aws:iam::{delivery.account_id}:role/{naming.github_drift_role()}"
    ]


def test_github_workflows_get_role_arns_the_delivery_stack_creates(
    synthesized: Synthesized,
) -> None:
    created = _role_names(synthesized)
    envs = load_environments()
    for env in ENVIRONMENTS:
        values = ci_config.outputs(load_delivery(), envs[env])
        for key in ("deploy_role_arn", "publish_role_arn", "drift_role_arn"):
            assert values[key].rsplit("/", 1)[1] in created, key
        assert values["deployer_role_arn"] == (
            f"arn:aws:iam::{envs[env].account_id}:role/kakehashi-{env}-deployer"
        )
