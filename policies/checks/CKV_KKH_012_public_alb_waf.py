"""An internet-facing application load balancer is protected by a WAF web ACL."""

from __future__ import annotations

from collections.abc import Iterator

from policies.document import DocumentCheck, Outcome, StackDoc


class PublicAlbWaf(DocumentCheck):
    def scan_stack(self, stack: StackDoc) -> Iterator[Outcome]:
        for rtype in ("aws_lb", "aws_alb"):
            for name, body in stack.resources(rtype).items():
                if (
                    body.get("internal") is True
                    or body.get("load_balancer_type", "application") != "application"
                ):
                    continue
                address = f"{rtype}.{name}"
                associations = stack.referencing("aws_wafv2_web_acl_association", address)
                yield self.outcome(
                    stack, address, bool(associations), "no aws_wafv2_web_acl_association"
                )


check = PublicAlbWaf(
    id="CKV_KKH_012",
    name="Ensure every internet-facing application load balancer has a WAF web ACL associated",
    fsbp=None,  # ELB.16 (NIST SP 800-53 standard; not part of FSBP)
)
