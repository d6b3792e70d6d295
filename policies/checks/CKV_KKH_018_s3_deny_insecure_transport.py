"""S3 buckets refuse requests not made over TLS (a bucket policy denies
``aws:SecureTransport = false`` to every principal)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from policies.document import DocumentCheck, Outcome, StackDoc, as_list


def denies_insecure_transport(statement: dict[str, Any]) -> bool:
    principal = statement.get("Principal")
    everyone = principal == "*" or (
        isinstance(principal, dict) and "*" in as_list(principal.get("AWS"))
    )
    actions = set(statement.get("Action", []))
    condition = statement.get("Condition", {}).get("Bool", {})
    insecure = [str(v).lower() for v in as_list(condition.get("aws:SecureTransport"))]
    return (
        statement.get("Effect") == "Deny"
        and everyone
        and bool(actions & {"s3:*", "*"})
        and insecure == ["false"]
    )


class S3DenyInsecureTransport(DocumentCheck):
    def scan_stack(self, stack: StackDoc) -> Iterator[Outcome]:
        for name in stack.resources("aws_s3_bucket"):
            address = f"aws_s3_bucket.{name}"
            ok = False
            for policy in stack.referencing("aws_s3_bucket_policy", address).values():
                statements = stack.resolve_policy(policy.get("policy")) or []
                ok = ok or any(denies_insecure_transport(s) for s in statements)
            yield self.outcome(
                stack, address, ok, "no bucket policy statement denies non-TLS requests"
            )


check = S3DenyInsecureTransport(
    id="CKV_KKH_018", name="Ensure S3 buckets deny requests that do not use TLS", fsbp="S3.5"
)
