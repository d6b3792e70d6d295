"""Where a stack's IAM policy documents are used, and their statements.

A document's meaning depends on where it is attached: ``Resource: "*"`` in a KMS key policy
means "this key", in an identity policy it means "everything". This module finds every
policy attachment in a stack and classifies it.
"""

from __future__ import annotations

from collections.abc import Iterator

from policies.document import JSON, StackDoc, as_list, is_reference, references

#: resource type -> (attribute holding the policy, kind of policy)
POLICY_ATTRIBUTES: dict[str, tuple[str, str]] = {
    "aws_iam_policy": ("policy", "identity"),
    "aws_iam_role_policy": ("policy", "identity"),
    "aws_iam_user_policy": ("policy", "identity"),
    "aws_iam_group_policy": ("policy", "identity"),
    "aws_iam_role": ("assume_role_policy", "trust"),
    "aws_kms_key": ("policy", "key"),
    "aws_s3_bucket_policy": ("policy", "resource"),
    "aws_ecr_repository_policy": ("policy", "resource"),
    "aws_secretsmanager_secret_policy": ("policy", "resource"),
    "aws_sns_topic_policy": ("policy", "resource"),
    "aws_sqs_queue_policy": ("policy", "resource"),
    "aws_cloudwatch_log_resource_policy": ("policy_document", "resource"),
}


def policies_in(stack: StackDoc) -> Iterator[tuple[str, str, list[JSON]]]:
    """(address, kind, statements) of every policy document in the stack.

    A policy document data source is reported under its own address, with the kind of the
    place it is attached to (``identity`` when unused: the strictest reading); a literal
    JSON policy under the address of the resource holding it.
    """
    kinds: dict[str, str] = {}
    for rtype, (attribute, kind) in POLICY_ATTRIBUTES.items():
        for name, body in stack.resources(rtype).items():
            values = [(body.get(attribute), kind)]
            if rtype == "aws_iam_role":
                values += [
                    (p.get("policy"), "identity") for p in as_list(body.get("inline_policy"))
                ]
            for value, kind in values:
                if value is None:
                    continue
                if is_reference(value):
                    for ref in references(value):
                        # A document used as both key and identity policy is identity.
                        if ref.startswith("data.aws_iam_policy_document.") and (
                            kinds.get(ref) != "identity"
                        ):
                            kinds[ref] = kind
                else:
                    statements = stack.resolve_policy(value)
                    if statements is not None and kind != "trust":
                        yield f"{rtype}.{name}", kind, statements
    for name in stack.data("aws_iam_policy_document"):
        address = f"data.aws_iam_policy_document.{name}"
        kind = kinds.get(address, "identity")
        if kind == "trust":
            continue
        statements = stack.resolve_policy(f"${{{address}.json}}") or []
        yield address, kind, statements
