"""Production Redis fails over automatically to a replica in another availability zone."""

from __future__ import annotations

from collections.abc import Iterator

from policies.document import DocumentCheck, Outcome, StackDoc


class ProdRedisMultiAz(DocumentCheck):
    def scan_stack(self, stack: StackDoc) -> Iterator[Outcome]:
        for name, body in stack.resources("aws_elasticache_replication_group").items():
            replicas = body.get("num_cache_clusters") or 0
            if body.get("replicas_per_node_group") is not None:
                replicas = 1 + body["replicas_per_node_group"]
            ok = (
                body.get("automatic_failover_enabled") is True
                and body.get("multi_az_enabled") is True
                and isinstance(replicas, int)
                and replicas >= 2
            )
            yield self.outcome(
                stack,
                f"aws_elasticache_replication_group.{name}",
                ok,
                "needs automatic_failover_enabled, multi_az_enabled and >= 2 nodes",
            )


check = ProdRedisMultiAz(
    id="CKV_KKH_015",
    name="Ensure production Redis replication groups are multi-AZ with automatic failover",
    fsbp="ElastiCache.3",
    environments=("prod",),
)
