"""AuroraPostgres: props validation and the grant helpers, on one small synthesized stack."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cdktf import App, TerraformStack
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.provider import AwsProvider

from modules.data.aurora_postgres import AuroraPostgres, AuroraPostgresProps
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


def _props(data_key: KmsKey, logs_key: KmsKey, **changes: Any) -> AuroraPostgresProps:
    props = AuroraPostgresProps(
        cluster_identifier="kakehashi-test",
        engine_version="16.6",
        database_name="kakehashi",
        vpc_id="vpc-1",
        subnet_ids=["subnet-a", "subnet-c"],
        availability_zones=["ap-northeast-1a", "ap-northeast-1c"],
        client_security_group_id="sg-clients",
        kms_key=data_key,
        logs_key=logs_key,
        account_id=ACCOUNT,
        region=REGION,
        instance_count=2,
        max_connections=200,
        instance_class="db.r7g.large",
    )
    return replace(props, **changes)


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Stack:
    """A provisioned cluster with both grants on one role, synthesized once."""
    app = App(outdir=str(tmp_path_factory.mktemp("aurora")))
    stack, data_key, logs_key = _stack(app)
    db = AuroraPostgres(stack, "aurora", _props(data_key, logs_key))
    role = IamRole(stack, "task-role", name="task", assume_role_policy="{}")
    db.grant_connect(role)
    db.grant_read_master_secret(role)
    app.synth()
    return Stack("test", json.loads((Path(app.outdir) / "stacks/test/cdk.tf.json").read_text()))


def _problems(**changes: Any) -> str:
    stack, data_key, logs_key = _stack()
    with pytest.raises(ValueError, match=r"^AuroraPostgres aurora: ") as info:
        AuroraPostgres(stack, "aurora", _props(data_key, logs_key, **changes))
    return str(info.value)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"engine_version": "16"}, "engine_version='16': pin 'major.minor'"),
        ({"cluster_identifier": "Kakehashi_Test"}, "cluster_identifier='Kakehashi_Test'"),
        ({"master_username": "postgres"}, "master_username='postgres': reserved"),
        ({"iam_database_user": "kakehashi_admin"}, "iam_database_user='kakehashi_admin': must"),
        ({"instance_count": 16}, "instance_count=16: writer plus readers: 1-15"),
        ({"availability_zones": ["ap-northeast-1a"]}, "readers need a second AZ"),
        ({"instance_class": "r7g.large"}, "instance_class='r7g.large'"),
        (
            {"serverless_min_acu": Decimal(1)},
            "serverless_*=(Decimal('1'), None, None): only with instance_class db.serverless",
        ),
        (
            {"instance_class": "db.serverless"},
            "serverless_min_acu/serverless_max_acu=(None, None): both required",
        ),
        (
            {
                "instance_class": "db.serverless",
                "serverless_min_acu": Decimal("0.25"),
                "serverless_max_acu": Decimal(4),
            },
            "min_acu='0.25': must be a multiple of 0.5",
        ),
        (
            {
                "instance_class": "db.serverless",
                "serverless_min_acu": Decimal(1),
                "serverless_max_acu": Decimal(4),
                "seconds_until_auto_pause": 600,
            },
            "seconds_until_auto_pause=600: auto-pause is only allowed when min_acu is 0",
        ),
        ({"max_connections": 10}, "max_connections=10: 20-5000"),
        ({"backup_retention_days": 0}, "backup_retention_days=0: 1-35"),
        ({"preferred_backup_window": "25:00-26:00"}, "preferred_backup_window='25:00-26:00'"),
        ({"log_retention_days": 10}, "log_retention_days=10: CloudWatch accepts one of"),
        ({"performance_insights_retention_days": 30}, "performance_insights_retention_days=30"),
        ({"monitoring_interval_seconds": 0}, "monitoring_interval_seconds=0"),
        ({"statement_timeout_ms": 0}, "statement_timeout_ms=0: 1 to 2147483647 ms"),
        ({"skip_final_snapshot": True}, "skip_final_snapshot=True: a deletion-protected"),
    ],
)
def test_rejects_bad_props_with_their_message(changes: dict[str, Any], expected: str) -> None:
    assert expected in _problems(**changes)


def test_reports_every_problem_in_one_error() -> None:
    message = _problems(instance_count=0, max_connections=1, port=3389)
    assert "instance_count=0" in message
    assert "max_connections=1" in message
    assert "port=3389" in message


def test_provisioned_capacity_has_no_serverless_block(synthesized: Stack) -> None:
    _, cluster = synthesized.one("aws_rds_cluster")
    assert "serverlessv2_scaling_configuration" not in cluster
    instances = synthesized.resources("aws_rds_cluster_instance").values()
    assert [i["instance_class"] for i in instances] == ["db.r7g.large"] * 2


def test_grant_connect_allows_rds_db_connect_as_the_app_user_only(synthesized: Stack) -> None:
    cluster_name, _ = synthesized.one("aws_rds_cluster")
    _, policy = synthesized.one("aws_iam_role_policy", "/rds-connect")
    assert policy["role"] == ref("aws_iam_role", synthesized.one("aws_iam_role", "task")[0])
    (statement,) = synthesized.policy_document(policy["policy"])["statement"]
    assert statement["actions"] == ["rds-db:connect"]
    assert statement["resources"] == [
        f'${{format("arn:aws:rds-db:%s:%s:dbuser:%s/%s", "{REGION}", "{ACCOUNT}", '
        f'aws_rds_cluster.{cluster_name}.cluster_resource_id, "kakehashi_app")}}'
    ]


def test_grant_read_master_secret_reads_one_secret_and_decrypts_via_secrets_manager(
    synthesized: Stack,
) -> None:
    cluster_name, _ = synthesized.one("aws_rds_cluster")
    key_name, _ = synthesized.one("aws_kms_key", "data-key")
    _, policy = synthesized.one("aws_iam_role_policy", "/read-database-master-secret")
    read, decrypt = synthesized.policy_document(policy["policy"])["statement"]
    assert read["actions"] == ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    assert read["resources"] == [
        f"${{aws_rds_cluster.{cluster_name}.master_user_secret[0].secret_arn}}"
    ]
    assert decrypt["actions"] == ["kms:Decrypt"]
    assert decrypt["resources"] == [ref("aws_kms_key", key_name, "arn")]
    assert decrypt["condition"] == [
        {
            "test": "StringEquals",
            "variable": "kms:ViaService",
            "values": [f"secretsmanager.{REGION}.amazonaws.com"],
        }
    ]
