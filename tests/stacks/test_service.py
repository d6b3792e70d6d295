"""The service stack of every environment, asserted on the synthesized JSON."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest

from stacks import naming
from stacks.environments import Environment, load_delivery, load_environments
from stacks.release import project_version
from tests.conftest import TEST_GIT_REVISION, TEST_IMAGE_TAG
from tests.synth_helpers import ENVIRONMENTS, Stack, Synthesized, hcl_jsonencoded, ref

ENVS = load_environments()
DELIVERY = load_delivery()
REMOTE = re.compile(
    r"data\.terraform_remote_state\.cross-stack-reference-input-kakehashi-([a-z0-9]+)-"
    r"([a-z]+)\.outputs\.([A-Za-z0-9_-]+)"
)
CONTRACT_ENVIRONMENT = {
    "APP_ENV",
    "APP_VERSION",
    "GIT_REVISION",
    "LOG_LEVEL",
    "AWS_REGION",
    "DATABASE_HOST",
    "DATABASE_PORT",
    "DATABASE_NAME",
    "DATABASE_USER",
    "DATABASE_SECRET_ARN",
    "DATABASE_POOL_SIZE",
    "DATABASE_MAX_OVERFLOW",
    "REDIS_HOST",
    "REDIS_PORT",
    "REDIS_TLS",
    "REDIS_AUTH_SECRET_ARN",
    "CARRIER_BASE_URL",
    "CARRIER_SECRET_ARN",
    "JWT_SIGNER",
    "JWT_KMS_KEY_ID",
    "JWT_ISSUER",
    "JWT_AUDIENCE",
}
CONTRACT_SECRETS = {"DATABASE_PASSWORD", "REDIS_AUTH_TOKEN", "CARRIER_API_KEY"}


@dataclass(frozen=True)
class Env:
    name: str
    cfg: Environment
    stack: Stack
    synthesized: Synthesized

    @property
    def network(self) -> Stack:
        return self.synthesized.of(self.name, "network")

    @property
    def data(self) -> Stack:
        return self.synthesized.of(self.name, "data")

    def remote(self, value: str) -> tuple[str, Any]:
        """A cross-stack reference -> (component, the producing stack's output value)."""
        match = REMOTE.search(value)
        assert match, f"not a cross-stack reference: {value!r}"
        env, component, output = match.groups()
        assert env == self.name, value
        producer = self.synthesized.of(env, component)
        return component, producer.doc["output"][output]["value"]

    def container(self, path: str = "service/task/") -> dict[str, Any]:
        _, task = self.stack.one("aws_ecs_task_definition", path)
        (container,) = hcl_jsonencoded(task["container_definitions"])
        return dict(container)


@pytest.fixture(params=ENVIRONMENTS)
def env(request: pytest.FixtureRequest, synthesized: Synthesized) -> Env:
    name = request.param
    return Env(name, ENVS[name], synthesized.of(name, "service"), synthesized)


def _strip(value: str) -> str:
    """``${x}`` -> ``x``."""
    return value.removeprefix("${").removesuffix("}")


# ---- edge ------------------------------------------------------------------------------


def test_http_listener_only_redirects_to_https_with_301(env: Env) -> None:
    listeners = {b["port"]: b for b in env.stack.resources("aws_lb_listener").values()}
    assert set(listeners) == {80, 443}
    http = listeners[80]
    assert http["protocol"] == "HTTP"
    assert http["default_action"] == [
        {
            "type": "redirect",
            "redirect": {"protocol": "HTTPS", "port": "443", "status_code": "HTTP_301"},
        }
    ]


def test_https_listener_uses_tls13_and_the_dns_validated_certificate(env: Env) -> None:
    https = next(b for b in env.stack.resources("aws_lb_listener").values() if b["port"] == 443)
    assert https["protocol"] == "HTTPS"
    assert https["ssl_policy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    tg_name, _ = env.stack.one("aws_lb_target_group")
    assert https["default_action"] == [
        {"type": "forward", "target_group_arn": ref("aws_lb_target_group", tg_name, "arn")}
    ]
    assert env.cfg.edge.certificate_arn is None  # every environment lets the stack issue it
    validation_name, validation = env.stack.one("aws_acm_certificate_validation")
    assert https["certificate_arn"] == ref(
        "aws_acm_certificate_validation", validation_name, "certificate_arn"
    )
    cert_name, cert = env.stack.one("aws_acm_certificate")
    assert cert["domain_name"] == env.cfg.domain_name
    assert cert["validation_method"] == "DNS"
    assert validation["certificate_arn"] == ref("aws_acm_certificate", cert_name, "arn")
    zone_name, zone = next(iter(env.stack.data("aws_route53_zone").items()))
    assert zone == {**zone, "name": env.cfg.edge.hosted_zone_name, "private_zone": False}
    _, record = env.stack.one("aws_route53_record", "validation-record")
    assert record["zone_id"] == f"${{data.aws_route53_zone.{zone_name}.zone_id}}"
    assert "domain_validation_options" in record["for_each"]
    assert "validation-record" in validation["validation_record_fqdns"]


def test_alb_is_public_hardened_and_logs_access(env: Env) -> None:
    _, alb = env.stack.one("aws_lb")
    assert alb["name"] == naming.load_balancer(env.name)
    assert alb["internal"] is False
    assert alb["load_balancer_type"] == "application"
    assert alb["drop_invalid_header_fields"] is True
    assert alb["enable_deletion_protection"] is env.cfg.alb_deletion_protection
    assert alb["enable_deletion_protection"] is (env.name == "prod")
    assert alb["idle_timeout"] == env.cfg.edge.idle_timeout_seconds
    assert alb["access_logs"] == {
        "bucket": naming.access_logs_bucket(env.name, env.cfg.account_id),
        "prefix": "alb",
        "enabled": True,
    }
    policy_name, _ = env.stack.one("aws_s3_bucket_policy", "access-logs")
    assert f"aws_s3_bucket_policy.{policy_name}" in alb["depends_on"]
    assert len(alb["subnets"]) == env.cfg.network.az_count
    for subnet in alb["subnets"]:
        component, value = env.remote(subnet)
        assert component == "network"
        assert "vpc_public-" in value, value


def test_alb_security_group_admits_web_ports_and_reaches_only_the_tasks(env: Env) -> None:
    sg_name, sg = env.stack.one("aws_security_group", "alb")
    assert sg["name"] == naming.security_group(env.name, "alb")
    alb_sg = ref("aws_security_group", sg_name)
    _, alb = env.stack.one("aws_lb")
    assert alb["security_groups"] == [alb_sg]
    assert "ingress" not in sg
    assert "egress" not in sg
    ingress = [
        (r["from_port"], r["to_port"], r["cidr_ipv4"])
        for r in env.stack.resources("aws_vpc_security_group_ingress_rule").values()
        if r["security_group_id"] == alb_sg
    ]
    assert sorted(ingress) == sorted(
        (port, port, cidr) for cidr in env.cfg.edge.allowed_cidrs for port in (80, 443)
    )
    egress = [
        r
        for r in env.stack.resources("aws_vpc_security_group_egress_rule").values()
        if r["security_group_id"] == alb_sg
    ]
    assert len(egress) == 1
    assert (egress[0]["from_port"], egress[0]["to_port"]) == (8000, 8000)
    _, value = env.remote(egress[0]["referenced_security_group_id"])
    assert value == "${aws_security_group.service-sg.id}"


def test_target_group_is_ip_on_8000_checking_healthz(env: Env) -> None:
    _, tg = env.stack.one("aws_lb_target_group")
    assert tg["name"] == naming.target_group(env.name)
    assert tg["target_type"] == "ip"
    assert tg["port"] == 8000
    assert tg["protocol"] == "HTTP"
    assert tg["deregistration_delay"] == "20"
    hc = tg["health_check"]
    assert hc["path"] == "/healthz"
    assert hc["matcher"] == "200"
    assert hc["interval"] == env.cfg.edge.health_check_interval_seconds
    assert hc["healthy_threshold"] == env.cfg.edge.healthy_threshold
    assert hc["unhealthy_threshold"] == env.cfg.edge.unhealthy_threshold


def test_route53_alias_points_the_domain_at_the_alb(env: Env) -> None:
    _, record = env.stack.one("aws_route53_record", "alias")
    alb_name, _ = env.stack.one("aws_lb")
    assert record["name"] == env.cfg.domain_name
    assert record["type"] == "A"
    assert record["alias"] == {
        "name": ref("aws_lb", alb_name, "dns_name"),
        "zone_id": ref("aws_lb", alb_name, "zone_id"),
        "evaluate_target_health": True,
    }


# ---- buckets ---------------------------------------------------------------------------


def _bucket_parts(env: Env, path: str) -> dict[str, Any]:
    name, bucket = env.stack.one("aws_s3_bucket", path)
    bucket_ref = ref("aws_s3_bucket", name)

    def of(rtype: str) -> Any:
        found = [b for b in env.stack.resources(rtype).values() if b["bucket"] == bucket_ref]
        assert len(found) <= 1, rtype
        return found[0] if found else None

    return {
        "bucket": bucket,
        "pab": of("aws_s3_bucket_public_access_block"),
        "sse": of("aws_s3_bucket_server_side_encryption_configuration"),
        "versioning": of("aws_s3_bucket_versioning"),
        "lifecycle": of("aws_s3_bucket_lifecycle_configuration"),
        "logging": of("aws_s3_bucket_logging"),
        "ownership": of("aws_s3_bucket_ownership_controls"),
        "policy": env.stack.policy_document(of("aws_s3_bucket_policy")["policy"]),
    }


def _assert_private_versioned_tls_only(parts: dict[str, Any], arn: str) -> None:
    assert {
        k: parts["pab"][k] for k in parts["pab"] if k.startswith(("block", "ignore", "rest"))
    } == {
        "block_public_acls": True,
        "block_public_policy": True,
        "ignore_public_acls": True,
        "restrict_public_buckets": True,
    }
    assert parts["ownership"]["rule"]["object_ownership"] == "BucketOwnerEnforced"
    assert parts["versioning"]["versioning_configuration"]["status"] == "Enabled"
    deny = next(s for s in parts["policy"]["statement"] if s["sid"] == "DenyInsecureTransport")
    assert deny["effect"] == "Deny"
    assert deny["resources"] == [arn, f"{arn}/*"]
    assert deny["condition"] == [
        {"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}
    ]


def test_access_logs_bucket_is_sse_s3_expiring_and_admits_elb_delivery(env: Env) -> None:
    name = naming.access_logs_bucket(env.name, env.cfg.account_id)
    parts = _bucket_parts(env, "access-logs")
    assert parts["bucket"]["bucket"] == name
    arn = f"arn:aws:s3:::{name}"
    _assert_private_versioned_tls_only(parts, arn)
    (rule,) = parts["sse"]["rule"]
    assert rule["apply_server_side_encryption_by_default"]["sse_algorithm"] == "AES256"
    (lifecycle,) = parts["lifecycle"]["rule"]
    assert lifecycle["expiration"] == [{"days": env.cfg.edge.access_log_expiration_days}]
    assert parts["logging"] is None  # a log bucket does not log into itself
    statements = {s["sid"]: s for s in parts["policy"]["statement"]}
    elb = statements["ElbAccessLogDelivery"]
    assert elb["actions"] == ["s3:PutObject"]
    assert elb["principals"] == [{"type": "AWS", "identifiers": ["arn:aws:iam::582318560864:root"]}]
    assert elb["resources"] == [f"{arn}/alb/AWSLogs/{env.cfg.account_id}/*"]
    s3 = statements["S3ServerAccessLogDelivery"]
    assert s3["principals"] == [{"type": "Service", "identifiers": ["logging.s3.amazonaws.com"]}]
    assert s3["resources"] == [f"{arn}/s3/*"]
    static_arn = f"arn:aws:s3:::{naming.static_bucket(env.name, env.cfg.account_id)}"
    assert {c["variable"]: c["values"] for c in s3["condition"]} == {
        "aws:SourceAccount": [env.cfg.account_id],
        "aws:SourceArn": [static_arn],
    }


def test_static_bucket_is_kms_encrypted_versioned_tls_only_and_logged(env: Env) -> None:
    name = naming.static_bucket(env.name, env.cfg.account_id)
    parts = _bucket_parts(env, "static/")
    assert parts["bucket"]["bucket"] == name
    _assert_private_versioned_tls_only(parts, f"arn:aws:s3:::{name}")
    (rule,) = parts["sse"]["rule"]
    key_name, key = env.stack.one("aws_kms_key", "static-key")
    assert rule["apply_server_side_encryption_by_default"] == {
        "sse_algorithm": "aws:kms",
        "kms_master_key_id": ref("aws_kms_key", key_name, "arn"),
    }
    assert rule["bucket_key_enabled"] is True
    assert key["enable_key_rotation"] is True
    logs_name, _ = env.stack.one("aws_s3_bucket", "access-logs")
    assert parts["logging"]["target_bucket"] == ref("aws_s3_bucket", logs_name)
    assert parts["logging"]["target_prefix"] == "s3/static/"


# ---- WAF -------------------------------------------------------------------------------


def test_web_acl_runs_managed_groups_admin_restriction_and_rate_limit(env: Env) -> None:
    _, acl = env.stack.one("aws_wafv2_web_acl")
    assert acl["scope"] == "REGIONAL"
    assert acl["default_action"] == {"allow": {}}
    rules = {r["name"]: r for r in acl["rule"]}
    managed = [
        "AWSManagedRulesAmazonIpReputationList",
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesSQLiRuleSet",
    ]
    assert list(rules) == [*managed, "AdminPathsFromAllowedNetworks", "RateLimitPerIp"]
    assert [r["priority"] for r in acl["rule"]] == list(range(len(rules)))
    counting = env.cfg.edge.waf_mode == "count"
    assert counting is (env.name == "dev")  # prod can never count (config rule)
    for group in managed:
        assert rules[group]["statement"] == {
            "managed_rule_group_statement": {"name": group, "vendor_name": "AWS"}
        }
        assert rules[group]["override_action"] == ({"count": {}} if counting else {"none": {}})
        assert "action" not in rules[group]
    for custom in ("AdminPathsFromAllowedNetworks", "RateLimitPerIp"):
        assert rules[custom]["action"] == ({"count": {}} if counting else {"block": {}})
    assert rules["RateLimitPerIp"]["statement"] == {
        "rate_based_statement": {
            "limit": env.cfg.edge.waf_rate_limit,
            "aggregate_key_type": "IP",
            "evaluation_window_sec": 300,
        }
    }


def test_admin_paths_are_reachable_only_from_allowed_cidrs(env: Env) -> None:
    _, acl = env.stack.one("aws_wafv2_web_acl")
    rule = next(r for r in acl["rule"] if r["name"] == "AdminPathsFromAllowedNetworks")
    path_match, outside = rule["statement"]["and_statement"]["statement"]
    matches = path_match["or_statement"]["statement"]
    assert [m["byte_match_statement"]["search_string"] for m in matches] == list(
        env.cfg.edge.admin_paths
    )
    for m in matches:
        assert m["byte_match_statement"]["positional_constraint"] == "STARTS_WITH"
        assert m["byte_match_statement"]["field_to_match"] == {"uri_path": {}}
        assert {t["type"] for t in m["byte_match_statement"]["text_transformation"]} == {
            "URL_DECODE",
            "NORMALIZE_PATH",
        }
    ip_set_name, ip_set = env.stack.one("aws_wafv2_ip_set")
    assert outside == {
        "not_statement": {
            "statement": [
                {"ip_set_reference_statement": {"arn": ref("aws_wafv2_ip_set", ip_set_name, "arn")}}
            ]
        }
    }
    assert ip_set["addresses"] == list(env.cfg.edge.admin_allowed_cidrs)
    assert ip_set["scope"] == "REGIONAL"


def test_every_waf_rule_has_its_own_metric(env: Env) -> None:
    _, acl = env.stack.one("aws_wafv2_web_acl")
    configs = [r["visibility_config"] for r in acl["rule"]] + [acl["visibility_config"]]
    names = [c["metric_name"] for c in configs]
    assert len(names) == len(set(names)) == len(acl["rule"]) + 1
    for config in configs:
        assert config["cloudwatch_metrics_enabled"] is True
        assert config["sampled_requests_enabled"] is True
        assert config["metric_name"].startswith(naming.web_acl(env.name))


def test_web_acl_is_associated_with_the_alb(env: Env) -> None:
    _, association = env.stack.one("aws_wafv2_web_acl_association")
    acl_name, _ = env.stack.one("aws_wafv2_web_acl")
    alb_name, _ = env.stack.one("aws_lb")
    assert association["resource_arn"] == ref("aws_lb", alb_name, "arn")
    assert association["web_acl_arn"] == ref("aws_wafv2_web_acl", acl_name, "arn")


def test_waf_logs_to_an_encrypted_group_redacting_authorization(env: Env) -> None:
    _, logging = env.stack.one("aws_wafv2_web_acl_logging_configuration")
    group_name, group = env.stack.one("aws_cloudwatch_log_group", "waf")
    assert group["name"] == f"aws-waf-logs-kakehashi-{env.name}"
    assert group["retention_in_days"] == env.cfg.edge.waf_log_retention_days
    component, key = env.remote(group["kms_key_id"])
    assert component == "network"
    assert key.startswith("${aws_kms_key.logs-key_"), key
    assert logging["log_destination_configs"] == [
        ref("aws_cloudwatch_log_group", group_name, "arn")
    ]
    assert logging["redacted_fields"] == [{"single_header": {"name": "authorization"}}]
    _, policy = env.stack.one("aws_cloudwatch_log_resource_policy")
    doc = env.stack.policy_document(policy["policy_document"])
    (statement,) = doc["statement"]
    assert statement["principals"] == [
        {"type": "Service", "identifiers": ["delivery.logs.amazonaws.com"]}
    ]
    assert statement["resources"] == [
        f"arn:aws:logs:{env.cfg.region}:{env.cfg.account_id}:log-group:"
        f"aws-waf-logs-kakehashi-{env.name}:log-stream:*"
    ]


# ---- ECS -------------------------------------------------------------------------------


def test_cluster_has_container_insights(env: Env) -> None:
    _, cluster = env.stack.one("aws_ecs_cluster")
    assert cluster["name"] == naming.ecs_cluster(env.name)
    assert cluster["setting"] == [{"name": "containerInsights", "value": "enhanced"}]


def test_service_runs_privately_behind_the_target_group(env: Env) -> None:
    _, service = env.stack.one("aws_ecs_service")
    svc = env.cfg.service
    assert service["name"] == naming.ecs_service(env.name)
    assert service["launch_type"] == "FARGATE"
    assert service["platform_version"] == "LATEST"
    assert service["desired_count"] == svc.desired_count
    assert service["lifecycle"] == {"ignore_changes": ["desired_count"]}
    net = service["network_configuration"]
    assert net["assign_public_ip"] is False
    assert len(net["subnets"]) == env.cfg.network.az_count
    for subnet in net["subnets"]:
        assert "vpc_private_app-" in env.remote(subnet)[1]
    (sg,) = net["security_groups"]
    assert env.remote(sg) == ("network", "${aws_security_group.service-sg.id}")
    tg_name, _ = env.stack.one("aws_lb_target_group")
    assert service["load_balancer"] == [
        {
            "container_name": "api",
            "container_port": 8000,
            "target_group_arn": ref("aws_lb_target_group", tg_name, "arn"),
        }
    ]
    assert service["health_check_grace_period_seconds"] == svc.health_check_grace_seconds
    listener = next(
        n for n, b in env.stack.resources("aws_lb_listener").items() if b["port"] == 443
    )
    assert f"aws_lb_listener.{listener}" in service["depends_on"]


def test_service_deployments_roll_back_on_failure_and_on_alarms(env: Env) -> None:
    _, service = env.stack.one("aws_ecs_service")
    assert service["deployment_circuit_breaker"] == {"enable": True, "rollback": True}
    assert service["deployment_minimum_healthy_percent"] == 100
    assert service["deployment_maximum_percent"] == 200
    alarms = env.stack.resources("aws_cloudwatch_metric_alarm")
    names = {
        b["alarm_name"].removeprefix(f"kakehashi-{env.name}-"): ref(
            "aws_cloudwatch_metric_alarm", n, "alarm_name"
        )
        for n, b in alarms.items()
    }
    assert service["alarms"] == {
        "alarm_names": [
            names["alb-5xx-rate"],
            names["target-5xx-rate"],
            names["target-latency-p99"],
        ],
        "enable": True,
        "rollback": True,
    }


def test_ecs_exec_is_off_in_prod_and_follows_config_elsewhere(env: Env) -> None:
    _, service = env.stack.one("aws_ecs_service")
    assert service["enable_execute_command"] is env.cfg.service.enable_execute_command
    if env.name == "prod":
        assert service["enable_execute_command"] is False
        assert not env.stack.by_path("aws_iam_role_policy", "ecs-exec")
    else:
        assert bool(env.stack.by_path("aws_iam_role_policy", "ecs-exec")) is (
            env.cfg.service.enable_execute_command
        )


def test_task_definition_runs_a_hardened_container(env: Env) -> None:
    _, task = env.stack.one("aws_ecs_task_definition", "service/task/")
    assert task["family"] == naming.task_family(env.name)
    assert task["requires_compatibilities"] == ["FARGATE"]
    assert task["network_mode"] == "awsvpc"
    assert (task["cpu"], task["memory"]) == (
        str(env.cfg.service.cpu),
        str(env.cfg.service.memory_mib),
    )
    assert task["volume"] == [{"name": "writable-tmp"}]  # no host path: ephemeral task storage
    container = env.container()
    assert container["name"] == "api"
    assert container["user"] == "10001"
    assert container["readonlyRootFilesystem"] is True
    assert container["privileged"] is False
    assert container["linuxParameters"]["capabilities"] == {"drop": ["ALL"]}
    assert container["portMappings"] == [{"containerPort": 8000, "protocol": "tcp", "name": "http"}]
    assert container["mountPoints"] == [
        {"sourceVolume": "writable-tmp", "containerPath": "/tmp", "readOnly": False}
    ]
    assert container["stopTimeout"] == 120
    health = container["healthCheck"]
    assert health["command"][0] == "CMD"
    assert "http://127.0.0.1:8000/healthz" in health["command"][-1]


def test_container_logs_go_to_a_kms_encrypted_bounded_group(env: Env) -> None:
    group_name, group = env.stack.one("aws_cloudwatch_log_group", "api-logs")
    assert group["name"] == naming.api_log_group(env.name)
    assert group["retention_in_days"] == env.cfg.service.log_retention_days
    assert env.remote(group["kms_key_id"])[0] == "network"
    options = env.container()["logConfiguration"]
    assert options["logDriver"] == "awslogs"
    assert options["options"]["awslogs-group"] == ref(
        "aws_cloudwatch_log_group", group_name, "name"
    )
    assert options["options"]["awslogs-region"] == env.cfg.region
    assert options["options"]["awslogs-stream-prefix"] == "api"


def test_container_environment_follows_the_contract(env: Env) -> None:
    container = env.container()
    environment = {e["name"]: e["value"] for e in container["environment"]}
    assert set(environment) == CONTRACT_ENVIRONMENT
    assert {s["name"] for s in container["secrets"]} == CONTRACT_SECRETS
    assert environment["APP_ENV"] == env.name
    assert environment["LOG_LEVEL"] == env.cfg.service.log_level
    assert environment["AWS_REGION"] == env.cfg.region
    assert environment["REDIS_TLS"] == "true"
    assert environment["JWT_SIGNER"] == "kms"
    assert environment["JWT_ISSUER"] == f"https://{env.cfg.domain_name}"
    assert environment["JWT_AUDIENCE"] == "kakehashi-api"
    assert environment["CARRIER_BASE_URL"] == env.cfg.service.carrier_base_url
    assert environment["DATABASE_POOL_SIZE"] == str(env.cfg.service.db_pool_size)
    assert environment["DATABASE_MAX_OVERFLOW"] == str(env.cfg.service.db_max_overflow)
    for name in ("DATABASE_HOST", "REDIS_HOST", "DATABASE_SECRET_ARN", "REDIS_AUTH_SECRET_ARN"):
        assert env.remote(environment[name])[0] == "data", name
    outputs = env.data.doc["output"]
    assert environment["DATABASE_PORT"] == str(outputs["database_port"]["value"]) == "5432"
    assert environment["REDIS_PORT"] == str(outputs["cache_port"]["value"]) == "6379"


def test_no_secret_is_passed_as_plain_environment(env: Env) -> None:
    for path in ("service/task/", "migration-task/"):
        container = env.container(path)
        names = {e["name"] for e in container["environment"]}
        assert not names & CONTRACT_SECRETS
        for entry in container["environment"]:
            assert not re.search(r"(PASSWORD|TOKEN|API_KEY)$", entry["name"]), entry


def test_task_secrets_reference_the_data_stack_secrets(env: Env) -> None:
    secrets = {s["name"]: s["valueFrom"] for s in env.container()["secrets"]}
    environment = {e["name"]: e["value"] for e in env.container()["environment"]}
    # The password is the master secret's JSON key; the ARN is the same data-stack output.
    assert secrets["DATABASE_PASSWORD"].endswith('":password::"])}')
    assert _strip(environment["DATABASE_SECRET_ARN"]) in secrets["DATABASE_PASSWORD"]
    assert secrets["REDIS_AUTH_TOKEN"] == environment["REDIS_AUTH_SECRET_ARN"]
    assert secrets["CARRIER_API_KEY"] == environment["CARRIER_SECRET_ARN"]
    produced = {
        name: env.remote(environment[name])
        for name in ("DATABASE_SECRET_ARN", "REDIS_AUTH_SECRET_ARN", "CARRIER_SECRET_ARN")
    }
    assert {component for component, _ in produced.values()} == {"data"}
    # Each points at a distinct secret of the data stack.
    values = [value for _, value in produced.values()]
    assert len(set(values)) == 3
    for _, value in produced.values():
        assert re.search(r"aws_(secretsmanager_secret|rds_cluster)\.", value), value


def test_migration_task_runs_alembic_with_the_same_image_and_settings(env: Env) -> None:
    _, migration = env.stack.one("aws_ecs_task_definition", "migration-task")
    _, api = env.stack.one("aws_ecs_task_definition", "service/task/")
    assert migration["family"] == naming.migration_task_family(env.name)
    container, api_container = env.container("migration-task"), env.container()
    assert container["command"] == ["alembic", "upgrade", "head"]
    assert container["image"] == api_container["image"]
    assert container["environment"] == api_container["environment"]
    assert container["secrets"] == api_container["secrets"]
    assert container["portMappings"] == []
    assert container["readonlyRootFilesystem"] is True
    assert container["user"] == "10001"
    assert container["logConfiguration"]["options"]["awslogs-stream-prefix"] == "migrate"
    for key in ("execution_role_arn", "task_role_arn", "cpu", "memory"):
        assert migration[key] == api[key], key


# ---- release ---------------------------------------------------------------------------


def test_release_is_stamped_on_image_environment_tags_and_outputs(env: Env) -> None:
    version = project_version()
    image = f"{DELIVERY.image_repository_uri()}:{TEST_IMAGE_TAG}"
    label = f"{version}+{TEST_GIT_REVISION}"
    for path in ("service/task/", "migration-task/"):
        container = env.container(path)
        assert container["image"] == image
        environment = {e["name"]: e["value"] for e in container["environment"]}
        assert environment["APP_VERSION"] == version
        assert environment["GIT_REVISION"] == TEST_GIT_REVISION
    tagged = {
        (rtype, name)
        for rtype, name, body in env.stack.all_resources()
        if "release" in (body.get("tags") or {})
    }
    assert {rtype for rtype, _ in tagged} == {"aws_ecs_service", "aws_ecs_task_definition"}
    assert len(tagged) == 3
    for rtype, name in tagged:
        assert env.stack.resources(rtype)[name]["tags"]["release"] == label
    outputs = env.stack.doc["output"]
    assert outputs["release_version"]["value"] == version
    assert outputs["release_git_revision"]["value"] == TEST_GIT_REVISION
    assert outputs["release_image"]["value"] == image
    assert outputs["release_label"]["value"] == label


# ---- IAM -------------------------------------------------------------------------------


def _inline_statements(env: Env, role_path: str) -> list[dict[str, Any]]:
    role_name, _ = env.stack.one("aws_iam_role", role_path)
    statements = []
    for policy in env.stack.resources("aws_iam_role_policy").values():
        if policy["role"] == ref("aws_iam_role", role_name):
            statements += env.stack.policy_document(policy["policy"])["statement"]
    return statements


def test_task_roles_trust_only_this_accounts_ecs_tasks(env: Env) -> None:
    for path in ("roles/execution", "roles/task"):
        _, role = env.stack.one("aws_iam_role", path)
        (statement,) = env.stack.policy_document(role["assume_role_policy"])["statement"]
        assert statement["principals"] == [
            {"type": "Service", "identifiers": ["ecs-tasks.amazonaws.com"]}
        ]
        assert {c["variable"]: c["values"] for c in statement["condition"]} == {
            "aws:SourceAccount": [env.cfg.account_id],
            "aws:SourceArn": [f"arn:aws:ecs:{env.cfg.region}:{env.cfg.account_id}:*"],
        }


def test_execution_role_pulls_one_repository_writes_one_group_reads_three_secrets(
    env: Env,
) -> None:
    statements = _inline_statements(env, "roles/execution")
    by_sid: dict[str, list[dict[str, Any]]] = {}
    for s in statements:
        by_sid.setdefault(s["sid"], []).append(s)
    repo = (
        f"arn:aws:ecr:{DELIVERY.region}:{DELIVERY.account_id}:repository/"
        f"{DELIVERY.ecr_repository_name}"
    )
    assert by_sid["PullApiImage"][0]["resources"] == [repo]
    assert by_sid["EcrAuthorization"][0]["actions"] == ["ecr:GetAuthorizationToken"]
    assert by_sid["WriteLogs"][0]["resources"] == [
        f"arn:aws:logs:{env.cfg.region}:{env.cfg.account_id}:log-group:"
        f"{naming.api_log_group(env.name)}:log-stream:*"
    ]
    wildcard = [s for s in statements if "*" in s.get("resources", [])]
    assert [s["actions"] for s in wildcard] == [["ecr:GetAuthorizationToken"]]
    _assert_reads_exactly_the_task_secrets(env, statements)


def _assert_reads_exactly_the_task_secrets(env: Env, statements: list[dict[str, Any]]) -> None:
    environment = {e["name"]: e["value"] for e in env.container()["environment"]}
    secret_refs = {
        _strip(environment[n])
        for n in ("DATABASE_SECRET_ARN", "REDIS_AUTH_SECRET_ARN", "CARRIER_SECRET_ARN")
    }
    read = [s for s in statements if "secretsmanager:GetSecretValue" in s["actions"]]
    granted = {_strip(r) for s in read for r in s["resources"]}
    assert secret_refs <= granted, (secret_refs, granted)
    assert all(REMOTE.search(r) for r in granted)


def test_task_role_signs_with_the_jwt_key_and_reads_the_secrets_it_refreshes(env: Env) -> None:
    statements = _inline_statements(env, "roles/task")
    jwt = [s for s in statements if "kms:Sign" in s["actions"]]
    assert len(jwt) == 1
    assert sorted(jwt[0]["actions"]) == ["kms:GetPublicKey", "kms:Sign"]
    environment = {e["name"]: e["value"] for e in env.container()["environment"]}
    assert jwt[0]["resources"] == [environment["JWT_KMS_KEY_ID"]]
    assert env.remote(environment["JWT_KMS_KEY_ID"])[0] == "data"
    _assert_reads_exactly_the_task_secrets(env, statements)
    wildcard = [s for s in statements if "*" in s.get("resources", [])]
    assert all(a.startswith("ssmmessages:") for s in wildcard for a in s["actions"])


# ---- security group wiring -------------------------------------------------------------


def _service_sg_rules(env: Env, rtype: str) -> list[dict[str, Any]]:
    return [
        r
        for r in env.stack.resources(rtype).values()
        if REMOTE.search(r["security_group_id"])
        and env.remote(r["security_group_id"]) == ("network", "${aws_security_group.service-sg.id}")
    ]


def test_tasks_admit_only_the_alb_on_8000(env: Env) -> None:
    (rule,) = _service_sg_rules(env, "aws_vpc_security_group_ingress_rule")
    alb_sg, _ = env.stack.one("aws_security_group", "alb")
    assert (rule["from_port"], rule["to_port"], rule["ip_protocol"]) == (8000, 8000, "tcp")
    assert rule["referenced_security_group_id"] == ref("aws_security_group", alb_sg)


def test_tasks_egress_to_database_cache_endpoints_and_https_only(env: Env) -> None:
    rules = _service_sg_rules(env, "aws_vpc_security_group_egress_rule")
    peers = {}
    for r in rules:
        if "cidr_ipv4" in r:
            peers[r["cidr_ipv4"]] = r
        else:
            peers[env.remote(r["referenced_security_group_id"])] = r
    assert len(rules) == 4
    assert (peers["0.0.0.0/0"]["from_port"], peers["0.0.0.0/0"]["to_port"]) == (443, 443)
    endpoints = [r for (c, _), r in _items(peers) if c == "network"]
    assert [(r["from_port"], r["to_port"]) for r in endpoints] == [(443, 443)]
    data_peers = [(v, r) for (c, v), r in _items(peers) if c == "data"]
    assert len(data_peers) == 2
    assert {v for v, _ in data_peers} == _data_security_groups(env)


def _items(peers: dict[Any, dict[str, Any]]) -> list[tuple[tuple[str, str], dict[str, Any]]]:
    return [(k, v) for k, v in peers.items() if isinstance(k, tuple)]


def _data_security_groups(env: Env) -> set[str]:
    """``${aws_security_group.X.id}`` of the data stack's DB and cache groups."""
    return {ref("aws_security_group", name) for name in env.data.resources("aws_security_group")}


def test_the_task_security_group_is_the_one_the_data_tier_admits(env: Env) -> None:
    """The ECS service's group (network output) is the source of the data stack's DB and
    Redis ingress rules."""
    _, service = env.stack.one("aws_ecs_service")
    (sg,) = service["network_configuration"]["security_groups"]
    service_sg_value = env.remote(sg)[1]
    admitted = []
    for rule in env.data.resources("aws_vpc_security_group_ingress_rule").values():
        source = rule.get("referenced_security_group_id", "")
        if REMOTE.search(source) and env.remote(source) == ("network", service_sg_value):
            admitted.append(rule["security_group_id"])
    assert len(admitted) >= 2
    assert set(admitted) <= _data_security_groups(env)


# ---- autoscaling -----------------------------------------------------------------------


def test_autoscaling_tracks_cpu_and_requests_per_target(env: Env) -> None:
    svc = env.cfg.service
    target_name, target = env.stack.one("aws_appautoscaling_target")
    assert (target["min_capacity"], target["max_capacity"]) == (svc.min_count, svc.max_count)
    assert target["scalable_dimension"] == "ecs:service:DesiredCount"
    cluster_name, _ = env.stack.one("aws_ecs_cluster")
    service_name, _ = env.stack.one("aws_ecs_service")
    assert target["resource_id"] == (
        f'${{join("/", ["service", aws_ecs_cluster.{cluster_name}.name, '
        f"aws_ecs_service.{service_name}.name])}}"
    )
    policies = {
        p["target_tracking_scaling_policy_configuration"]["predefined_metric_specification"][
            "predefined_metric_type"
        ]: p
        for p in env.stack.resources("aws_appautoscaling_policy").values()
    }
    assert set(policies) == {"ECSServiceAverageCPUUtilization", "ALBRequestCountPerTarget"}
    for metric, value in (
        ("ECSServiceAverageCPUUtilization", svc.cpu_target_percent),
        ("ALBRequestCountPerTarget", svc.requests_per_target),
    ):
        policy = policies[metric]
        assert policy["policy_type"] == "TargetTrackingScaling"
        assert policy["resource_id"] == ref("aws_appautoscaling_target", target_name, "resource_id")
        config = policy["target_tracking_scaling_policy_configuration"]
        assert config["target_value"] == value
        assert config["scale_in_cooldown"] == svc.scale_in_cooldown_seconds
        assert config["scale_out_cooldown"] == svc.scale_out_cooldown_seconds
    label = policies["ALBRequestCountPerTarget"]["target_tracking_scaling_policy_configuration"][
        "predefined_metric_specification"
    ]["resource_label"]
    alb_name, _ = env.stack.one("aws_lb")
    tg_name, _ = env.stack.one("aws_lb_target_group")
    assert f"aws_lb.{alb_name}.arn_suffix" in label
    assert f"aws_lb_target_group.{tg_name}.arn_suffix" in label


# ---- observability ---------------------------------------------------------------------

EXPECTED_ALARMS = {
    "alb-5xx-rate",
    "waf-blocked-spike",
    "target-5xx-rate",
    "target-latency-p99",
    "unhealthy-hosts",
    "ecs-cpu-high",
    "ecs-memory-high",
    "running-tasks-below-desired",
    "aurora-cpu-high",
    "aurora-connections-high",
    "aurora-freeable-memory-low",
    "aurora-acu-utilization-high",
    "redis-cpu-high",
    "redis-memory-high",
    "redis-evictions",
}


def _alarms(env: Env) -> dict[str, dict[str, Any]]:
    prefix = f"kakehashi-{env.name}-"
    return {
        b["alarm_name"].removeprefix(prefix): b
        for b in env.stack.resources("aws_cloudwatch_metric_alarm").values()
    }


def test_alarm_set_is_complete_and_every_alarm_notifies_the_topic(env: Env) -> None:
    alarms = _alarms(env)
    assert set(alarms) == EXPECTED_ALARMS  # every environment runs Aurora Serverless v2
    topic_name, _ = env.stack.one("aws_sns_topic")
    topic = ref("aws_sns_topic", topic_name, "arn")
    for name, alarm in alarms.items():
        assert alarm["alarm_actions"] == [topic], name
        assert alarm["ok_actions"] == [topic], name
        assert alarm["actions_enabled"] is True


def test_alarm_thresholds_come_from_config(env: Env) -> None:
    alarms, cfg = _alarms(env), env.cfg.observability
    latency = alarms["target-latency-p99"]
    assert latency["extended_statistic"] == "p99"
    assert latency["metric_name"] == "TargetResponseTime"
    assert latency["threshold"] == cfg.latency_p99_slo_ms / 1000
    rate = alarms["alb-5xx-rate"]
    assert rate["threshold"] == float(cfg.alb_5xx_rate_percent)
    queries = {q["id"]: q for q in rate["metric_query"]}
    assert queries["e5xx"]["metric"]["metric_name"] == "HTTPCode_ELB_5XX_Count"
    assert queries["req"]["metric"]["metric_name"] == "RequestCount"
    assert queries["expr"]["return_data"] is True
    assert "100 * FILL(e5xx, 0) / req" in queries["expr"]["expression"]
    connections = alarms["aurora-connections-high"]
    assert connections["threshold"] == (
        env.cfg.database.max_connections * cfg.db_connections_percent // 100
    )
    assert connections["dimensions"] == {"DBClusterIdentifier": naming.aurora_cluster(env.name)}
    redis = alarms["redis-cpu-high"]
    nodes = [q for q in redis["metric_query"] if "metric" in q]
    assert len(nodes) == env.cfg.cache.num_cache_clusters
    assert {q["metric"]["dimensions"]["CacheClusterId"] for q in nodes} == {
        f"{naming.redis_replication_group(env.name)}-{i:03d}"
        for i in range(1, env.cfg.cache.num_cache_clusters + 1)
    }
    waf = alarms["waf-blocked-spike"]
    assert waf["dimensions"] == {
        "WebACL": naming.web_acl(env.name),
        "Region": env.cfg.region,
        "Rule": "ALL",
    }


def test_alarm_topic_is_kms_encrypted_and_mails_the_environment(env: Env) -> None:
    topic_name, topic = env.stack.one("aws_sns_topic")
    assert topic["name"] == naming.alarm_topic(env.name)
    key_name, key = env.stack.one("aws_kms_key", "alarm-topic")
    assert topic["kms_master_key_id"] == ref("aws_kms_key", key_name, "arn")
    statements = env.stack.policy_document(key["policy"])["statement"]
    cloudwatch = next(s for s in statements if s["sid"] == "CloudWatchAlarms")
    assert cloudwatch["principals"] == [
        {"type": "Service", "identifiers": ["cloudwatch.amazonaws.com"]}
    ]
    _, subscription = env.stack.one("aws_sns_topic_subscription")
    assert subscription["protocol"] == "email"
    assert subscription["endpoint"] == env.cfg.alarm_email
    assert subscription["topic_arn"] == ref("aws_sns_topic", topic_name, "arn")


def test_dashboard_groups_metrics_and_alarms_by_tier(env: Env) -> None:
    _, dashboard = env.stack.one("aws_cloudwatch_dashboard")
    assert dashboard["dashboard_name"] == naming.dashboard(env.name)
    widgets = hcl_jsonencoded(dashboard["dashboard_body"])["widgets"]
    headers = [w["properties"]["markdown"] for w in widgets if w["type"] == "text"]
    assert headers == [
        "## Edge: load balancer and WAF",
        "## Service: ECS Fargate API",
        "## Data: Aurora and Redis",
    ]
    sections: dict[str, list[dict[str, Any]]] = {}
    current = ""
    for widget in widgets:
        if widget["type"] == "text":
            current = widget["properties"]["markdown"].split()[1].rstrip(":")
        else:
            sections.setdefault(current, []).append(widget)
    namespaces = {
        tier: {row[0] for w in ws if w["type"] == "metric" for row in w["properties"]["metrics"]}
        for tier, ws in sections.items()
    }
    assert namespaces == {
        "Edge": {"AWS/ApplicationELB", "AWS/WAFV2"},
        "Service": {"AWS/ApplicationELB", "AWS/ECS", "ECS/ContainerInsights"},
        "Data": {"AWS/RDS", "AWS/ElastiCache"},
    }
    alarm_widgets = {
        tier: len(next(w for w in ws if w["type"] == "alarm")["properties"]["alarms"])
        for tier, ws in sections.items()
    }
    assert sum(alarm_widgets.values()) == len(EXPECTED_ALARMS)
    # widgets never overlap
    cells = set()
    for w in widgets:
        for x in range(w["x"], w["x"] + w["width"]):
            for y in range(w["y"], w["y"] + w["height"]):
                assert (x, y) not in cells, w
                cells.add((x, y))


def test_every_environment_has_a_service_stack_built_after_data(synthesized: Synthesized) -> None:
    for name in ENVIRONMENTS:
        ids = list(synthesized.stack_ids)
        service = ids.index(f"kakehashi-{name}-service")
        assert ids.index(f"kakehashi-{name}-data") < service
        assert ids.index(f"kakehashi-{name}-network") < service
