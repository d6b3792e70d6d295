"""The external carrier's tracking API, called defensively.

One shared `httpx.AsyncClient` per process with explicit connect/read/write/pool timeouts;
every lookup is bounded by a total deadline (retries and back-off included) so a request
never hangs on the carrier. Only idempotent calls are retried, only on 429, 5xx and
transport errors, with exponential back-off and full jitter, honouring `Retry-After`.
A circuit breaker stops calling a carrier that keeps failing and probes it again after a
cool-down.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

from app.core.secrets import RefreshableSecret, SecretUnavailableError

logger = logging.getLogger("app.carrier")

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class CarrierUnavailableError(Exception):
    """The carrier could not answer in time (down, failing, or the breaker is open)."""

    def __init__(self, reason: str, *, retry_after_seconds: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_seconds = retry_after_seconds


class ShipmentNotFoundError(Exception):
    """The carrier has no shipment for this reference."""


BreakerState = Literal["closed", "open", "half-open"]


class CircuitBreaker:
    """Opens after `failure_threshold` consecutive failures; after `reset_seconds` one
    probe is let through (half-open): success closes it, failure opens it again."""

    def __init__(
        self,
        *,
        failure_threshold: int,
        reset_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._threshold = failure_threshold
        self._reset = reset_seconds
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probe_in_flight = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self._reset:
            return "half-open"
        return "open"

    def retry_after(self) -> float:
        if self._opened_at is None:
            return 0.0
        return max(0.0, self._reset - (self._clock() - self._opened_at))

    def allow(self) -> bool:
        state = self.state
        if state == "closed":
            return True
        if state == "half-open" and not self._probe_in_flight:
            self._probe_in_flight = True
            return True
        return False

    def release_probe(self) -> None:
        self._probe_in_flight = False

    def record_success(self) -> None:
        if self._opened_at is not None:
            logger.info("carrier circuit closed")
        self._failures = 0
        self._opened_at = None
        self._probe_in_flight = False

    def record_failure(self) -> None:
        self._failures += 1
        self._probe_in_flight = False
        if self._opened_at is not None or self._failures >= self._threshold:
            if self.state != "open":
                logger.warning("carrier circuit opened", extra={"failures": self._failures})
            self._opened_at = self._clock()


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int
    backoff_base_seconds: float
    backoff_max_seconds: float

    def backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max, base * 2**attempt)]."""
        ceiling = min(self.backoff_max_seconds, self.backoff_base_seconds * (2**attempt))
        return random.uniform(0, ceiling)  # noqa: S311 - jitter, not cryptography


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """`Retry-After` as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else time.time()
    return max(0.0, when.timestamp() - current)


class CarrierClient:
    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        api_key: RefreshableSecret,
        retry: RetryPolicy,
        breaker: CircuitBreaker,
        total_timeout_seconds: float,
        name: str = "mock-carrier",
    ) -> None:
        self._http = http
        self._api_key = api_key
        self._retry = retry
        self.breaker = breaker
        self._total_timeout = total_timeout_seconds
        self.name = name

    async def get_tracking(self, reference: str) -> dict[str, Any]:
        """Tracking data for a shipper reference; raises on unavailability or 404."""
        if not self.breaker.allow():
            raise CarrierUnavailableError(
                "circuit open", retry_after_seconds=self.breaker.retry_after()
            )
        try:
            async with asyncio.timeout(self._total_timeout):
                response = await self.request("GET", f"/v1/shipments/{reference}")
        except TimeoutError as exc:
            self.breaker.record_failure()
            raise CarrierUnavailableError("deadline exceeded") from exc
        except CarrierUnavailableError:
            self.breaker.record_failure()
            raise
        except BaseException:
            # Cancelled (client went away) or a bug: not the carrier's fault, but a
            # half-open probe must not stay claimed forever.
            self.breaker.release_probe()
            raise
        self.breaker.record_success()
        if response.status_code == 404:
            raise ShipmentNotFoundError(reference)
        if response.status_code != 200:
            # A 4xx other than 404 is our bug or a contract change, not carrier downtime.
            logger.error("carrier rejected the request", extra={"status": response.status_code})
            raise CarrierUnavailableError(f"carrier answered {response.status_code}")
        data: dict[str, Any] = response.json()
        return data

    async def request(self, method: str, path: str) -> httpx.Response:
        """One carrier call under the retry policy (retried only if `method` is idempotent)."""
        retryable = method in IDEMPOTENT_METHODS
        deadline = time.monotonic() + self._total_timeout
        auth_refreshed = False
        attempt = 0
        while True:
            try:
                key = await self._api_key.get()
            except SecretUnavailableError as exc:
                raise CarrierUnavailableError("no carrier API key available") from exc
            failure: str
            retry_after: float | None = None
            try:
                response = await self._http.request(method, path, headers={"X-Api-Key": key})
            except httpx.TransportError as exc:
                failure = type(exc).__name__
            else:
                if response.status_code == 401 and not auth_refreshed and self._api_key.refreshable:
                    # The key was rotated under us: re-read it once and try again.
                    auth_refreshed = True
                    await self._api_key.refresh()
                    continue
                if response.status_code not in RETRYABLE_STATUSES:
                    return response
                failure = f"status {response.status_code}"
                retry_after = parse_retry_after(response.headers.get("retry-after"))
            if not retryable or attempt >= self._retry.max_retries:
                raise CarrierUnavailableError(failure, retry_after_seconds=retry_after)
            delay = retry_after if retry_after is not None else self._retry.backoff(attempt)
            if time.monotonic() + delay >= deadline:
                # Waiting as asked would overrun the deadline: fail now, not later.
                raise CarrierUnavailableError(failure, retry_after_seconds=retry_after)
            logger.info(
                "retrying carrier call",
                extra={"attempt": attempt + 1, "failure": failure, "delay_s": round(delay, 3)},
            )
            await asyncio.sleep(delay)
            attempt += 1


def build_http_client(
    *,
    base_url: str,
    connect_timeout: float,
    read_timeout: float,
    max_connections: int,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(
            connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout
        ),
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        ),
        transport=transport,
        headers={"User-Agent": "kakehashi-api"},
        follow_redirects=False,
    )


def shipment_document(
    *, order_id: str, carrier: str, tracking: dict[str, Any], fetched_at: datetime, stale: bool
) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "carrier": carrier,
        "tracking_number": tracking["tracking_number"],
        "status": tracking["status"],
        "estimated_delivery": tracking.get("estimated_delivery"),
        "events": [
            {
                "time": event["time"],
                "location": event.get("location"),
                "description": event["description"],
            }
            for event in tracking.get("events", [])
        ],
        "fetched_at": fetched_at.isoformat(),
        "stale": stale,
    }
