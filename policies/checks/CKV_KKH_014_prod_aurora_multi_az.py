"""Production Aurora survives the loss of an availability zone: at least two instances
(writer + reader, Aurora promotes the reader) in the cluster."""

from __future__ import annotations

from collections.abc import Iterator

from policies.document import DocumentCheck, Outcome, StackDoc, is_reference


class ProdAuroraMultiAz(DocumentCheck):
    def scan_stack(self, stack: StackDoc) -> Iterator[Outcome]:
        for name in stack.resources("aws_rds_cluster"):
            address = f"aws_rds_cluster.{name}"
            instances = 0
            for body in stack.referencing("aws_rds_cluster_instance", address).values():
                count = body.get("count", 1)
                instances += 2 if is_reference(count) else int(count)
            yield self.outcome(stack, address, instances >= 2, f"{instances} instance(s)")


check = ProdAuroraMultiAz(
    id="CKV_KKH_014",
    name="Ensure production Aurora clusters have instances in more than one availability zone",
    fsbp="RDS.15",
    environments=("prod",),
)
