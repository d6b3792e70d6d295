"""Deterministic subnet CIDRs derived from a VPC CIDR (pure Python, no provider bindings).

The VPC block is cut into four equal quarters: public, private-app, isolated-data, and one
reserved for growth. Each quarter is cut into four, one per AZ (up to four AZs). A /16 thus
gives /20 subnets (4,091 usable addresses each); a /22, the smallest VPC accepted, gives
/26 subnets (an ALB needs at least /27).
Adding an AZ later only adds subnets: existing CIDRs never move.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Literal

Tier = Literal["public", "private_app", "isolated_data"]
TIERS: tuple[Tier, ...] = ("public", "private_app", "isolated_data")
MAX_AZS = 4
#: A /22 VPC gives /26 subnets: an ALB needs at least a /27 with 8 free addresses per subnet.
MAX_VPC_PREFIX = 22


@dataclass(frozen=True)
class SubnetPlan:
    """tier -> one CIDR per AZ, in AZ order."""

    vpc_cidr: str
    cidrs: dict[Tier, tuple[str, ...]]


def plan_subnets(vpc_cidr: str, az_count: int) -> SubnetPlan:
    """Return the subnet CIDRs per tier for ``az_count`` AZs of ``vpc_cidr``."""
    net = ipaddress.IPv4Network(vpc_cidr, strict=True)
    if not 16 <= net.prefixlen <= MAX_VPC_PREFIX:
        raise ValueError(f"vpc_cidr={vpc_cidr!r}: prefix must be /16 to /{MAX_VPC_PREFIX}")
    if not 1 <= az_count <= MAX_AZS:
        raise ValueError(f"az_count={az_count}: must be 1 to {MAX_AZS}")
    quarters = list(net.subnets(prefixlen_diff=2))
    cidrs: dict[Tier, tuple[str, ...]] = {}
    for tier, quarter in zip(TIERS, quarters, strict=False):
        per_az = list(quarter.subnets(prefixlen_diff=2))
        cidrs[tier] = tuple(str(s) for s in per_az[:az_count])
    return SubnetPlan(vpc_cidr=vpc_cidr, cidrs=cidrs)
