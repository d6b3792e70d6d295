"""An ECS cluster for Fargate services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cdktf_cdktf_provider_aws.ecs_cluster import EcsCluster, EcsClusterSetting
from constructs import Construct


@dataclass(frozen=True, kw_only=True)
class FargateClusterProps:
    """Props of :class:`FargateCluster`.

    ``name``: the cluster name (see stacks/naming.py).
    ``container_insights``: ``enhanced`` (task- and container-level metrics) or
    ``enabled``. Default: ``enhanced``.
    """

    name: str
    container_insights: Literal["enhanced", "enabled"] = "enhanced"


class FargateCluster(Construct):
    """Guarantees: Container Insights is on (never ``disabled``): the running/desired task
    count metrics the alarms and dashboard use exist."""

    def __init__(self, scope: Construct, id_: str, props: FargateClusterProps) -> None:
        super().__init__(scope, id_)
        if props.container_insights not in ("enhanced", "enabled"):
            raise ValueError(
                f"FargateCluster {id_}: container_insights={props.container_insights!r}: "
                "'enhanced' or 'enabled'"
            )
        self.cluster = EcsCluster(
            self,
            "cluster",
            name=props.name,
            setting=[EcsClusterSetting(name="containerInsights", value=props.container_insights)],
        )

    @property
    def arn(self) -> str:
        return self.cluster.arn

    @property
    def name(self) -> str:
        return self.cluster.name
