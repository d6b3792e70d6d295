"""kakehashi-delivery: registry, pipeline stages and order, CodeBuild least privilege,
artifact store, GitHub OIDC trust."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stacks import naming
from stacks.environments import load_delivery, load_environments
from tests.synth_helpers import ENVIRONMENTS, Stack, Synthesized, ref

DELIVERY = load_delivery()
ENVS = load_environments()
OIDC = "token.actions.githubusercontent.com"


@pytest.fixture(scope="module")
def stack(synthesized: Synthesized) -> Stack:
    return synthesized.stack("kakehashi-delivery")


def statements(stack: Stack, policy_ref: str) -> dict[str, dict[str, Any]]:
    return {s["sid"]: s for s in stack.policy_document(policy_ref)["statement"]}


def role_policy(stack: Stack, path: str) -> dict[str, dict[str, Any]]:
    _, policy = stack.one("aws_iam_role_policy", path)
    return statements(stack, policy["policy"])


def test_synthesizes_the_delivery_stack_once_with_its_own_state_key(
    synthesized: Synthesized,
) -> None:
    assert [s for s in synthesized.stack_ids if "delivery" in s] == ["kakehashi-delivery"]
    doc = synthesized.stack("kakehashi-delivery").doc
    backend = doc["terraform"]["backend"]["s3"]
    assert backend["key"] == "delivery/delivery.tfstate"
    assert backend["bucket"] == DELIVERY.state.bucket
    (provider,) = doc["provider"]["aws"]
    assert provider["allowed_account_ids"] == [DELIVERY.account_id]
    assert provider["default_tags"][0]["tags"]["environment"] == "delivery"


def test_builds_delivery_only_when_selected() -> None:
    from stacks.app import build
    from stacks.environments import SynthOptions

    # Construction only (no synthesis): which stacks a per-environment deploy would get.
    assert "kakehashi-delivery" not in build(SynthOptions(environments=("dev",))).stacks
    assert list(build(SynthOptions(environments=("delivery",))).stacks) == ["kakehashi-delivery"]


def test_ecr_repository_is_immutable_scanned_and_cmk_encrypted(stack: Stack) -> None:
    _, repo = stack.one("aws_ecr_repository")
    assert repo["name"] == DELIVERY.ecr_repository_name
    assert repo["image_tag_mutability"] == "IMMUTABLE"
    assert repo["image_scanning_configuration"] == {"scan_on_push": True}
    key_name, _ = stack.one("aws_kms_key", "/ecr-key/")
    assert repo["encryption_configuration"] == [
        {"encryption_type": "KMS", "kms_key": ref("aws_kms_key", key_name, "arn")}
    ]


def test_ecr_lifecycle_expires_untagged_and_keeps_n_releases(stack: Stack) -> None:
    _, lifecycle = stack.one("aws_ecr_lifecycle_policy")
    rules = {r["selection"]["tagStatus"]: r for r in json.loads(lifecycle["policy"])["rules"]}
    assert rules["untagged"]["selection"]["countType"] == "sinceImagePushed"
    assert rules["untagged"]["selection"]["countNumber"] == DELIVERY.ecr_untagged_expiry_days
    assert rules["tagged"]["selection"]["countType"] == "imageCountMoreThan"
    assert rules["tagged"]["selection"]["countNumber"] == DELIVERY.ecr_keep_releases
    assert all(r["action"] == {"type": "expire"} for r in rules.values())


def test_ecr_policy_lets_each_environment_execution_role_pull_only(stack: Stack) -> None:
    _, policy = stack.one("aws_ecr_repository_policy")
    by_sid = statements(stack, policy["policy"])
    assert set(by_sid) == {f"Pull{e.capitalize()}" for e in ENVIRONMENTS}
    for env in ENVIRONMENTS:
        s = by_sid[f"Pull{env.capitalize()}"]
        account = ENVS[env].account_id
        assert s["principals"] == [{"type": "AWS", "identifiers": [f"arn:aws:iam::{account}:root"]}]
        assert sorted(s["actions"]) == [
            "ecr:BatchCheckLayerAvailability",
            "ecr:BatchGetImage",
            "ecr:GetDownloadUrlForLayer",
        ]
        assert s["condition"] == [
            {
                "test": "ArnLike",
                "variable": "aws:PrincipalArn",
                "values": [f"arn:aws:iam::{account}:role/{naming.execution_role(env)}"],
            }
        ]


def test_pipeline_is_v2_and_promotes_dev_staging_approval_prod(stack: Stack) -> None:
    _, pipeline = stack.one("aws_codepipeline")
    assert pipeline["pipeline_type"] == "V2"
    assert [s["name"] for s in pipeline["stage"]] == [
        "Source",
        "Build",
        "DeployDev",
        "DeployStaging",
        "ApproveProd",
        "DeployProd",
    ]
    source = pipeline["stage"][0]["action"][0]
    assert source["provider"] == "CodeStarSourceConnection"
    assert source["configuration"]["ConnectionArn"] == ref(
        "aws_codestarconnections_connection", "github", "arn"
    )
    assert source["configuration"]["FullRepositoryId"] == DELIVERY.github_repository
    assert source["configuration"]["BranchName"] == DELIVERY.github_branch
    trigger = pipeline["trigger"][0]["git_configuration"]
    assert trigger["push"][0]["branches"]["includes"] == [DELIVERY.github_branch]


def test_every_deploy_stage_deploys_the_digest_built_once(stack: Stack) -> None:
    _, pipeline = stack.one("aws_codepipeline")
    stages = {s["name"]: s["action"][0] for s in pipeline["stage"]}
    assert stages["Build"]["namespace"] == "BuildVariables"
    for env in ENVIRONMENTS:
        action = stages[f"Deploy{env.capitalize()}"]
        assert action["provider"] == "CodeBuild"
        assert action["configuration"]["ProjectName"] == naming.codebuild_project(f"deploy-{env}")
        assert action["input_artifacts"] == ["source", "build"]
        variables = {
            v["name"]: v["value"]
            for v in json.loads(action["configuration"]["EnvironmentVariables"])
        }
        assert variables["KAKEHASHI_IMAGE_DIGEST"] == "#{BuildVariables.IMAGE_DIGEST}"


def test_prod_approval_notifies_a_kms_encrypted_topic(stack: Stack) -> None:
    _, pipeline = stack.one("aws_codepipeline")
    approval = next(s for s in pipeline["stage"] if s["name"] == "ApproveProd")["action"][0]
    assert (approval["category"], approval["provider"]) == ("Approval", "Manual")
    assert approval["configuration"]["NotificationArn"] == ref(
        "aws_sns_topic", "approval-topic", "arn"
    )
    _, topic = stack.one("aws_sns_topic")
    key_name, _ = stack.one("aws_kms_key", "/artifacts-key/")
    assert topic["kms_master_key_id"] == ref("aws_kms_key", key_name, "arn")


def test_artifact_store_is_the_encrypted_private_tls_only_bucket(stack: Stack) -> None:
    _, pipeline = stack.one("aws_codepipeline")
    (store,) = pipeline["artifact_store"]
    key_name, _ = stack.one("aws_kms_key", "/artifacts-key/")
    assert store["encryption_key"] == {"id": ref("aws_kms_key", key_name, "arn"), "type": "KMS"}
    bucket_name, bucket = stack.one("aws_s3_bucket")
    assert store["location"] == bucket["bucket"]
    bucket_id = ref("aws_s3_bucket", bucket_name)
    _, pab = stack.one("aws_s3_bucket_public_access_block")
    assert pab["bucket"] == bucket_id
    assert all(
        pab[k]
        for k in (
            "block_public_acls",
            "block_public_policy",
            "ignore_public_acls",
            "restrict_public_buckets",
        )
    )
    _, versioning = stack.one("aws_s3_bucket_versioning")
    assert versioning["versioning_configuration"] == {"status": "Enabled"}
    _, sse = stack.one("aws_s3_bucket_server_side_encryption_configuration")
    default = sse["rule"][0]["apply_server_side_encryption_by_default"]
    assert default == {
        "sse_algorithm": "aws:kms",
        "kms_master_key_id": ref("aws_kms_key", key_name, "arn"),
    }
    _, policy = stack.one("aws_s3_bucket_policy")
    tls = statements(stack, policy["policy"])["DenyInsecureTransport"]
    assert tls["effect"] == "Deny"
    assert tls["principals"] == [{"type": "AWS", "identifiers": ["*"]}]
    assert tls["condition"] == [
        {"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}
    ]
    other = statements(stack, policy["policy"])["DenyOtherEncryption"]
    assert (other["effect"], other["actions"]) == ("Deny", ["s3:PutObject"])
    assert other["resources"] == [f"arn:aws:s3:::{bucket['bucket']}/*"]
    assert other["condition"] == [
        {
            "test": "StringNotEqualsIfExists",
            "variable": "s3:x-amz-server-side-encryption",
            "values": ["aws:kms"],
        }
    ]


def test_artifacts_and_their_old_versions_expire_after_artifact_expiry_days(stack: Stack) -> None:
    _, lifecycle = stack.one("aws_s3_bucket_lifecycle_configuration")
    (rule,) = lifecycle["rule"]
    days = DELIVERY.artifact_expiry_days
    assert rule["status"] == "Enabled"
    assert rule["expiration"] == [{"days": days}]
    assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": days}]
    assert rule["abort_incomplete_multipart_upload"] == [{"days_after_initiation": 1}]


def test_only_the_build_project_is_privileged(stack: Stack) -> None:
    projects = {b["name"]: b for b in stack.resources("aws_codebuild_project").values()}
    assert set(projects) == {"kakehashi-build"} | {f"kakehashi-deploy-{e}" for e in ENVIRONMENTS}
    privileged = {n for n, b in projects.items() if b["environment"]["privileged_mode"]}
    assert privileged == {"kakehashi-build"}
    key_name, _ = stack.one("aws_kms_key", "/artifacts-key/")
    for name, body in projects.items():
        assert body["encryption_key"] == ref("aws_kms_key", key_name, "arn"), name
        assert body["source"]["buildspec"].startswith("pipelines/buildspecs/"), name


def test_codebuild_logs_are_cmk_encrypted_with_bounded_retention(stack: Stack) -> None:
    key_name, _ = stack.one("aws_kms_key", "/logs-key/")
    groups = stack.resources("aws_cloudwatch_log_group")
    projects = stack.resources("aws_codebuild_project").values()
    assert {p["logs_config"]["cloudwatch_logs"]["group_name"] for p in projects} == {
        g["name"] for g in groups.values()
    }
    for group in groups.values():
        assert group["kms_key_id"] == ref("aws_kms_key", key_name, "arn")
        assert group["retention_in_days"] == DELIVERY.log_retention_days


def test_deploy_project_can_assume_only_its_environment_deployer(stack: Stack) -> None:
    for env in ENVIRONMENTS:
        policy = role_policy(stack, f"/deploy-{env}/")
        deployer = f"arn:aws:iam::{ENVS[env].account_id}:role/{naming.deployer_role(env)}"
        assert policy["AssumeEnvironmentDeployer"]["resources"] == [deployer]
        assert "PushImage" not in policy
        assert all("*" not in s.get("resources", []) for s in policy.values())


def test_build_project_pushes_only_to_the_repository(stack: Stack) -> None:
    policy = role_policy(stack, "/build/")
    repo = (
        f"arn:aws:ecr:{DELIVERY.region}:{DELIVERY.account_id}:repository/"
        f"{DELIVERY.ecr_repository_name}"
    )
    assert policy["PushImage"]["resources"] == [repo]
    # ecr:GetAuthorizationToken has no resource type; it is the only "*".
    wildcard = {sid for sid, s in policy.items() if "*" in s.get("resources", [])}
    assert wildcard == {"RegistryLogin"}
    assert policy["RegistryLogin"]["actions"] == ["ecr:GetAuthorizationToken"]


def test_codebuild_roles_trust_only_their_own_project(stack: Stack) -> None:
    for name, role in stack.resources("aws_iam_role").items():
        if not role["name"].endswith("-codebuild"):
            continue
        project = role["name"].removesuffix("-codebuild")
        (trust,) = stack.policy_document(role["assume_role_policy"])["statement"]
        assert trust["principals"] == [
            {"type": "Service", "identifiers": ["codebuild.amazonaws.com"]}
        ], name
        arn = f"arn:aws:codebuild:{DELIVERY.region}:{DELIVERY.account_id}:project/{project}"
        assert {"test": "ArnLike", "variable": "aws:SourceArn", "values": [arn]} in trust[
            "condition"
        ]


def test_github_oidc_provider_admits_sts_audience(stack: Stack) -> None:
    _, provider = stack.one("aws_iam_openid_connect_provider")
    assert provider["url"] == f"https://{OIDC}"
    assert provider["client_id_list"] == ["sts.amazonaws.com"]


def test_github_deploy_roles_trust_exactly_their_environment(stack: Stack) -> None:
    provider_arn = f"arn:aws:iam::{DELIVERY.account_id}:oidc-provider/{OIDC}"
    for env in ENVIRONMENTS:
        _, role = stack.one("aws_iam_role", f"/github-deploy-{env}/")
        assert role["name"] == naming.github_deploy_role(env)
        (trust,) = stack.policy_document(role["assume_role_policy"])["statement"]
        assert trust["actions"] == ["sts:AssumeRoleWithWebIdentity"]
        assert trust["principals"] == [{"type": "Federated", "identifiers": [provider_arn]}]
        assert sorted(trust["condition"], key=lambda c: c["variable"]) == [
            {"test": "StringEquals", "variable": f"{OIDC}:aud", "values": ["sts.amazonaws.com"]},
            {
                "test": "StringEquals",
                "variable": f"{OIDC}:sub",
                "values": [f"repo:{DELIVERY.github_repository}:environment:{env}"],
            },
        ]
        policy = role_policy(stack, f"/github-deploy-{env}/")
        assert policy["AssumeEnvironmentDeployer"]["resources"] == [
            f"arn:aws:iam::{ENVS[env].account_id}:role/{naming.deployer_role(env)}"
        ]


def test_github_publish_role_is_main_branch_only(stack: Stack) -> None:
    _, role = stack.one("aws_iam_role", "/github-publish/")
    (trust,) = stack.policy_document(role["assume_role_policy"])["statement"]
    sub = next(c for c in trust["condition"] if c["variable"].endswith(":sub"))
    assert sub == {
        "test": "StringEquals",
        "variable": f"{OIDC}:sub",
        "values": [f"repo:{DELIVERY.github_repository}:ref:refs/heads/{DELIVERY.github_branch}"],
    }


def test_pipeline_role_runs_only_the_pipeline_projects(stack: Stack) -> None:
    policy = role_policy(stack, "pipeline-policy")
    arns = {
        f"arn:aws:codebuild:{DELIVERY.region}:{DELIVERY.account_id}:project/{name}"
        for name in ["kakehashi-build", *(f"kakehashi-deploy-{e}" for e in ENVIRONMENTS)]
    }
    assert set(policy["RunBuilds"]["resources"]) == arns
    assert policy["ApprovalNotification"]["resources"] == [
        ref("aws_sns_topic", "approval-topic", "arn")
    ]
