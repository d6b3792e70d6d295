"""``kakehashi-<env>-network``: the VPC, its flow logs and endpoints, and the logs key."""

from __future__ import annotations

from cdktf import TerraformOutput
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from constructs import Construct

from modules.network.flow_logs import VpcFlowLogs, VpcFlowLogsProps
from modules.network.vpc import Vpc, VpcProps
from modules.network.vpc_endpoints import VpcEndpoints, VpcEndpointsProps
from modules.security.kms_key import KmsKey, KmsKeyProps, logs_service_use
from stacks.base import KakehashiStack
from stacks.environments import Environment


class NetworkStack(KakehashiStack):
    """Exposes, for the stacks built on it: ``vpc``, ``endpoints`` (their security group),
    ``logs_key`` (the CMK every CloudWatch log group of the environment uses) and
    ``service_security_group`` (the ECS tasks' group, created empty)."""

    def __init__(self, scope: Construct, env: Environment) -> None:
        super().__init__(scope, env=env, component="network")
        name = f"kakehashi-{env.name}"
        # One key for all log groups of the environment, separate from the data key: log
        # readers (operators, SIEM exports) never get to decrypt business data.
        self.logs_key = KmsKey(
            self,
            "logs-key",
            KmsKeyProps(
                alias=f"kakehashi/{env.name}/logs",
                description=f"CloudWatch Logs encryption for kakehashi {env.name}",
                account_id=env.account_id,
                services=[logs_service_use(env.region, env.account_id)],
            ),
        )
        self.vpc = Vpc(
            self,
            "vpc",
            VpcProps(
                name=name,
                cidr=env.network.vpc_cidr,
                availability_zones=env.availability_zones,
                nat_strategy=env.network.nat_strategy,
            ),
        )
        self.flow_logs = VpcFlowLogs(
            self,
            "flow-logs",
            VpcFlowLogsProps(
                name=name,
                vpc_id=self.vpc.vpc_id,
                account_id=env.account_id,
                region=env.region,
                retention_days=env.network.flow_log_retention_days,
                kms_key=self.logs_key,
            ),
        )
        self.endpoints = VpcEndpoints(
            self,
            "endpoints",
            VpcEndpointsProps(
                name=name,
                region=env.region,
                vpc_id=self.vpc.vpc_id,
                vpc_cidr=env.network.vpc_cidr,
                interface_subnet_ids=self.vpc.subnet_ids("private_app"),
                gateway_route_table_ids=self.vpc.route_table_ids,
            ),
        )
        # The service tasks' security group lives here, empty, so the data stack can admit it
        # (DB/Redis ingress) and the service stack can attach it (and add its egress) without
        # the two stacks referencing each other: network <- data <- service, no cycle.
        self.service_security_group = SecurityGroup(
            self,
            "service-sg",
            name=f"{name}-service",
            description="ECS service tasks (rules are added by the data and service stacks)",
            vpc_id=self.vpc.vpc_id,
            tags={"Name": f"{name}-service"},
        )
        TerraformOutput(self, "vpc_id", value=self.vpc.vpc_id)
        for tier in ("public", "private_app", "isolated_data"):
            TerraformOutput(self, f"{tier}_subnet_ids", value=self.vpc.subnet_ids(tier))
        TerraformOutput(self, "logs_kms_key_arn", value=self.logs_key.arn)
