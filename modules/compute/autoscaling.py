"""Target-tracking autoscaling of an ECS service on CPU and on requests per target."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import Fn
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicy,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification,
)
from cdktf_cdktf_provider_aws.appautoscaling_target import AppautoscalingTarget
from constructs import Construct


@dataclass(frozen=True, kw_only=True)
class ServiceAutoscalingProps:
    """Props of :class:`ServiceAutoscaling`.

    ``cluster_name`` / ``service_name``: the ECS service scaled.
    ``min_capacity`` / ``max_capacity``: task count bounds.
    ``load_balancer_arn_suffix`` / ``target_group_arn_suffix``: identify the target group
    whose request count per target is tracked.
    ``cpu_target_percent``: average CPU to hold. Default: 60.
    ``requests_per_target``: ALB requests per target per minute to hold. Default: 1000.
    ``scale_in_cooldown_seconds`` / ``scale_out_cooldown_seconds``: Default: 300 / 60
    (out fast, in slowly).
    """

    cluster_name: str
    service_name: str
    min_capacity: int
    max_capacity: int
    load_balancer_arn_suffix: str
    target_group_arn_suffix: str
    cpu_target_percent: int = 60
    requests_per_target: int = 1000
    scale_in_cooldown_seconds: int = 300
    scale_out_cooldown_seconds: int = 60


class ServiceAutoscaling(Construct):
    """Guarantees: the task count stays within [min, max]; two target-tracking policies
    (CPU, ALB requests per target) — the larger desired count wins."""

    def __init__(self, scope: Construct, id_: str, props: ServiceAutoscalingProps) -> None:
        super().__init__(scope, id_)
        problems = []
        if not 1 <= props.min_capacity <= props.max_capacity:
            problems.append(
                f"min_capacity={props.min_capacity}, max_capacity={props.max_capacity}: "
                "need 1 <= min <= max"
            )
        if not 10 <= props.cpu_target_percent <= 90:
            problems.append(f"cpu_target_percent={props.cpu_target_percent}: 10-90")
        if props.requests_per_target < 1:
            problems.append(f"requests_per_target={props.requests_per_target}: >= 1")
        if problems:
            raise ValueError(f"ServiceAutoscaling {id_}: " + "; ".join(problems))
        self.target = AppautoscalingTarget(
            self,
            "target",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=Fn.join("/", ["service", props.cluster_name, props.service_name]),
            min_capacity=props.min_capacity,
            max_capacity=props.max_capacity,
        )
        self.policies = {
            "cpu": self._policy(
                "cpu",
                props,
                metric="ECSServiceAverageCPUUtilization",
                target=props.cpu_target_percent,
            ),
            "requests": self._policy(
                "requests",
                props,
                metric="ALBRequestCountPerTarget",
                target=props.requests_per_target,
                resource_label=Fn.join(
                    "/", [props.load_balancer_arn_suffix, props.target_group_arn_suffix]
                ),
            ),
        }

    def _policy(
        self,
        name: str,
        props: ServiceAutoscalingProps,
        *,
        metric: str,
        target: int,
        resource_label: str | None = None,
    ) -> AppautoscalingPolicy:
        return AppautoscalingPolicy(
            self,
            name,
            name=f"{props.service_name}-{name}",
            policy_type="TargetTrackingScaling",
            service_namespace=self.target.service_namespace,
            scalable_dimension=self.target.scalable_dimension,
            resource_id=self.target.resource_id,
            target_tracking_scaling_policy_configuration=(
                AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
                    target_value=target,
                    scale_in_cooldown=props.scale_in_cooldown_seconds,
                    scale_out_cooldown=props.scale_out_cooldown_seconds,
                    predefined_metric_specification=(
                        AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification(
                            predefined_metric_type=metric, resource_label=resource_label
                        )
                    ),
                )
            ),
        )
