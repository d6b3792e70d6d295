"""Production Aurora clusters cannot be deleted by a stray apply."""

from __future__ import annotations

from collections.abc import Iterator

from policies.document import DocumentCheck, Outcome, StackDoc


class ProdAuroraDeletionProtection(DocumentCheck):
    def scan_stack(self, stack: StackDoc) -> Iterator[Outcome]:
        for name, body in stack.resources("aws_rds_cluster").items():
            ok = body.get("deletion_protection") is True
            yield self.outcome(
                stack, f"aws_rds_cluster.{name}", ok, "deletion_protection is not true"
            )


check = ProdAuroraDeletionProtection(
    id="CKV_KKH_013",
    name="Ensure production Aurora clusters have deletion protection",
    fsbp="RDS.7",
    environments=("prod",),
)
