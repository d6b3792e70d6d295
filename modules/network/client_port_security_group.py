"""A security group that admits one TCP port from one client security group, nothing else."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import (
    VpcSecurityGroupIngressRule,
)
from constructs import Construct


def client_port_security_group(
    scope: Construct,
    *,
    name: str,
    description: str,
    vpc_id: str,
    port: int,
    client_security_group_id: str,
    rule_description: str,
) -> SecurityGroup:
    """Guarantees: ``port`` (TCP) admitted from ``client_security_group_id`` only; no egress.

    No inline rules: Terraform then removes AWS's default allow-all egress, and the single
    ingress rule is its own resource, so another stack can add rules to the group without
    either stack undoing the other's. ``name`` is also the ``Name`` tag.

    It adds ``security-group`` and ``ingress-from-clients`` to ``scope`` (plain children, not
    a construct of their own, so the stores' resource addresses stay as they were): call it
    once per scope.
    """
    if not 1 <= port <= 65535:
        raise ValueError(f"client_port_security_group {name}: port={port}: must be 1-65535")
    group = SecurityGroup(
        scope,
        "security-group",
        name=name,
        description=description,
        vpc_id=vpc_id,
        tags={"Name": name},
    )
    VpcSecurityGroupIngressRule(
        scope,
        "ingress-from-clients",
        security_group_id=group.id,
        referenced_security_group_id=client_security_group_id,
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        description=rule_description,
    )
    return group
