"""A three-tier VPC: public, private-app and isolated-data subnets across AZs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from cdktf_cdktf_provider_aws.default_network_acl import (
    DefaultNetworkAcl,
    DefaultNetworkAclEgress,
    DefaultNetworkAclIngress,
)
from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.route import Route
from cdktf_cdktf_provider_aws.route_table import RouteTable
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc as _Vpc
from constructs import Construct

from modules.network.subnet_plan import TIERS, Tier, plan_subnets


@dataclass(frozen=True, kw_only=True)
class VpcProps:
    """Props of :class:`Vpc`.

    ``name``: prefix of every resource's Name tag, e.g. ``kakehashi-dev``.
    ``cidr``: RFC 1918 block, /16 to /22; subnets are derived (see subnet_plan.py).
    ``availability_zones``: AZ names, 2 to 4, in a stable order (order decides CIDRs).
    ``nat_strategy``: ``per_az`` — one NAT gateway and private route table per AZ, so an
    AZ outage never cuts another AZ's egress; ``single`` — one NAT gateway in the first AZ
    shared by all private-app subnets (cheaper, a single point of failure).
    Default: ``per_az``.
    """

    name: str
    cidr: str
    availability_zones: Sequence[str]
    nat_strategy: Literal["single", "per_az"] = "per_az"


class Vpc(Construct):
    """Guarantees: no auto-assigned public IPs anywhere; isolated-data subnets have no route
    to the internet in either direction; the default security group has no rules; the
    default network ACL is managed (allows traffic; security groups do the filtering).
    """

    def __init__(self, scope: Construct, id_: str, props: VpcProps) -> None:
        super().__init__(scope, id_)
        azs = list(props.availability_zones)
        problems = []
        if not 2 <= len(azs) <= 4:
            problems.append(f"availability_zones={azs}: give 2 to 4 AZs")
        if len(set(azs)) != len(azs):
            problems.append(f"availability_zones={azs}: AZs must be distinct")
        if props.nat_strategy not in ("single", "per_az"):
            problems.append(f"nat_strategy={props.nat_strategy!r}: 'single' or 'per_az'")
        if problems:
            raise ValueError(f"Vpc {id_}: " + "; ".join(problems))
        self.plan = plan_subnets(props.cidr, len(azs))
        self.availability_zones = azs

        self.vpc = _Vpc(
            self,
            "vpc",
            cidr_block=props.cidr,
            enable_dns_hostnames=True,  # required by interface endpoints' private DNS
            enable_dns_support=True,
            tags={"Name": props.name},
        )
        # Strip the default security group: anything attached to it by mistake gets nothing.
        DefaultSecurityGroup(
            self, "default-sg", vpc_id=self.vpc.id, tags={"Name": f"{props.name}-default-unused"}
        )
        self.subnets: dict[Tier, list[Subnet]] = {tier: [] for tier in TIERS}
        for tier in TIERS:
            for index, (az, cidr) in enumerate(zip(azs, self.plan.cidrs[tier], strict=True)):
                self.subnets[tier].append(
                    Subnet(
                        self,
                        f"{tier}-{index}",
                        vpc_id=self.vpc.id,
                        availability_zone=az,
                        cidr_block=cidr,
                        map_public_ip_on_launch=False,
                        tags={"Name": f"{props.name}-{tier.replace('_', '-')}-{az}", "tier": tier},
                    )
                )
        all_subnet_ids = [s.id for tier in TIERS for s in self.subnets[tier]]
        DefaultNetworkAcl(
            self,
            "default-nacl",
            default_network_acl_id=self.vpc.default_network_acl_id,
            subnet_ids=all_subnet_ids,
            ingress=[
                DefaultNetworkAclIngress(
                    rule_no=100,
                    action="allow",
                    protocol="-1",
                    from_port=0,
                    to_port=0,
                    cidr_block="0.0.0.0/0",
                )
            ],
            egress=[
                DefaultNetworkAclEgress(
                    rule_no=100,
                    action="allow",
                    protocol="-1",
                    from_port=0,
                    to_port=0,
                    cidr_block="0.0.0.0/0",
                )
            ],
            tags={"Name": f"{props.name}-default"},
        )

        self.internet_gateway = InternetGateway(
            self, "igw", vpc_id=self.vpc.id, tags={"Name": props.name}
        )
        public_rt = RouteTable(
            self, "public-rt", vpc_id=self.vpc.id, tags={"Name": f"{props.name}-public"}
        )
        Route(
            self,
            "public-default",
            route_table_id=public_rt.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=self.internet_gateway.id,
        )
        for index, subnet in enumerate(self.subnets["public"]):
            RouteTableAssociation(
                self, f"public-{index}-rta", subnet_id=subnet.id, route_table_id=public_rt.id
            )

        nat_azs = range(len(azs)) if props.nat_strategy == "per_az" else range(1)
        self.nat_gateways: list[NatGateway] = []
        for index in nat_azs:
            eip = Eip(
                self,
                f"nat-eip-{index}",
                domain="vpc",
                tags={"Name": f"{props.name}-nat-{azs[index]}"},
            )
            self.nat_gateways.append(
                NatGateway(
                    self,
                    f"nat-{index}",
                    allocation_id=eip.allocation_id,
                    subnet_id=self.subnets["public"][index].id,
                    tags={"Name": f"{props.name}-{azs[index]}"},
                    depends_on=[self.internet_gateway],
                )
            )
        self.private_route_tables: list[RouteTable] = []
        for index, subnet in enumerate(self.subnets["private_app"]):
            nat = self.nat_gateways[index if props.nat_strategy == "per_az" else 0]
            if props.nat_strategy == "per_az" or index == 0:
                rt = RouteTable(
                    self,
                    f"private-rt-{index}",
                    vpc_id=self.vpc.id,
                    tags={
                        "Name": f"{props.name}-private-app-{azs[index]}"
                        if props.nat_strategy == "per_az"
                        else f"{props.name}-private-app"
                    },
                )
                Route(
                    self,
                    f"private-default-{index}",
                    route_table_id=rt.id,
                    destination_cidr_block="0.0.0.0/0",
                    nat_gateway_id=nat.id,
                )
                self.private_route_tables.append(rt)
            RouteTableAssociation(
                self,
                f"private-{index}-rta",
                subnet_id=subnet.id,
                route_table_id=self.private_route_tables[-1].id,
            )
        # Isolated-data subnets: a route table with only the implicit local route.
        self.isolated_route_table = RouteTable(
            self, "isolated-rt", vpc_id=self.vpc.id, tags={"Name": f"{props.name}-isolated-data"}
        )
        for index, subnet in enumerate(self.subnets["isolated_data"]):
            RouteTableAssociation(
                self,
                f"isolated-{index}-rta",
                subnet_id=subnet.id,
                route_table_id=self.isolated_route_table.id,
            )

    @property
    def vpc_id(self) -> str:
        return self.vpc.id

    @property
    def cidr(self) -> str:
        return self.plan.vpc_cidr

    def subnet_ids(self, tier: Tier) -> list[str]:
        return [s.id for s in self.subnets[tier]]

    @property
    def route_table_ids(self) -> list[str]:
        """Every route table (for gateway endpoints)."""
        return [rt.id for rt in self.private_route_tables] + [self.isolated_route_table.id]
