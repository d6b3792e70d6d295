"""modules/iam.py: the service-role helper's trust policy on the synthesized JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

ACCOUNT = "111122223333"


def _synth_role(
    make_stack: Callable[[], Any], **kwargs: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    from cdktf import Testing

    from modules.iam import service_role

    stack = make_stack()
    service_role(stack, "role", name="r", service="backup.amazonaws.com", sid="Svc", **kwargs)
    doc = json.loads(Testing.synth(stack))
    (role,) = doc["resource"]["aws_iam_role"].values()
    (trust,) = doc["data"]["aws_iam_policy_document"].values()
    return role, trust


def test_service_role_trusts_only_the_service_for_this_account_and_source(
    scratch_stack: Callable[[], Any],
) -> None:
    role, trust = _synth_role(
        scratch_stack, account_id=ACCOUNT, source_arn="arn:aws:backup:*", description="d"
    )
    assert role["name"] == "r"
    assert role["description"] == "d"
    assert role["assume_role_policy"].endswith("role-trust.json}")
    assert trust["statement"] == [
        {
            "sid": "Svc",
            "effect": "Allow",
            "actions": ["sts:AssumeRole"],
            "principals": [{"type": "Service", "identifiers": ["backup.amazonaws.com"]}],
            "condition": [
                {"test": "StringEquals", "variable": "aws:SourceAccount", "values": [ACCOUNT]},
                {"test": "ArnLike", "variable": "aws:SourceArn", "values": ["arn:aws:backup:*"]},
            ],
        }
    ]


def test_service_role_has_no_condition_when_account_id_is_none(
    scratch_stack: Callable[[], Any],
) -> None:
    _, trust = _synth_role(scratch_stack, account_id=None)
    (statement,) = trust["statement"]
    assert "condition" not in statement


def test_service_role_fails_when_source_arn_is_given_without_account_id(
    scratch_stack: Callable[[], Any],
) -> None:
    with pytest.raises(ValueError, match="source_arn needs account_id"):
        _synth_role(scratch_stack, account_id=None, source_arn="arn:aws:backup:*")
