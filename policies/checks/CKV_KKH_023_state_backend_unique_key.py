"""No two stacks share a state file (they would overwrite each other's state)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence

from policies.document import DocumentCheck, Outcome, StackDoc


class StateBackendUniqueKey(DocumentCheck):
    def scan(self, stacks: Sequence[StackDoc]) -> Iterator[Outcome]:
        owners: dict[tuple[str, str], list[str]] = defaultdict(list)
        for stack in stacks:
            for kind, config in stack.doc.get("terraform", {}).get("backend", {}).items():
                owners[(str(config.get("bucket", kind)), str(config.get("key", "")))].append(
                    stack.name
                )
        for stack in stacks:
            for kind, config in stack.doc.get("terraform", {}).get("backend", {}).items():
                key = (str(config.get("bucket", kind)), str(config.get("key", "")))
                others = [s for s in owners[key] if s != stack.name]
                yield self.outcome(
                    stack,
                    f"terraform.backend.{kind}",
                    bool(key[1]) and not others,
                    f"state key {key[1]!r} also used by {', '.join(others)}",
                )


check = StateBackendUniqueKey(
    id="CKV_KKH_023", name="Ensure every stack has its own Terraform state key"
)
