"""Terraform state (which holds every secret Terraform ever read) is encrypted at rest."""

from __future__ import annotations

from collections.abc import Iterator

from policies.document import DocumentCheck, Outcome, StackDoc


class StateBackendEncrypted(DocumentCheck):
    def scan_stack(self, stack: StackDoc) -> Iterator[Outcome]:
        for kind, config in stack.doc.get("terraform", {}).get("backend", {}).items():
            ok = kind != "s3" or config.get("encrypt") is True
            yield self.outcome(
                stack, f"terraform.backend.{kind}", ok and kind != "local", "state not encrypted"
            )


check = StateBackendEncrypted(
    id="CKV_KKH_021", name="Ensure the Terraform state backend encrypts the state"
)
