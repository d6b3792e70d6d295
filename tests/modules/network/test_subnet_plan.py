from __future__ import annotations

import ipaddress

import pytest

from modules.network.subnet_plan import plan_subnets


def test_plan_subnets_gives_one_cidr_per_az_per_tier_for_a_slash_16() -> None:
    plan = plan_subnets("10.10.0.0/16", 3)
    assert plan.cidrs == {
        "public": ("10.10.0.0/20", "10.10.16.0/20", "10.10.32.0/20"),
        "private_app": ("10.10.64.0/20", "10.10.80.0/20", "10.10.96.0/20"),
        "isolated_data": ("10.10.128.0/20", "10.10.144.0/20", "10.10.160.0/20"),
    }


def test_plan_subnets_keeps_existing_cidrs_when_an_az_is_added() -> None:
    two, three = plan_subnets("10.20.0.0/16", 2), plan_subnets("10.20.0.0/16", 3)
    for tier, cidrs in two.cidrs.items():
        assert three.cidrs[tier][:2] == cidrs


def test_plan_subnets_keeps_alb_sized_subnets_for_the_smallest_vpc() -> None:
    plan = plan_subnets("192.168.4.0/22", 4)
    nets = [ipaddress.ip_network(c) for cidrs in plan.cidrs.values() for c in cidrs]
    assert {n.prefixlen for n in nets} == {26}
    assert len(nets) == 12


@pytest.mark.parametrize(
    ("cidr", "azs", "message"),
    [
        ("10.0.0.0/8", 2, "prefix must be /16 to /22"),
        ("10.0.0.0/24", 2, "prefix must be /16 to /22"),
        ("10.0.0.0/16", 5, "must be 1 to 4"),
    ],
)
def test_plan_subnets_rejects_what_cannot_be_cut(cidr: str, azs: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan_subnets(cidr, azs)
