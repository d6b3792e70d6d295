"""No security group admits the internet, except a public load balancer on 80/443.

Covers inline ``ingress`` blocks of ``aws_security_group``, ``aws_security_group_rule`` (type
ingress) and ``aws_vpc_security_group_ingress_rule``. The exception applies to a group
attached to an internet-facing ``aws_lb``, and only for TCP ports 80 and 443.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from policies.document import DocumentCheck, Outcome, StackDoc, as_list, references

WORLD = {"0.0.0.0/0", "::/0"}
PUBLIC_PORTS = {80, 443}


def _public_alb_groups(stack: StackDoc) -> set[str]:
    groups: set[str] = set()
    albs = [*stack.resources("aws_lb").values(), *stack.resources("aws_alb").values()]
    for body in albs:
        if body.get("internal") is not True:
            groups |= {
                r
                for r in references(body.get("security_groups"))
                if r.startswith("aws_security_group.")
            }
    return groups


def _allowed(rule: dict[str, Any], group: str | None, public: set[str]) -> bool:
    if group not in public:
        return False
    ports = (rule.get("from_port"), rule.get("to_port"))
    return (
        rule.get("ip_protocol", rule.get("protocol")) in ("tcp", "6")
        and ports[0] == ports[1]
        and ports[0] in PUBLIC_PORTS
    )


def _group_of(body: dict[str, Any]) -> str | None:
    refs = [
        r for r in references(body.get("security_group_id")) if r.startswith("aws_security_group.")
    ]
    return refs[0] if len(refs) == 1 else None


class SecurityGroupNoWorldIngress(DocumentCheck):
    def scan_stack(self, stack: StackDoc) -> Iterator[Outcome]:
        public = _public_alb_groups(stack)
        for name, body in stack.resources("aws_security_group").items():
            address = f"aws_security_group.{name}"
            bad = [
                r
                for r in as_list(body.get("ingress"))
                if WORLD & set(as_list(r.get("cidr_blocks")) + as_list(r.get("ipv6_cidr_blocks")))
                and not _allowed(r, address, public)
            ]
            yield self.outcome(stack, address, not bad, "ingress from 0.0.0.0/0 or ::/0")
        for name, body in stack.resources("aws_security_group_rule").items():
            if body.get("type") != "ingress":
                continue
            world = WORLD & set(
                as_list(body.get("cidr_blocks")) + as_list(body.get("ipv6_cidr_blocks"))
            )
            ok = not world or _allowed(body, _group_of(body), public)
            yield self.outcome(
                stack, f"aws_security_group_rule.{name}", ok, "ingress from the internet"
            )
        for name, body in stack.resources("aws_vpc_security_group_ingress_rule").items():
            world = WORLD & {body.get("cidr_ipv4"), body.get("cidr_ipv6")}
            ok = not world or _allowed(body, _group_of(body), public)
            yield self.outcome(
                stack,
                f"aws_vpc_security_group_ingress_rule.{name}",
                ok,
                "ingress from the internet",
            )


check = SecurityGroupNoWorldIngress(
    id="CKV_KKH_011",
    name=(
        "Ensure no security group allows ingress from 0.0.0.0/0 or ::/0"
        " (a public load balancer on 80/443 excepted)"
    ),
    fsbp="EC2.18",
)
