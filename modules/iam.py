"""IAM documents as data.

Policies are built from :class:`Statement` values and rendered through the provider's
``aws_iam_policy_document`` data source, never by formatting strings, so every statement is
visible (and checkable by policy scanners) in the synthesized JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from constructs import Construct


@dataclass(frozen=True, kw_only=True)
class Condition:
    """One IAM condition: ``test`` operator, context ``variable``, allowed ``values``."""

    test: str
    variable: str
    values: Sequence[str]


@dataclass(frozen=True, kw_only=True)
class Statement:
    """One policy statement.

    ``principals`` maps a principal type (``AWS``, ``Service``, ``Federated``) to identifiers;
    only key and trust policies have principals. Default effect: Allow.
    """

    sid: str
    actions: Sequence[str]
    resources: Sequence[str] = ()
    effect: str = "Allow"
    principals: Mapping[str, Sequence[str]] = field(default_factory=dict)
    conditions: Sequence[Condition] = ()


def policy_document(scope: Construct, id_: str, statements: Iterable[Statement]) -> str:
    """Render statements as an ``aws_iam_policy_document``; return its ``json`` attribute."""
    rendered = []
    for s in statements:
        if not s.actions:
            raise ValueError(f"statement {s.sid!r} has no actions")
        rendered.append(
            DataAwsIamPolicyDocumentStatement(
                sid=s.sid,
                effect=s.effect,
                actions=list(s.actions),
                resources=list(s.resources) or None,
                principals=[
                    DataAwsIamPolicyDocumentStatementPrincipals(type=kind, identifiers=list(ids))
                    for kind, ids in s.principals.items()
                ]
                or None,
                condition=[
                    DataAwsIamPolicyDocumentStatementCondition(
                        test=c.test, variable=c.variable, values=list(c.values)
                    )
                    for c in s.conditions
                ]
                or None,
            )
        )
    return DataAwsIamPolicyDocument(scope, id_, statement=rendered).json
