"""Secrets re-read from Secrets Manager (moto) on a TTL and on rejection."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from app.core.secrets import RefreshableSecret

REGION = "ap-northeast-1"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def secretsmanager(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("secretsmanager", region_name=REGION)


async def test_secret_uses_injected_value_without_calling_aws_until_ttl(
    secretsmanager: Any,
) -> None:
    arn = secretsmanager.create_secret(Name="carrier", SecretString="rotated")["ARN"]
    clock = Clock()
    secret = RefreshableSecret(
        name="carrier",
        initial="injected",
        arn=arn,
        ttl_seconds=60,
        client_factory=lambda: boto3.client("secretsmanager", region_name=REGION),
        clock=clock,
    )

    assert await secret.get() == "injected"
    clock.now += 61
    assert await secret.get() == "rotated"


async def test_secret_picks_up_rotation_after_ttl(secretsmanager: Any) -> None:
    arn = secretsmanager.create_secret(
        Name="rds", SecretString=json.dumps({"username": "app", "password": "one"})
    )["ARN"]
    clock = Clock()
    secret = RefreshableSecret(
        name="db",
        initial=None,
        arn=arn,
        json_key="password",
        ttl_seconds=300,
        client_factory=lambda: boto3.client("secretsmanager", region_name=REGION),
        clock=clock,
    )
    assert await secret.get() == "one"

    secretsmanager.put_secret_value(
        SecretId=arn, SecretString=json.dumps({"username": "app", "password": "two"})
    )
    clock.now += 10
    before_ttl = await secret.get()
    clock.now += 300

    assert before_ttl == "one"
    assert await secret.get() == "two"


async def test_secret_refreshes_immediately_when_value_rejected(secretsmanager: Any) -> None:
    arn = secretsmanager.create_secret(Name="token", SecretString="old")["ARN"]
    secret = RefreshableSecret(
        name="token",
        initial="old",
        arn=arn,
        ttl_seconds=3600,
        client_factory=lambda: boto3.client("secretsmanager", region_name=REGION),
    )
    secretsmanager.put_secret_value(SecretId=arn, SecretString="new")

    assert await secret.get() == "old"
    assert await secret.refresh() == "new"
    assert await secret.get() == "new"


async def test_secret_keeps_last_value_when_refresh_fails(secretsmanager: Any) -> None:
    clock = Clock()
    secret = RefreshableSecret(
        name="token",
        initial="last-good",
        arn=f"arn:aws:secretsmanager:{REGION}:123456789012:secret:missing-AbCdEf",
        ttl_seconds=1,
        client_factory=lambda: boto3.client("secretsmanager", region_name=REGION),
        clock=clock,
    )
    clock.now += 5

    assert await secret.get() == "last-good"
    assert await secret.refresh() == "last-good"


async def test_secret_without_arn_never_calls_aws() -> None:
    def forbidden() -> Any:
        raise AssertionError("no AWS call expected")

    secret = RefreshableSecret(name="x", initial="v", arn=None, client_factory=forbidden)

    assert secret.refreshable is False
    assert await secret.refresh() == "v"
