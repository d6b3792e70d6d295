"""A Fargate service behind a load balancer target group, with safe deployments."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf import ITerraformDependable, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.ecs_service import (
    EcsService,
    EcsServiceAlarms,
    EcsServiceDeploymentCircuitBreaker,
    EcsServiceLoadBalancer,
    EcsServiceNetworkConfiguration,
)
from constructs import Construct


@dataclass(frozen=True, kw_only=True)
class FargateServiceProps:
    """Props of :class:`FargateService`.

    ``name``: the service name (see stacks/naming.py).
    ``cluster_arn`` / ``task_definition_arn``: where and what it runs.
    ``subnet_ids`` / ``security_group_ids``: private subnets; no public IP is assigned.
    ``target_group_arn`` / ``container_name`` / ``container_port``: the load balancer target.
    ``desired_count``: the initial count (autoscaling owns it afterwards).
    ``rollback_alarm_names``: alarms that roll a deployment back when they fire. Default:
    none (the circuit breaker still rolls back tasks that fail to start).
    ``minimum_healthy_percent`` / ``maximum_percent``: Default: 100 / 200 (a rolling
    deployment never drops below the desired capacity).
    ``health_check_grace_seconds``: load balancer checks ignored after a task starts.
    Default: 60.
    ``enable_execute_command``: ECS Exec. Default: false.
    ``platform_version``: Default: ``LATEST``.
    ``tags``: tags of the service only (propagated to its tasks). Default: none.
    ``depends_on``: resources to create first (e.g. the listener of the target group).
    Default: none.
    """

    name: str
    cluster_arn: str
    task_definition_arn: str
    subnet_ids: Sequence[str]
    security_group_ids: Sequence[str]
    target_group_arn: str
    container_name: str
    container_port: int
    desired_count: int
    rollback_alarm_names: Sequence[str] = ()
    minimum_healthy_percent: int = 100
    maximum_percent: int = 200
    health_check_grace_seconds: int = 60
    enable_execute_command: bool = False
    platform_version: str = "LATEST"
    tags: Mapping[str, str] = field(default_factory=dict)
    depends_on: Sequence[ITerraformDependable] = ()


class FargateService(Construct):
    """Guarantees: tasks in the given private subnets with no public IP; the deployment
    circuit breaker rolls back failed deployments, as do the rollback alarms; the desired
    count is left to autoscaling after creation (Terraform never resets it); the service's
    tags propagate to its tasks.
    """

    def __init__(self, scope: Construct, id_: str, props: FargateServiceProps) -> None:
        super().__init__(scope, id_)
        problems = []
        if not 0 <= props.minimum_healthy_percent <= 100:
            problems.append(f"minimum_healthy_percent={props.minimum_healthy_percent}: 0-100")
        if not 100 <= props.maximum_percent <= 200:
            problems.append(f"maximum_percent={props.maximum_percent}: 100-200")
        if props.minimum_healthy_percent == 100 and props.maximum_percent == 100:
            problems.append("minimum 100% and maximum 100% leave no room to deploy")
        if not props.subnet_ids:
            problems.append("subnet_ids: at least one subnet")
        if not props.security_group_ids:
            problems.append("security_group_ids: at least one security group")
        if props.desired_count < 0:
            problems.append(f"desired_count={props.desired_count}: >= 0")
        if problems:
            raise ValueError(f"FargateService {id_}: " + "; ".join(problems))
        self.service = EcsService(
            self,
            "service",
            name=props.name,
            cluster=props.cluster_arn,
            task_definition=props.task_definition_arn,
            launch_type="FARGATE",
            platform_version=props.platform_version,
            desired_count=props.desired_count,
            deployment_minimum_healthy_percent=props.minimum_healthy_percent,
            deployment_maximum_percent=props.maximum_percent,
            deployment_circuit_breaker=EcsServiceDeploymentCircuitBreaker(
                enable=True, rollback=True
            ),
            alarms=EcsServiceAlarms(
                alarm_names=list(props.rollback_alarm_names), enable=True, rollback=True
            )
            if props.rollback_alarm_names
            else None,
            health_check_grace_period_seconds=props.health_check_grace_seconds,
            enable_execute_command=props.enable_execute_command,
            network_configuration=EcsServiceNetworkConfiguration(
                subnets=list(props.subnet_ids),
                security_groups=list(props.security_group_ids),
                assign_public_ip=False,
            ),
            load_balancer=[
                EcsServiceLoadBalancer(
                    target_group_arn=props.target_group_arn,
                    container_name=props.container_name,
                    container_port=props.container_port,
                )
            ],
            propagate_tags="SERVICE",
            enable_ecs_managed_tags=True,
            wait_for_steady_state=False,
            tags=dict(props.tags) or None,
            lifecycle=TerraformResourceLifecycle(ignore_changes=["desired_count"]),
            depends_on=list(props.depends_on) or None,
        )

    @property
    def name(self) -> str:
        return self.service.name
