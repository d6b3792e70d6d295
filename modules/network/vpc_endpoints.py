"""Private access to AWS APIs: an S3 gateway endpoint and interface endpoints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import (
    VpcSecurityGroupIngressRule,
)
from constructs import Construct

#: Interface endpoints the service tier needs to run with no NAT dependency for AWS APIs:
#: image pulls (ecr.api, ecr.dkr; layers come from S3 via the gateway), logs, secrets,
#: KMS (JWT signing, decrypting secrets) and STS.
DEFAULT_INTERFACE_SERVICES = ("ecr.api", "ecr.dkr", "logs", "secretsmanager", "kms", "sts")


@dataclass(frozen=True, kw_only=True)
class VpcEndpointsProps:
    """Props of :class:`VpcEndpoints`.

    ``interface_subnet_ids``: one subnet per AZ for the endpoint ENIs (private-app tier).
    ``gateway_route_table_ids``: route tables that get the S3 gateway route.
    ``vpc_cidr``: the only source allowed to reach the endpoints (443).
    ``interface_services``: short service names. Default: DEFAULT_INTERFACE_SERVICES.
    """

    name: str
    region: str
    vpc_id: str
    vpc_cidr: str
    interface_subnet_ids: Sequence[str]
    gateway_route_table_ids: Sequence[str]
    interface_services: Sequence[str] = DEFAULT_INTERFACE_SERVICES


class VpcEndpoints(Construct):
    """Guarantees: interface endpoints use private DNS and accept only HTTPS from inside the
    VPC; S3 traffic from private and isolated subnets never leaves the AWS network."""

    def __init__(self, scope: Construct, id_: str, props: VpcEndpointsProps) -> None:
        super().__init__(scope, id_)
        if len(set(props.interface_services)) != len(props.interface_services):
            raise ValueError(
                f"VpcEndpoints {id_}: interface_services has duplicates: "
                f"{list(props.interface_services)}"
            )
        self.security_group = SecurityGroup(
            self,
            "sg",
            name=f"{props.name}-vpc-endpoints",
            description="HTTPS to AWS interface endpoints from inside the VPC",
            vpc_id=props.vpc_id,
            tags={"Name": f"{props.name}-vpc-endpoints"},
        )
        VpcSecurityGroupIngressRule(
            self,
            "https-from-vpc",
            security_group_id=self.security_group.id,
            description="HTTPS from the VPC",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4=props.vpc_cidr,
        )
        self.s3_gateway = VpcEndpoint(
            self,
            "s3",
            vpc_id=props.vpc_id,
            service_name=f"com.amazonaws.{props.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=list(props.gateway_route_table_ids),
            tags={"Name": f"{props.name}-s3"},
        )
        self.interface: dict[str, VpcEndpoint] = {}
        for service in props.interface_services:
            self.interface[service] = VpcEndpoint(
                self,
                service.replace(".", "-"),
                vpc_id=props.vpc_id,
                service_name=f"com.amazonaws.{props.region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=list(props.interface_subnet_ids),
                security_group_ids=[self.security_group.id],
                tags={"Name": f"{props.name}-{service}"},
            )
