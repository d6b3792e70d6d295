"""Data-tier configuration: Serverless v2 capacity and the connection budget, validated at
load with one message per problem naming env, field, value and what is allowed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from modules.data.aurora_capacity import serverless_capacity_problems
from stacks.environments import ConfigError, load_environments
from stacks.environments.model import (
    CONNECTION_HEADROOM,
    ServerlessCapacity,
)
from tests.stacks.environments.raw_config import problems_of, raw_environments


def _problems_with(env: str, block: str, **changes: Any) -> list[str]:
    raw = raw_environments()
    raw[env][block].update(changes)
    return problems_of(raw)


def _capacity(env: str, **capacity: Any) -> list[str]:
    raw = raw_environments()
    raw[env]["database"]["capacity"] = {"kind": "serverless", **capacity}
    with pytest.raises(ConfigError) as info:
        load_environments(raw=raw)
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(
    ("capacity", "expected"),
    [
        (
            {"min_acu": "0.75", "max_acu": 4},
            ["staging: database.capacity.min_acu = '0.75': must be a multiple of 0.5"],
        ),
        (
            {"min_acu": 1, "max_acu": "8.25"},
            ["staging: database.capacity.max_acu = '8.25': must be a multiple of 0.5"],
        ),
        (
            {"min_acu": "0.5", "max_acu": "0.5"},
            ["staging: database.capacity.max_acu = '0.5': must be between 1 and 256"],
        ),
        (
            {"min_acu": 1, "max_acu": 512},
            ["staging: database.capacity.max_acu = '512': must be between 1 and 256"],
        ),
        (
            {"min_acu": 8, "max_acu": 4},
            ["staging: database.capacity.min_acu = '8': must be <= max_acu (4)"],
        ),
        (
            {"min_acu": 1, "max_acu": 4, "seconds_until_auto_pause": 600},
            [
                "staging: database.capacity.seconds_until_auto_pause = 600: "
                "auto-pause is only allowed when min_acu is 0"
            ],
        ),
        (
            {"min_acu": 0, "max_acu": 4, "seconds_until_auto_pause": 299},
            [
                "staging: database.capacity.seconds_until_auto_pause = 299: "
                "must be between 300 and 86400 seconds"
            ],
        ),
        (
            {"min_acu": 0, "max_acu": 4, "seconds_until_auto_pause": 86401},
            [
                "staging: database.capacity.seconds_until_auto_pause = 86401: "
                "must be between 300 and 86400 seconds"
            ],
        ),
        (
            # Several problems in one block are all reported together.
            {"min_acu": "300.25", "max_acu": 4, "seconds_until_auto_pause": 60},
            [
                "staging: database.capacity.min_acu = '300.25': must be a multiple of 0.5",
                "staging: database.capacity.min_acu = '300.25': must be between 0 and 256",
                "staging: database.capacity.min_acu = '300.25': must be <= max_acu (4)",
                "staging: database.capacity.seconds_until_auto_pause = 60: "
                "auto-pause is only allowed when min_acu is 0",
                "staging: database.capacity.seconds_until_auto_pause = 60: "
                "must be between 300 and 86400 seconds",
            ],
        ),
    ],
)
def test_rejects_bad_serverless_capacity_with_its_message(
    capacity: dict[str, Any], expected: list[str]
) -> None:
    assert _capacity("staging", **capacity) == expected


@pytest.mark.parametrize(
    ("capacity", "expected"),
    [
        (
            {"min_acu": 0, "max_acu": 32, "seconds_until_auto_pause": 600},
            [
                "prod: database.capacity.min_acu = '0': production databases must not "
                "auto-pause: min_acu must be >= 0.5",
            ],
        ),
        (
            {"min_acu": 0, "max_acu": 32},
            [
                "prod: database.capacity.min_acu = '0': production databases must not "
                "auto-pause: min_acu must be >= 0.5",
            ],
        ),
    ],
)
def test_rejects_auto_pause_in_production(capacity: dict[str, Any], expected: list[str]) -> None:
    assert _capacity("prod", **capacity) == expected


@pytest.mark.parametrize(
    ("min_acu", "max_acu", "pause"),
    [
        (Decimal(0), Decimal(1), 300),
        (Decimal(0), Decimal(256), 86400),
        (Decimal(0), Decimal(4), None),  # RDS then pauses after its default 300 s
        (Decimal("0.5"), Decimal("0.5") + 1, None),
        (Decimal(256), Decimal(256), None),
    ],
)
def test_accepts_capacities_rds_accepts(min_acu: Decimal, max_acu: Decimal, pause: int) -> None:
    assert serverless_capacity_problems(min_acu, max_acu, pause) == []


def test_loads_each_environment_capacity_as_configured() -> None:
    envs = load_environments()
    dev, prod = envs["dev"].database.capacity, envs["prod"].database.capacity
    assert isinstance(dev, ServerlessCapacity)
    assert (dev.min_acu, dev.seconds_until_auto_pause) == (Decimal(0), 1800)
    assert isinstance(prod, ServerlessCapacity)
    assert prod.min_acu >= Decimal("0.5")
    assert prod.seconds_until_auto_pause is None


def test_rejects_a_connection_budget_the_service_can_exceed() -> None:
    # prod: 20 tasks x (10 + 10) + 20 = 420 connections needed.
    problems = _problems_with("prod", "database", max_connections=419)
    assert problems == [
        "prod: database.max_connections = 419: must be >= service.max_count (20) x "
        f"(db_pool_size (10) + db_max_overflow (10)) + headroom ({CONNECTION_HEADROOM}) = 420"
    ]


def test_rejects_a_service_scale_out_beyond_the_connection_budget() -> None:
    # staging: max_connections 300; 29 tasks x (5 + 5) + 20 = 310.
    problems = _problems_with("staging", "service", max_count=29)
    assert problems == [
        "staging: database.max_connections = 300: must be >= service.max_count (29) x "
        f"(db_pool_size (5) + db_max_overflow (5)) + headroom ({CONNECTION_HEADROOM}) = 310"
    ]


def test_accepts_a_connection_budget_met_exactly() -> None:
    raw = raw_environments()
    raw["prod"]["database"]["max_connections"] = 420
    assert load_environments(raw=raw)["prod"].database.max_connections == 420


def test_every_environment_fits_its_connection_budget() -> None:
    for env in load_environments().values():
        svc = env.service
        needed = svc.max_count * (svc.db_pool_size + svc.db_max_overflow) + CONNECTION_HEADROOM
        assert env.database.max_connections >= needed, env.name


@pytest.mark.parametrize(
    ("block", "changes", "expected"),
    [
        (
            "database",
            {"backup_retention_days": 7},
            "prod: database.backup_retention_days = 7: production keeps >= 14 days",
        ),
        (
            "database",
            {"instance_count": 1},
            "prod: database.instance_count = 1: production needs >= 2 instances",
        ),
        (
            "database",
            {"deletion_protection": False},
            "prod: database.deletion_protection = False: production databases are "
            "deletion-protected",
        ),
        (
            "cache",
            {"num_cache_clusters": 1},
            "prod: cache.num_cache_clusters = 1: production needs >= 2 nodes",
        ),
        (
            "cache",
            {"log_retention_days": 10},
            "prod: cache.log_retention_days = 10: CloudWatch accepts one of",
        ),
    ],
)
def test_rejects_data_settings_below_the_production_bar(
    block: str, changes: dict[str, Any], expected: str
) -> None:
    problems = _problems_with("prod", block, **changes)
    assert any(p.startswith(expected) for p in problems), problems
