"""ECR repositories expire old images (a lifecycle policy references the repository)."""

from __future__ import annotations

from collections.abc import Iterator

from policies.document import DocumentCheck, Outcome, StackDoc


class EcrLifecyclePolicy(DocumentCheck):
    def scan_stack(self, stack: StackDoc) -> Iterator[Outcome]:
        for name in stack.resources("aws_ecr_repository"):
            address = f"aws_ecr_repository.{name}"
            policies = stack.referencing("aws_ecr_lifecycle_policy", address)
            yield self.outcome(stack, address, bool(policies), "no aws_ecr_lifecycle_policy")


check = EcrLifecyclePolicy(
    id="CKV_KKH_005", name="Ensure ECR repositories have a lifecycle policy", fsbp="ECR.3"
)
