"""Every custom check against its fixtures: the exact passing and failing resources.

Fixtures are synthesized from our constructs by ``policies/fixtures/synthesize.py``
(``make policy-fixtures``); one checkov run scans all of them (session fixture).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from tests.policies.conftest import FIXTURES, ScanRun

CHECKS = Path(__file__).resolve().parents[2] / "policies" / "checks"
TD = "aws_ecs_task_definition"
LOGS_KEY_POLICY = "data.aws_iam_policy_document.logs-key_policy_AD7C104E"
BACKEND = "terraform.backend.s3"

#: fixture -> (resources that pass, resources that fail) for the fixture's own check.
EXPECTED: dict[str, tuple[set[str], set[str]]] = {
    "CKV_KKH_001/pass": ({f"{TD}.secrets_in_secrets"}, set()),
    "CKV_KKH_001/fail": (set(), {f"{TD}.password_in_env", f"{TD}.access_key_in_env"}),
    "CKV_KKH_002/pass": ({f"{TD}.logs"}, set()),
    "CKV_KKH_002/fail": (set(), {f"{TD}.sidecar_without_logs"}),
    "CKV_KKH_003/pass": ({f"{TD}.read_only"}, set()),
    "CKV_KKH_003/fail": (set(), {f"{TD}.writable_root", f"{TD}.root_fs_unset"}),
    "CKV_KKH_004/pass": ({f"{TD}.uid_10001"}, set()),
    "CKV_KKH_004/fail": (set(), {f"{TD}.root_user", f"{TD}.uid_zero", f"{TD}.image_user"}),
    "CKV_KKH_005/pass": ({"aws_ecr_repository.with_lifecycle"}, set()),
    "CKV_KKH_005/fail": (set(), {"aws_ecr_repository.no_lifecycle"}),
    "CKV_KKH_006/pass": ({"aws_ecr_repository.immutable"}, set()),
    "CKV_KKH_006/fail": (set(), {"aws_ecr_repository.mutable"}),
    "CKV_KKH_007/pass": ({"aws_ecr_repository.scanned"}, set()),
    "CKV_KKH_007/fail": (set(), {"aws_ecr_repository.unscanned"}),
    # Tagged by the provider's default_tags alone; the KMS alias cannot carry tags.
    "CKV_KKH_008/pass": ({"aws_kms_key.key_F64E54E4"}, set()),
    "CKV_KKH_008/fail": (
        {"aws_kms_key.key_F64E54E4"},
        {"aws_cloudwatch_log_group.untagged_other_provider", "aws_s3_bucket.owner_tag_blanked"},
    ),
    "CKV_KKH_009/pass": ({"aws_cloudwatch_log_group.ninety_days"}, set()),
    "CKV_KKH_009/fail": (
        set(),
        {"aws_cloudwatch_log_group.never_expires", "aws_cloudwatch_log_group.five_years"},
    ),
    "CKV_KKH_010/pass": ({"aws_cloudwatch_log_group.encrypted"}, set()),
    "CKV_KKH_010/fail": (set(), {"aws_cloudwatch_log_group.unencrypted"}),
    "CKV_KKH_011/pass": (
        {
            "aws_security_group.alb_sg",
            "aws_security_group.db_sg",
            "aws_vpc_security_group_ingress_rule.alb_https_from_world",
            "aws_vpc_security_group_ingress_rule.db_from_service",
        },
        set(),
    ),
    "CKV_KKH_011/fail": (
        {"aws_security_group.alb_sg", "aws_security_group.db_sg"},
        {
            "aws_security_group.ssh_open",
            "aws_vpc_security_group_ingress_rule.alb_8080_from_world",
            "aws_vpc_security_group_ingress_rule.db_from_world",
        },
    ),
    # The internal ALB is not judged.
    "CKV_KKH_012/pass": ({"aws_alb.public_alb"}, set()),
    "CKV_KKH_012/fail": (set(), {"aws_alb.public_alb"}),
    "CKV_KKH_013/pass": ({"aws_rds_cluster.protected"}, set()),
    "CKV_KKH_013/fail": (set(), {"aws_rds_cluster.unprotected"}),
    "CKV_KKH_013/dev-not-judged": (set(), set()),
    "CKV_KKH_014/pass": ({"aws_rds_cluster.two_instances"}, set()),
    "CKV_KKH_014/fail": (set(), {"aws_rds_cluster.one_instance"}),
    "CKV_KKH_015/pass": ({"aws_elasticache_replication_group.two_nodes_failover"}, set()),
    "CKV_KKH_015/fail": (set(), {"aws_elasticache_replication_group.single_node"}),
    "CKV_KKH_016/pass": ({"aws_elasticache_replication_group.tls"}, set()),
    "CKV_KKH_016/fail": (set(), {"aws_elasticache_replication_group.plaintext"}),
    "CKV_KKH_017/pass": ({"aws_elasticache_replication_group.auth_token"}, set()),
    "CKV_KKH_017/fail": (set(), {"aws_elasticache_replication_group.no_auth"}),
    "CKV_KKH_018/pass": ({"aws_s3_bucket.tls_only"}, set()),
    "CKV_KKH_018/fail": (set(), {"aws_s3_bucket.any", "aws_s3_bucket.policy_without_tls"}),
    # The key policy's kms:* for the account root is exempt; trust policies are not judged.
    "CKV_KKH_019/pass": (
        {LOGS_KEY_POLICY, "data.aws_iam_policy_document.named_actions"},
        set(),
    ),
    "CKV_KKH_019/fail": (
        {LOGS_KEY_POLICY},
        {
            "data.aws_iam_policy_document.star_action",
            "data.aws_iam_policy_document.service_star",
        },
    ),
    # ecr:GetAuthorizationToken only supports "*"; key policies are not judged.
    "CKV_KKH_020/pass": ({"data.aws_iam_policy_document.scoped"}, set()),
    "CKV_KKH_020/fail": (set(), {"data.aws_iam_policy_document.any_object"}),
    "CKV_KKH_021/pass": ({BACKEND}, set()),
    "CKV_KKH_021/fail": (set(), {BACKEND}),
    "CKV_KKH_022/pass": ({BACKEND}, set()),
    "CKV_KKH_022/fail": (set(), {BACKEND}),
    "CKV_KKH_023/pass": ({BACKEND}, set()),
    "CKV_KKH_023/fail-a": (set(), {BACKEND}),
    "CKV_KKH_023/fail-b": (set(), {BACKEND}),
    "CKV_KKH_024/pass": (
        {"aws_rds_cluster.managed_password", "provider.aws", BACKEND},
        set(),
    ),
    "CKV_KKH_024/fail": (
        {"provider.aws", BACKEND},
        {"aws_rds_cluster.inline_password", "output.leaked"},
    ),
}


def results(scan: ScanRun) -> dict[str, dict[str, set[str]]]:
    """fixture -> result -> resources, for the check the fixture belongs to."""
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for f in scan.findings:
        if f["check_id"] == f["stack"].split("/")[0]:
            found[f["stack"]][f["result"]].add(f["resource"])
    return found


@pytest.mark.parametrize("fixture", sorted(EXPECTED))
def test_check_reports_exact_resources_for_fixture(fixture_scan: ScanRun, fixture: str) -> None:
    passed, failed = EXPECTED[fixture]
    got = results(fixture_scan)[fixture]
    assert (set(got["PASSED"]), set(got["FAILED"])) == (passed, failed)


def test_every_check_has_pass_and_fail_fixtures() -> None:
    ids = {p.name[:11] for p in CHECKS.glob("CKV_KKH_*.py")}
    fixtures = {p.parent.name for p in FIXTURES.glob("CKV_*/*.cdk.tf.json")}
    assert ids == fixtures
    for check in ids:
        variants = {p.name for p in (FIXTURES / check).glob("*.cdk.tf.json")}
        assert "pass.cdk.tf.json" in variants, check
        assert any(v.startswith("fail") for v in variants), check
    on_disk = {
        f"{p.parent.name}/{p.name.removesuffix('.cdk.tf.json')}"
        for p in FIXTURES.glob("CKV_*/*.cdk.tf.json")
    }
    assert on_disk == set(EXPECTED)


def test_loads_every_check_into_checkov(fixture_scan: ScanRun) -> None:
    """checkov silently skips checks it cannot load: each of ours must report a result."""
    reported = {f["check_id"] for f in fixture_scan.findings if f["source"] == "kakehashi"}
    assert reported == {p.name[:11] for p in CHECKS.glob("CKV_KKH_*.py")}
