"""Two applies can never write the same state at once (S3-native lock file)."""

from __future__ import annotations

from collections.abc import Iterator

from policies.document import DocumentCheck, Outcome, StackDoc


class StateBackendLocking(DocumentCheck):
    def scan_stack(self, stack: StackDoc) -> Iterator[Outcome]:
        for kind, config in stack.doc.get("terraform", {}).get("backend", {}).items():
            ok = kind == "s3" and (
                config.get("use_lockfile") is True or bool(config.get("dynamodb_table"))
            )
            yield self.outcome(stack, f"terraform.backend.{kind}", ok, "state locking is off")


check = StateBackendLocking(
    id="CKV_KKH_022", name="Ensure the Terraform state backend locks the state"
)
