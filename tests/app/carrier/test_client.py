"""The carrier client against the mock carrier running as a real HTTP server."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import boto3
import httpx
import pytest
from moto import mock_aws

from app.carrier.client import (
    CarrierClient,
    CarrierUnavailableError,
    CircuitBreaker,
    RetryPolicy,
    ShipmentNotFoundError,
    build_http_client,
    parse_retry_after,
)
from app.carrier.mock import DEFAULT_API_KEY
from app.core.secrets import RefreshableSecret
from tests.app.conftest import free_port


@pytest.fixture(scope="module")
def carrier_url() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "app.carrier.mock:create_mock_carrier",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--timeout-graceful-shutdown",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(f"{url}/_mock/mode", timeout=0.2)
            break
        except httpx.TransportError:
            time.sleep(0.05)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def mode(url: str, **change: Any) -> None:
    httpx.put(f"{url}/_mock/mode", json={"mode": "ok", **change}).raise_for_status()


def counters(url: str) -> dict[str, Any]:
    state: dict[str, Any] = httpx.get(f"{url}/_mock/mode").json()
    return state


def client(
    url: str, *, key: RefreshableSecret | None = None, retries: int = 2, total: float = 3.0
) -> CarrierClient:
    return CarrierClient(
        http=build_http_client(
            base_url=url, connect_timeout=0.3, read_timeout=0.3, max_connections=10
        ),
        api_key=key or RefreshableSecret(name="carrier", initial=DEFAULT_API_KEY),
        retry=RetryPolicy(max_retries=retries, backoff_base_seconds=0.01, backoff_max_seconds=0.05),
        breaker=CircuitBreaker(failure_threshold=5, reset_seconds=30),
        total_timeout_seconds=total,
    )


async def test_get_tracking_returns_carrier_document(carrier_url: str) -> None:
    mode(carrier_url)

    tracking = await client(carrier_url).get_tracking("order-1")

    assert tracking["reference"] == "order-1"
    assert tracking["status"] == "in_transit"


async def test_get_tracking_raises_not_found_without_retrying(carrier_url: str) -> None:
    mode(carrier_url)

    with pytest.raises(ShipmentNotFoundError):
        await client(carrier_url).get_tracking("unknown-1")

    assert counters(carrier_url)["requests"] == 1


async def test_get_tracking_retries_read_timeouts_then_gives_up(carrier_url: str) -> None:
    mode(carrier_url, mode="timeout")
    started = time.monotonic()

    with pytest.raises(CarrierUnavailableError, match="ReadTimeout"):
        await client(carrier_url, retries=2).get_tracking("order-2")

    elapsed = time.monotonic() - started
    assert counters(carrier_url)["requests"] == 3
    assert 0.9 <= elapsed < 2.0  # three 0.3 s read timeouts plus short back-offs


async def test_get_tracking_stops_at_total_deadline(carrier_url: str) -> None:
    mode(carrier_url, mode="timeout")
    started = time.monotonic()

    with pytest.raises(CarrierUnavailableError, match="deadline"):
        await client(carrier_url, retries=10, total=0.5).get_tracking("order-3")

    assert time.monotonic() - started < 0.7


async def test_get_tracking_retries_connection_errors() -> None:
    closed = f"http://127.0.0.1:{free_port()}"

    with pytest.raises(CarrierUnavailableError, match="ConnectError"):
        await client(closed, retries=2).get_tracking("order-4")


async def test_get_tracking_gives_up_when_retry_after_exceeds_deadline(carrier_url: str) -> None:
    mode(carrier_url, mode="rate_limit", retry_after=30)
    started = time.monotonic()

    with pytest.raises(CarrierUnavailableError) as caught:
        await client(carrier_url, total=2.0).get_tracking("order-5")

    assert caught.value.retry_after_seconds == 30
    assert counters(carrier_url)["requests"] == 1
    assert time.monotonic() - started < 0.5


async def test_non_idempotent_call_is_not_retried(carrier_url: str) -> None:
    mode(carrier_url, mode="error", status=503)

    with pytest.raises(CarrierUnavailableError, match="503"):
        await client(carrier_url, retries=3).request("POST", "/v1/pickups")

    assert counters(carrier_url)["requests"] == 1


async def test_rotated_api_key_is_refetched_once_when_rejected(
    carrier_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    mode(carrier_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        sm = boto3.client("secretsmanager", region_name="ap-northeast-1")
        arn = sm.create_secret(Name="carrier-key", SecretString=DEFAULT_API_KEY)["ARN"]
        key = RefreshableSecret(
            name="carrier",
            initial="stale-key-before-rotation",
            arn=arn,
            ttl_seconds=3600,
            client_factory=lambda: boto3.client("secretsmanager", region_name="ap-northeast-1"),
        )

        tracking = await client(carrier_url, key=key).get_tracking("order-6")

    assert tracking["reference"] == "order-6"
    assert key.peek() == DEFAULT_API_KEY
    assert counters(carrier_url)["requests"] == 2


def test_parse_retry_after_accepts_seconds_and_http_dates() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)

    assert parse_retry_after("7") == 7.0
    assert (
        parse_retry_after(
            format_datetime(now + timedelta(seconds=90), usegmt=True), now=now.timestamp()
        )
        == 90.0
    )
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_breaker_allows_one_probe_when_half_open() -> None:
    clock = [0.0]
    breaker = CircuitBreaker(failure_threshold=2, reset_seconds=10, clock=lambda: clock[0])
    breaker.record_failure()
    assert breaker.state == "closed"
    breaker.record_failure()
    assert (breaker.state, breaker.allow()) == ("open", False)

    clock[0] = 10.0

    assert breaker.state == "half-open"
    assert breaker.allow() is True
    assert breaker.allow() is False  # one probe at a time
    breaker.record_failure()
    assert breaker.state == "open"
