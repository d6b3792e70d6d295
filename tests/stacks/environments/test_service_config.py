"""The service, edge and observability blocks of the environment config."""

from __future__ import annotations

from typing import Any

import pytest

from stacks.environments import load_environments
from tests.stacks.environments.raw_config import problems_of, raw_environments


def test_defaults_of_the_service_blocks() -> None:
    envs = load_environments()
    dev, prod = envs["dev"], envs["prod"]
    assert dev.service.log_level == "INFO"
    assert dev.alb_deletion_protection is False
    assert prod.alb_deletion_protection is True
    assert dev.edge.waf_log_retention_days == 90
    assert prod.edge.waf_log_retention_days == 365
    assert dev.observability.latency_p99_slo_ms == 500
    assert prod.observability.latency_p99_slo_ms == 300
    assert {e.service.carrier_base_url.split("://")[0] for e in envs.values()} == {"https"}


@pytest.mark.parametrize(
    ("env", "path", "value", "expected"),
    [
        (
            "prod",
            ("edge", "deletion_protection"),
            False,
            "prod: edge.deletion_protection = False: the production load balancer is "
            "deletion-protected",
        ),
        (
            "prod",
            ("service", "log_level"),
            "DEBUG",
            "prod: service.log_level = 'DEBUG': production logs at INFO or above",
        ),
        (
            "prod",
            ("service", "enable_execute_command"),
            True,
            "prod: service.enable_execute_command = True: ECS Exec is off in production",
        ),
        (
            "staging",
            ("edge", "waf_log_retention_days"),
            42,
            "staging: edge.waf_log_retention_days = 42: CloudWatch accepts one of",
        ),
        (
            "dev",
            ("edge", "admin_allowed_cidrs"),
            ["2001:db8::/32"],
            "dev: edge.admin_allowed_cidrs = '2001:db8::/32': must be IPv4",
        ),
        (
            "dev",
            ("edge", "allowed_cidrs"),
            ["10.0.0.1/8"],
            "dev: edge.allowed_cidrs = '10.0.0.1/8': not a CIDR block",
        ),
        (
            "staging",
            ("edge", "idle_timeout_seconds"),
            120,
            "staging: edge.idle_timeout_seconds = 120: must be below the API's keep-alive (75 s)",
        ),
        (
            "dev",
            ("service", "carrier_base_url"),
            "http://carrier.example.com",
            "dev: service.carrier_base_url = 'http://carrier.example.com': String should match",
        ),
        (
            "staging",
            ("observability", "ecs_cpu_percent"),
            5,
            "staging: observability.ecs_cpu_percent = 5: Input should be greater than or equal "
            "to 10",
        ),
    ],
)
def test_rejects_bad_service_value_with_its_message(
    env: str, path: tuple[str, ...], value: Any, expected: str
) -> None:
    raw = raw_environments()
    target = raw[env]
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value
    problems = problems_of(raw)
    assert any(p.startswith(expected) for p in problems), problems


def test_carrier_base_url_is_required() -> None:
    raw = raw_environments()
    del raw["staging"]["service"]["carrier_base_url"]
    problems = problems_of(raw)
    assert any(p.startswith("staging: service.carrier_base_url") for p in problems), problems
