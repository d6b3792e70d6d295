"""Environment configuration: every kind of bad input names env, field, value and rule."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from stacks.environments import ConfigError, SynthOptions, load_environments
from stacks.environments.model import ENVIRONMENTS_DIR, load_delivery
from tests.stacks.environments.raw_config import problems_of, raw_environments


def test_loads_the_three_real_environments() -> None:
    envs = load_environments()
    assert sorted(envs) == ["dev", "prod", "staging"]
    assert {e.region for e in envs.values()} == {"ap-northeast-1"}
    assert envs["prod"].network.az_count == 3
    assert envs["prod"].production
    assert not envs["dev"].production
    assert len({e.account_id for e in envs.values()}) == 3


@pytest.mark.parametrize(
    ("env", "path", "value", "expected"),
    [
        ("dev", ("account_id",), "12345", "dev: account_id = '12345': must be exactly 12 digits"),
        (
            "dev",
            ("network", "az_count"),
            5,
            "dev: network.az_count = 5: Input should be less than or equal to 3",
        ),
        (
            "dev",
            ("network", "nat_strategy"),
            "none",
            "dev: network.nat_strategy = 'none': Input should be 'single' or 'per_az'",
        ),
        (
            "dev",
            ("network", "vpc_cidr"),
            "8.8.0.0/16",
            "dev: network.vpc_cidr = '8.8.0.0/16': must be an RFC 1918 private block",
        ),
        (
            "dev",
            ("network", "vpc_cidr"),
            "10.0.0.0/8",
            "dev: network.vpc_cidr = '10.0.0.0/8': prefix length must be between /16 and /22",
        ),
        ("dev", ("region",), "mars-1", "dev: region = 'mars-1': must be one of"),
        (
            "dev",
            ("network", "vpc_cidr"),
            "10.10.0.0/24",
            "dev: network.vpc_cidr = '10.10.0.0/24': prefix length must be between /16 and /22",
        ),
        (
            "prod",
            ("edge", "admin_allowed_cidrs"),
            ["0.0.0.0/0"],
            "prod: edge.admin_allowed_cidrs = '0.0.0.0/0': too broad to restrict anything",
        ),
        (
            "staging",
            ("network", "flow_log_retention_days"),
            42,
            "staging: network.flow_log_retention_days = 42: CloudWatch accepts one of",
        ),
        (
            "staging",
            ("network", "flow_log_retention_days"),
            3653,
            "staging: network.flow_log_retention_days = 3653: bounded to at most 731 days",
        ),
        (
            "prod",
            ("network", "nat_strategy"),
            "single",
            "prod: network.nat_strategy = 'single': production needs 'per_az'",
        ),
        ("prod", ("network", "az_count"), 2, "prod: network.az_count = 2: production spans 3 AZs"),
        ("prod", ("edge", "waf_mode"), "count", "prod: edge.waf_mode = 'count': production WAF"),
        (
            "dev",
            ("service", "memory_mib"),
            4096,
            "dev: service.memory_mib = 4096: with cpu 256 Fargate allows 512..2048",
        ),
        (
            "dev",
            ("domain_name",),
            "api.other.example.org",
            "dev: domain_name = 'api.other.example.org': must be inside edge.hosted_zone_name",
        ),
    ],
)
def test_rejects_bad_value_with_its_message(
    env: str, path: tuple[str, ...], value: Any, expected: str
) -> None:
    raw = raw_environments()
    target = raw[env]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    problems = problems_of(raw)
    assert any(p.startswith(expected) for p in problems), problems


def test_rejects_unknown_keys() -> None:
    raw = raw_environments()
    raw["dev"]["network"]["vpc_cdir"] = "10.1.0.0/16"
    raw["prod"]["colour"] = "blue"
    problems = problems_of(raw)
    assert any(p.startswith("dev: network.vpc_cdir = '10.1.0.0/16': unknown key") for p in problems)
    assert any(p.startswith("prod: colour = 'blue': unknown key") for p in problems)


def test_rejects_overlapping_vpc_cidrs_across_environments() -> None:
    raw = raw_environments()
    raw["staging"]["network"]["vpc_cidr"] = "10.10.128.0/17"  # inside dev's 10.10.0.0/16
    problems = problems_of(raw)
    assert any(
        p.startswith("staging: network.vpc_cidr = '10.10.128.0/17': overlaps dev's 10.10.0.0/16")
        for p in problems
    ), problems


def test_reports_every_problem_of_every_environment_at_once() -> None:
    raw = raw_environments()
    raw["dev"]["account_id"] = "abc"
    raw["staging"]["network"]["az_count"] = 7
    raw["prod"]["network"]["nat_strategy"] = "single"
    raw["prod"]["cache"]["num_cache_clusters"] = 1
    problems = problems_of(raw)
    assert [p.split(":")[0] + ":" + p.split(":")[1] for p in problems] == [
        "dev: account_id = 'abc'",
        "staging: network.az_count = 7",
        "prod: network.nat_strategy = 'single'",
        "prod: cache.num_cache_clusters = 1",
    ]


def test_rejects_a_file_that_is_not_a_mapping_or_not_yaml(tmp_path: Path) -> None:
    (tmp_path / "dev.yaml").write_text("- just\n- a list\n")
    (tmp_path / "qa.yaml").write_text("network: [unclosed\n")
    with pytest.raises(ConfigError) as info:
        load_environments(tmp_path)
    messages = [str(p) for p in info.value.problems]
    assert messages[0] == "dev: <file> = 'list': must be a mapping"
    assert messages[1].startswith("qa: <file> = None: not valid YAML")


def test_error_message_lists_every_problem() -> None:
    raw = raw_environments()
    raw["dev"]["account_id"] = "1"
    raw["dev"]["alarm_email"] = "not-an-email"
    with pytest.raises(ConfigError) as info:
        load_environments(raw=raw)
    text = str(info.value)
    assert text.startswith("2 configuration problem(s):")
    assert "dev: account_id = '1'" in text
    assert "dev: alarm_email = 'not-an-email'" in text


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"KAKEHASHI_IMAGE_DIGEST": "sha256:abc"}, "KAKEHASHI_IMAGE_DIGEST"),
        ({"KAKEHASHI_IMAGE_TAG": "bad tag!"}, "KAKEHASHI_IMAGE_TAG"),
        ({"KAKEHASHI_GIT_REVISION": "main"}, "KAKEHASHI_GIT_REVISION"),
    ],
)
def test_synth_options_reject_malformed_release_stamps(
    environ: dict[str, str], expected: str
) -> None:
    with pytest.raises(ConfigError) as info:
        SynthOptions.from_environ(environ)
    assert info.value.problems[0].field == expected


def test_synth_options_read_environment_selection() -> None:
    options = SynthOptions.from_environ(
        {"KAKEHASHI_ENV": "dev, prod", "KAKEHASHI_IMAGE_TAG": "1.2.3"}
    )
    assert options.environments == ("dev", "prod")
    assert options.image_tag == "1.2.3"


def test_raw_config_is_not_mutated_by_loading() -> None:
    raw = raw_environments()
    before = copy.deepcopy(raw)
    load_environments(raw=raw)
    assert raw == before


def test_loads_the_delivery_account_config() -> None:
    delivery = load_delivery()
    assert delivery.region == "ap-northeast-1"
    assert delivery.image_repository_uri() == (
        f"{delivery.account_id}.dkr.ecr.ap-northeast-1.amazonaws.com/kakehashi/api"
    )


def test_rejects_a_bad_delivery_config(tmp_path: Path) -> None:
    (tmp_path / "delivery.yaml").write_text(
        (ENVIRONMENTS_DIR / "delivery.yaml").read_text().replace('"999900001111"', '"12"')
        + "extra: 1\n"
    )
    with pytest.raises(ConfigError) as info:
        load_delivery(tmp_path)
    assert [(p.environment, p.field) for p in info.value.problems] == [
        ("delivery", "account_id"),
        ("delivery", "extra"),
    ]


def test_reports_rule_and_overlap_problems_alongside_a_typo_in_the_same_file() -> None:
    raw = raw_environments()
    dev = raw["dev"]
    dev["cache"]["node_typ"] = dev["cache"].pop("node_type")  # a typo: unknown + missing
    dev["cache"]["node_type"] = "cache.t4g.micro"  # ... fixed for the missing half only
    dev["database"]["capacity"]["max_acu"] = 4.25
    dev["network"]["vpc_cidr"] = "10.20.0.0/17"  # inside staging's 10.20.0.0/16
    dev["service"]["memory_mib"] = 4096
    problems = problems_of(raw)
    fields = [p.split(" = ")[0] for p in problems]
    assert "dev: cache.node_typ" in fields
    assert "dev: database.capacity.max_acu" in fields
    assert "dev: service.memory_mib" in fields
    assert any(
        p.startswith("staging: network.vpc_cidr = '10.20.0.0/16': overlaps dev's 10.20.0.0/17")
        for p in problems
    ), problems
