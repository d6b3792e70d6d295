"""IAM documents as data, and the one shape of a role an AWS service assumes.

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
from cdktf_cdktf_provider_aws.iam_role import IamRole
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


def source_conditions(account_id: str, source_arn: str | None = None) -> list[Condition]:
    """Confused-deputy guard for a service principal acting for this account.

    ``aws:SourceAccount`` equals ``account_id``; with ``source_arn`` also ``aws:SourceArn``
    matches it (``ArnLike``, so it may end in ``*``). Default: the account condition only.
    """
    conditions = [Condition(test="StringEquals", variable="aws:SourceAccount", values=[account_id])]
    if source_arn is not None:
        conditions.append(Condition(test="ArnLike", variable="aws:SourceArn", values=[source_arn]))
    return conditions


def service_role(
    scope: Construct,
    id_: str,
    *,
    name: str,
    service: str,
    sid: str,
    account_id: str | None,
    source_arn: str | None = None,
    description: str | None = None,
    max_session_duration_seconds: int | None = None,
) -> IamRole:
    """An IAM role only the AWS service principal ``service`` (``ecs-tasks.amazonaws.com``) may
    assume, through the trust statement ``sid``.

    ``account_id``: the trust requires ``aws:SourceAccount`` = this account; ``None`` only for
    a service that does not send it (no condition then). ``source_arn``: also requires
    ``aws:SourceArn`` to match (``ArnLike``). Default: no source ARN condition.
    ``description``: Default: none. ``max_session_duration_seconds``: Default: IAM's (3600).
    The trust document is the data source ``<id_>-trust`` beside the role.
    """
    if account_id is None and source_arn is not None:
        raise ValueError(f"service_role {id_}: source_arn needs account_id")
    trust = Statement(
        sid=sid,
        actions=["sts:AssumeRole"],
        principals={"Service": [service]},
        conditions=source_conditions(account_id, source_arn) if account_id is not None else (),
    )
    return IamRole(
        scope,
        id_,
        name=name,
        description=description,
        assume_role_policy=policy_document(scope, f"{id_}-trust", [trust]),
        max_session_duration=max_session_duration_seconds,
    )
