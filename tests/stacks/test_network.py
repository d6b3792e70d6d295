"""The network stack of every environment, asserted on the synthesized JSON."""

from __future__ import annotations

import ipaddress
from itertools import combinations

import pytest

from stacks.environments import load_environments
from tests.synth_helpers import ENVIRONMENTS, Stack, Synthesized

ENVS = load_environments()
TIERS = ("public", "private_app", "isolated_data")


@pytest.fixture(params=ENVIRONMENTS)
def env_stack(request: pytest.FixtureRequest, synthesized: Synthesized) -> tuple[str, Stack]:
    return request.param, synthesized.of(request.param, "network")


def _subnets(stack: Stack, tier: str) -> list[dict]:
    return [s for s in stack.resources("aws_subnet").values() if s["tags"]["tier"] == tier]


def test_subnet_count_per_tier_equals_az_count(env_stack: tuple[str, Stack]) -> None:
    env, stack = env_stack
    for tier in TIERS:
        subnets = _subnets(stack, tier)
        assert len(subnets) == ENVS[env].network.az_count, tier
        assert sorted(s["availability_zone"] for s in subnets) == sorted(
            ENVS[env].availability_zones
        )


def test_subnet_cidrs_are_inside_the_vpc_and_disjoint(env_stack: tuple[str, Stack]) -> None:
    env, stack = env_stack
    _, vpc = stack.one("aws_vpc")
    vpc_net = ipaddress.ip_network(vpc["cidr_block"])
    assert vpc["cidr_block"] == ENVS[env].network.vpc_cidr
    nets = [ipaddress.ip_network(s["cidr_block"]) for s in stack.resources("aws_subnet").values()]
    assert len(nets) == 3 * ENVS[env].network.az_count
    for net in nets:
        assert net.subnet_of(vpc_net), net
    for a, b in combinations(nets, 2):
        assert not a.overlaps(b), (a, b)


def test_no_subnet_auto_assigns_public_ips(env_stack: tuple[str, Stack]) -> None:
    _, stack = env_stack
    assert {s["map_public_ip_on_launch"] for s in stack.resources("aws_subnet").values()} == {False}


def test_nat_gateway_count_follows_the_strategy(env_stack: tuple[str, Stack]) -> None:
    env, stack = env_stack
    cfg = ENVS[env].network
    expected = cfg.az_count if cfg.nat_strategy == "per_az" else 1
    nats = stack.resources("aws_nat_gateway")
    assert len(nats) == expected
    assert len(stack.resources("aws_eip")) == expected
    public_ids = {
        f"${{aws_subnet.{n}.id}}"
        for n, s in stack.resources("aws_subnet").items()
        if s["tags"]["tier"] == "public"
    }
    assert {n["subnet_id"] for n in nats.values()} <= public_ids
    # Each private-app route table's default route goes to a NAT gateway of this stack.
    private_routes = [r for r in stack.resources("aws_route").values() if "nat_gateway_id" in r]
    expected_tables = cfg.az_count if cfg.nat_strategy == "per_az" else 1
    assert len(private_routes) == expected_tables
    assert {r["nat_gateway_id"] for r in private_routes} == {
        f"${{aws_nat_gateway.{n}.id}}" for n in nats
    }


def test_isolated_subnets_have_no_route_to_the_internet(env_stack: tuple[str, Stack]) -> None:
    _, stack = env_stack
    isolated = {
        f"${{aws_subnet.{n}.id}}"
        for n, s in stack.resources("aws_subnet").items()
        if s["tags"]["tier"] == "isolated_data"
    }
    tables = {
        a["route_table_id"]
        for a in stack.resources("aws_route_table_association").values()
        if a["subnet_id"] in isolated
    }
    assert len(tables) == 1
    (table,) = tables
    routes = [r for r in stack.resources("aws_route").values() if r["route_table_id"] == table]
    assert routes == []
    (table_name,) = [
        n for n in stack.resources("aws_route_table") if table == f"${{aws_route_table.{n}.id}}"
    ]
    assert "route" not in stack.resources("aws_route_table")[table_name]
    # and the private-app and public tiers do have their default routes
    assert any("gateway_id" in r for r in stack.resources("aws_route").values())


def test_flow_logs_capture_all_traffic_to_an_encrypted_bounded_group(
    env_stack: tuple[str, Stack],
) -> None:
    env, stack = env_stack
    _, flow = stack.one("aws_flow_log")
    assert flow["traffic_type"] == "ALL"
    assert flow["log_destination_type"] == "cloud-watch-logs"
    group_name, group = stack.one("aws_cloudwatch_log_group", "flow-logs")
    assert flow["log_destination"] == f"${{aws_cloudwatch_log_group.{group_name}.arn}}"
    assert group["retention_in_days"] == ENVS[env].network.flow_log_retention_days
    key_name, key = stack.one("aws_kms_key", "logs-key")
    assert group["kms_key_id"] == f"${{aws_kms_key.{key_name}.arn}}"
    assert key["enable_key_rotation"] is True
    # the key policy admits CloudWatch Logs only for this account's log groups
    policy = stack.policy_document(key["policy"])
    logs = [s for s in policy["statement"] if s.get("sid") == "CloudWatchLogs"]
    assert logs[0]["principals"] == [
        {"type": "Service", "identifiers": [f"logs.{ENVS[env].region}.amazonaws.com"]}
    ]
    assert logs[0]["condition"][0]["values"] == [
        f"arn:aws:logs:{ENVS[env].region}:{ENVS[env].account_id}:log-group:*"
    ]
    # the flow-log role is assumable only by the flow-logs service, and writes only there
    role_name, role = stack.one("aws_iam_role", "flow-logs")
    assert flow["iam_role_arn"] == f"${{aws_iam_role.{role_name}.arn}}"
    trust = stack.policy_document(role["assume_role_policy"])
    assert trust["statement"][0]["principals"][0]["identifiers"] == ["vpc-flow-logs.amazonaws.com"]
    _, inline = stack.one("aws_iam_role_policy", "flow-logs")
    doc = stack.policy_document(inline["policy"])
    assert doc["statement"][0]["resources"] == [
        f"${{aws_cloudwatch_log_group.{group_name}.arn}}",
        f"${{aws_cloudwatch_log_group.{group_name}.arn}}:*",
    ]


def test_default_security_group_has_no_rules(env_stack: tuple[str, Stack]) -> None:
    _, stack = env_stack
    _, sg = stack.one("aws_default_security_group")
    assert "ingress" not in sg or sg["ingress"] == []
    assert "egress" not in sg or sg["egress"] == []
    _, nacl = stack.one("aws_default_network_acl")
    assert len(nacl["subnet_ids"]) == len(stack.resources("aws_subnet"))


def test_vpc_endpoints_are_private_and_https_from_the_vpc_only(
    env_stack: tuple[str, Stack],
) -> None:
    env, stack = env_stack
    region = ENVS[env].region
    endpoints = stack.resources("aws_vpc_endpoint").values()
    by_service = {e["service_name"].removeprefix(f"com.amazonaws.{region}."): e for e in endpoints}
    assert set(by_service) == {"s3", "ecr.api", "ecr.dkr", "logs", "secretsmanager", "kms", "sts"}
    assert by_service["s3"]["vpc_endpoint_type"] == "Gateway"
    assert len(by_service["s3"]["route_table_ids"]) >= 2
    sg_name, _ = stack.one("aws_security_group", "endpoints")
    for service, endpoint in by_service.items():
        if service == "s3":
            continue
        assert endpoint["vpc_endpoint_type"] == "Interface"
        assert endpoint["private_dns_enabled"] is True
        assert endpoint["security_group_ids"] == [f"${{aws_security_group.{sg_name}.id}}"]
        assert len(endpoint["subnet_ids"]) == ENVS[env].network.az_count
    rules = stack.resources("aws_vpc_security_group_ingress_rule").values()
    endpoint_rules = [
        r for r in rules if r["security_group_id"] == f"${{aws_security_group.{sg_name}.id}}"
    ]
    assert [(r["from_port"], r["to_port"], r["cidr_ipv4"]) for r in endpoint_rules] == [
        (443, 443, ENVS[env].network.vpc_cidr)
    ]


def test_vpc_cidrs_do_not_overlap_across_environments(synthesized: Synthesized) -> None:
    cidrs = [
        ipaddress.ip_network(synthesized.of(e, "network").one("aws_vpc")[1]["cidr_block"])
        for e in ENVIRONMENTS
    ]
    for a, b in combinations(cidrs, 2):
        assert not a.overlaps(b)


def test_service_security_group_is_created_empty_for_later_stacks(
    env_stack: tuple[str, Stack],
) -> None:
    env, stack = env_stack
    _, sg = stack.one("aws_security_group", "service-sg")
    assert sg["name"] == f"kakehashi-{env}-service"
    assert "ingress" not in sg
    assert "egress" not in sg
