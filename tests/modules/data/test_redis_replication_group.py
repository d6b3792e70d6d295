"""RedisReplicationGroup: props validation and the auth-secret grant."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cdktf import App, TerraformStack
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.provider import AwsProvider

from modules.data.redis_replication_group import (
    RedisReplicationGroup,
    RedisReplicationGroupProps,
)
from modules.security.kms_key import KmsKey, KmsKeyProps
from tests.synth_helpers import Stack, ref

ACCOUNT = "111122223333"
REGION = "ap-northeast-1"


def _stack(app: App | None = None) -> tuple[TerraformStack, KmsKey, KmsKey]:
    stack = TerraformStack(app or App(), "test")
    AwsProvider(stack, "aws", region=REGION)
    data_key = KmsKey(
        stack, "data-key", KmsKeyProps(alias="t/data", description="d", account_id=ACCOUNT)
    )
    logs_key = KmsKey(
        stack, "logs-key", KmsKeyProps(alias="t/logs", description="l", account_id=ACCOUNT)
    )
    return stack, data_key, logs_key


def _props(data_key: KmsKey, logs_key: KmsKey, **changes: Any) -> RedisReplicationGroupProps:
    props = RedisReplicationGroupProps(
        replication_group_id="kakehashi-test",
        engine_version="8.0",
        node_type="cache.t4g.small",
        num_cache_clusters=3,
        vpc_id="vpc-1",
        subnet_ids=["subnet-a", "subnet-c"],
        availability_zones=["ap-northeast-1a", "ap-northeast-1c"],
        client_security_group_id="sg-clients",
        kms_key=data_key,
        logs_key=logs_key,
        region=REGION,
        auth_secret_name="kakehashi/test/redis-auth",
        log_group_prefix="/kakehashi/test/elasticache",
    )
    return replace(props, **changes)


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Stack:
    app = App(outdir=str(tmp_path_factory.mktemp("redis")))
    stack, data_key, logs_key = _stack(app)
    cache = RedisReplicationGroup(
        stack, "cache", _props(data_key, logs_key, engine="redis", engine_version="7.1")
    )
    role = IamRole(stack, "task-role", name="task", assume_role_policy="{}")
    cache.grant_read_auth_secret(role)
    app.synth()
    return Stack("test", json.loads((Path(app.outdir) / "stacks/test/cdk.tf.json").read_text()))


def _problems(**changes: Any) -> str:
    stack, data_key, logs_key = _stack()
    with pytest.raises(ValueError, match=r"^RedisReplicationGroup cache: ") as info:
        RedisReplicationGroup(stack, "cache", _props(data_key, logs_key, **changes))
    return str(info.value)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"replication_group_id": "a" * 41}, "replication_group_id='aaaa"),
        ({"engine_version": "7.1"}, "engine_version='7.1': valkey >= 7.2"),
        (
            {"engine": "redis", "engine_version": "6.2"},
            "engine_version='6.2': redis >= 7.0",
        ),
        ({"engine_version": "8"}, "engine_version='8': pin 'major.minor'"),
        ({"node_type": "t4g.small"}, "node_type='t4g.small'"),
        ({"num_cache_clusters": 7}, "num_cache_clusters=7: 1-6"),
        ({"availability_zones": ["ap-northeast-1a"]}, "Multi-AZ needs a second AZ"),
        ({"snapshot_retention_days": 36}, "snapshot_retention_days=36: 0-35"),
        ({"log_retention_days": 2}, "log_retention_days=2: CloudWatch accepts one of"),
        ({"snapshot_window": "16:00-16:30"}, "snapshot_window='16:00-16:30': at least 60"),
        ({"maintenance_window": "sunday:19:30"}, "maintenance_window='sunday:19:30'"),
        (
            {"snapshot_window": "19:00-20:00"},
            "snapshot_window='19:00-20:00': overlaps maintenance_window 'sun:19:30-sun:20:30'",
        ),
        (
            # Crossing midnight into Monday still overlaps the Sunday-night window.
            {"snapshot_window": "23:30-00:30", "maintenance_window": "mon:00:00-mon:01:00"},
            "overlaps maintenance_window 'mon:00:00-mon:01:00'",
        ),
        ({"auth_token_generation": 0}, "auth_token_generation=0: must be >= 1"),
    ],
)
def test_rejects_bad_props_with_their_message(changes: dict[str, Any], expected: str) -> None:
    assert expected in _problems(**changes)


def test_reports_every_problem_in_one_error() -> None:
    message = _problems(num_cache_clusters=0, node_type="big", snapshot_retention_days=-1)
    assert "num_cache_clusters=0" in message
    assert "node_type='big'" in message
    assert "snapshot_retention_days=-1" in message


def test_spreads_nodes_round_robin_with_failover(synthesized: Stack) -> None:
    _, group = synthesized.one("aws_elasticache_replication_group")
    assert group["preferred_cache_cluster_azs"] == [
        "ap-northeast-1a",
        "ap-northeast-1c",
        "ap-northeast-1a",
    ]
    assert group["automatic_failover_enabled"] is True
    assert group["multi_az_enabled"] is True
    _, params = synthesized.one("aws_elasticache_parameter_group")
    assert params["family"] == "redis7"


def test_grant_read_auth_secret_reads_only_the_token_secret(synthesized: Stack) -> None:
    secret_name, _ = synthesized.one("aws_secretsmanager_secret", "auth-secret")
    key_name, _ = synthesized.one("aws_kms_key", "data-key")
    _, policy = synthesized.one("aws_iam_role_policy", "/read-redis-auth-secret")
    read, decrypt = synthesized.policy_document(policy["policy"])["statement"]
    assert read["resources"] == [ref("aws_secretsmanager_secret", secret_name, "arn")]
    assert read["actions"] == ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    assert decrypt["actions"] == ["kms:Decrypt"]
    assert decrypt["resources"] == [ref("aws_kms_key", key_name, "arn")]
    assert decrypt["condition"][0]["values"] == [f"secretsmanager.{REGION}.amazonaws.com"]
