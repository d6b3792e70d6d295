"""IAM policies name their resources wherever the action supports resource-level
permissions. ``Resource: "*"`` stays for actions that only accept ``*`` (e.g.
``ecr:GetAuthorizationToken``, per the IAM reference bundled with policy_sentry) and in key
policies, where ``*`` means "this key"."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from functools import cache

from policies.document import DocumentCheck, Outcome, StackDoc
from policies.iam_usage import policies_in


@cache
def _service_actions(service: str) -> tuple[frozenset[str], frozenset[str]]:
    """(all actions, actions that only support ``*``) of a service, lower-cased."""
    from policy_sentry.querying.actions import (
        get_actions_for_service,
        get_actions_that_support_wildcard_arns_only,
    )

    every = frozenset(a.lower() for a in get_actions_for_service(service))
    star_only = frozenset(a.lower() for a in get_actions_that_support_wildcard_arns_only(service))
    return every, star_only


def needs_star(action: str) -> bool:
    """True when every action the pattern matches only supports ``Resource: "*"``."""
    if ":" not in action:
        return False
    service = action.split(":", 1)[0].lower()
    every, star_only = _service_actions(service)
    matched = fnmatch.filter(every, action.lower())
    return bool(matched) and all(a in star_only for a in matched)


class IamNoWildcardResource(DocumentCheck):
    def scan_stack(self, stack: StackDoc) -> Iterator[Outcome]:
        for address, kind, statements in policies_in(stack):
            if kind == "key":
                continue
            bad = [
                f"{s['Sid'] or '?'}: {action}"
                for s in statements
                if s["Effect"] == "Allow" and "*" in s["Resource"]
                for action in s["Action"]
                if not needs_star(action)
            ]
            yield self.outcome(stack, address, not bad, "Resource '*' for " + "; ".join(bad))


check = IamNoWildcardResource(
    id="CKV_KKH_020",
    name=(
        "Ensure IAM policies do not use Resource '*' for actions that support"
        " resource-level permissions"
    ),
    fsbp="IAM.1",
)
