"""client_port_security_group: one TCP port from one client security group, no egress."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest


def _build(make_stack: Callable[[], Any], port: int = 5432) -> dict[str, Any]:
    from cdktf import Testing

    from modules.network.client_port_security_group import client_port_security_group

    stack = make_stack()
    client_port_security_group(
        stack,
        name="t-store",
        description="t store: 5432 from the service only",
        vpc_id="vpc-1",
        port=port,
        client_security_group_id="sg-client",
        rule_description="PostgreSQL from the service tasks",
    )
    resources: dict[str, Any] = json.loads(Testing.synth(stack))["resource"]
    return resources


def test_admits_the_port_from_the_client_group_only_and_has_no_inline_rules(
    scratch_stack: Callable[[], Any],
) -> None:
    resources = _build(scratch_stack)
    ((group_id, group),) = resources["aws_security_group"].items()
    assert group["name"] == "t-store"
    assert group["tags"] == {"Name": "t-store"}
    assert group["vpc_id"] == "vpc-1"
    assert not {"ingress", "egress"} & set(group)
    (rule,) = resources["aws_vpc_security_group_ingress_rule"].values()
    assert rule["security_group_id"] == f"${{aws_security_group.{group_id}.id}}"
    assert rule["referenced_security_group_id"] == "sg-client"
    assert (rule["ip_protocol"], rule["from_port"], rule["to_port"]) == ("tcp", 5432, 5432)
    assert rule["description"] == "PostgreSQL from the service tasks"
    assert "aws_vpc_security_group_egress_rule" not in resources


def test_fails_when_the_port_is_out_of_range(scratch_stack: Callable[[], Any]) -> None:
    with pytest.raises(ValueError, match="port=0: must be 1-65535"):
        _build(scratch_stack, port=0)
