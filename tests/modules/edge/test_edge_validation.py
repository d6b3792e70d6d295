"""PublicLoadBalancer, WebAcl and the ELB log-delivery grant: validation."""

from __future__ import annotations

import json
from typing import Any, cast

import cdktf
import pytest
from cdktf import App, TerraformStack

from modules.edge.alb import PublicLoadBalancer, PublicLoadBalancerProps, elb_log_delivery
from modules.edge.web_acl import WebAcl, WebAclProps
from modules.security.kms_key import KmsKey, KmsKeyProps
from modules.storage.secure_bucket import SecureBucket, SecureBucketProps

ACCOUNT = "111122223333"


def _alb(encryption: str = "SSE-S3", **changes: Any) -> PublicLoadBalancer:
    stack = TerraformStack(App(), "t")
    key = (
        KmsKey(stack, "key", KmsKeyProps(alias="t/k", description="k", account_id=ACCOUNT))
        if encryption == "SSE-KMS"
        else None
    )
    bucket = SecureBucket(
        stack, "logs", SecureBucketProps(name="t-logs", encryption=encryption, kms_key=key)
    )
    props: dict[str, Any] = {
        "name": "t",
        "vpc_id": "vpc-1",
        "subnet_ids": ["a", "b"],
        "certificate_arn": "arn:aws:acm:ap-northeast-1:111122223333:certificate/x",
        "target_security_group_id": "sg-1",
        "access_logs_bucket": bucket,
        **changes,
    }
    return PublicLoadBalancer(stack, "alb", PublicLoadBalancerProps(**props))


def test_load_balancer_reports_every_problem_at_once() -> None:
    with pytest.raises(ValueError, match="PublicLoadBalancer alb") as info:
        _alb(
            encryption="SSE-KMS",
            name="x" * 33,
            subnet_ids=["only-one"],
            allowed_cidrs=["2001:db8::/32", "nonsense"],
            health_check_path="healthz",
        )
    text = str(info.value)
    for expected in (
        "at most 32 characters",
        "at least two AZs",
        "'2001:db8::/32' is not IPv4",
        "'nonsense' is not a CIDR block",
        "health_check_path='healthz'",
        "ALB access logs need an SSE-S3 bucket",
    ):
        assert expected in text, expected


def test_load_balancer_defaults_are_the_secure_ones() -> None:
    alb = _alb()
    doc = json.loads(cdktf.Testing.synth(cast(TerraformStack, alb.node.scope)))
    (listener,) = [b for b in doc["resource"]["aws_lb_listener"].values() if b["port"] == 443]
    assert listener["ssl_policy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    (lb,) = doc["resource"]["aws_lb"].values()
    assert lb["enable_deletion_protection"] is True
    assert lb["drop_invalid_header_fields"] is True
    assert lb["idle_timeout"] == 60
    (tg,) = doc["resource"]["aws_lb_target_group"].values()
    assert (tg["port"], tg["deregistration_delay"], tg["health_check"]["path"]) == (
        8000,
        "20",
        "/healthz",
    )


def _acl(**changes: Any) -> WebAcl:
    stack = TerraformStack(App(), "t")
    key = KmsKey(stack, "key", KmsKeyProps(alias="t/k", description="k", account_id=ACCOUNT))
    props: dict[str, Any] = {
        "name": "t",
        "resource_arn": "arn:aws:elasticloadbalancing:x",
        "account_id": ACCOUNT,
        "region": "ap-northeast-1",
        "log_group_name": "aws-waf-logs-t",
        "logs_key": key,
        **changes,
    }
    return WebAcl(stack, "waf", WebAclProps(**props))


def test_web_acl_reports_every_problem_at_once() -> None:
    with pytest.raises(ValueError, match="WebAcl waf") as info:
        _acl(
            log_group_name="/waf/t",
            rate_limit=5,
            admin_paths=["docs"],
            admin_allowed_cidrs=[],
        )
    text = str(info.value)
    for expected in (
        "must start with 'aws-waf-logs-'",
        "rate_limit=5",
        "admin_paths needs admin_allowed_cidrs",
        "admin_paths: 'docs' must start with '/'",
    ):
        assert expected in text, expected


def test_web_acl_without_admin_paths_has_no_ip_set_rule() -> None:
    acl = _acl()
    assert acl.admin_ip_set is None
    assert acl.metric_names == [
        "t-ip-reputation",
        "t-anonymous-ip",
        "t-common",
        "t-known-bad-inputs",
        "t-sqli",
        "t-rate-limit",
    ]


def test_elb_log_delivery_uses_the_regional_elb_account() -> None:
    grant = elb_log_delivery("ap-northeast-1", ACCOUNT, "alb")
    assert grant.principals == {"AWS": ["arn:aws:iam::582318560864:root"]}
    assert grant.key_prefix == f"alb/AWSLogs/{ACCOUNT}/"
    with pytest.raises(ValueError, match="no ELB log-delivery account known"):
        elb_log_delivery("eu-west-1", ACCOUNT, "alb")
