"""Every taggable resource carries the organisation's tags.

Tags usually come from the provider's ``default_tags`` (that is how our stacks tag), so the
effective tags are the default tags of the provider the resource uses, overlaid with the
resource's own ``tags``. An unresolved value (``${...}``) counts as set.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from policies.document import DocumentCheck, Outcome, StackDoc

REQUIRED_TAGS = ("project", "environment", "owner", "cost-center")
TAGGABLE = frozenset(
    line.strip()
    for line in (Path(__file__).resolve().parents[1] / "taggable_resource_types.txt")
    .read_text(encoding="utf-8")
    .splitlines()
    if line.strip() and not line.startswith("#")
)


class RequiredTags(DocumentCheck):
    def scan_stack(self, stack: StackDoc) -> Iterator[Outcome]:
        for rtype, name, body in stack.all_resources():
            if rtype not in TAGGABLE:
                continue
            tags = stack.default_tags(body.get("provider"))
            tags.update(body.get("tags") or {})
            missing = [t for t in REQUIRED_TAGS if not tags.get(t)]
            yield self.outcome(
                stack, f"{rtype}.{name}", not missing, f"missing tags: {', '.join(missing)}"
            )


check = RequiredTags(
    id="CKV_KKH_008",
    name="Ensure every taggable resource has the project, environment, owner and cost-center tags",
)
