"""IAM policies name their actions: no ``*`` action, and no ``<service>:*`` in identity
policies. A key policy's ``kms:*`` for the account root is exempt: it delegates the key's
administration to IAM (without it the key becomes unmanageable)."""

from __future__ import annotations

from collections.abc import Iterator

from policies.document import DocumentCheck, Outcome, StackDoc
from policies.iam_usage import policies_in


class IamNoWildcardAction(DocumentCheck):
    def scan_stack(self, stack: StackDoc) -> Iterator[Outcome]:
        for address, kind, statements in policies_in(stack):
            bad = []
            for s in statements:
                if s["Effect"] != "Allow":
                    continue
                if s["NotAction"]:
                    bad.append(f"{s['Sid'] or '?'}: NotAction")
                for action in s["Action"]:
                    if action == "*" or (action.endswith(":*") and kind != "key"):
                        bad.append(f"{s['Sid'] or '?'}: {action}")
            yield self.outcome(stack, address, not bad, "; ".join(bad))


check = IamNoWildcardAction(
    id="CKV_KKH_019",
    name="Ensure IAM policies do not allow wildcard ('*' or 'service:*') actions",
    fsbp="IAM.21",
)
