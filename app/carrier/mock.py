"""A local stand-in for the external carrier's tracking API, with switchable failure modes.

Runs in-process (tests mount it behind an httpx ASGI transport) or as a real server
(`make run`, integration tests): `uvicorn --factory app.carrier.mock:create_mock_carrier`.

    GET  /v1/shipments/{reference}   tracking for a shipper reference (X-Api-Key required)
    POST /v1/pickups                 book a pickup (not idempotent)
    GET  /_mock/mode                 the current mode and request counters
    PUT  /_mock/mode                 switch: {"mode": "ok" | "latency" | "error" | "timeout"
                                      | "rate_limit", "latency_seconds": 0.5, "status": 503,
                                      "failures": 2, "retry_after": 1}
                                     `failures` limits a failure mode to the next N requests;
                                     switching resets the counters.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

DEFAULT_API_KEY = "mock-carrier-key"
MODES = ("ok", "latency", "error", "timeout", "rate_limit")


@dataclass
class MockState:
    mode: str = "ok"
    latency_seconds: float = 0.0
    status: int = 503
    failures: int | None = None
    retry_after: int | None = None
    requests: int = 0
    failed: int = 0


def tracking_document(reference: str) -> dict[str, Any]:
    """Deterministic tracking data for a reference (stable across calls and processes)."""
    digest = hashlib.sha256(reference.encode()).hexdigest()
    shipped = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=int(digest[:6], 16) % 500_000)
    return {
        "reference": reference,
        "tracking_number": f"MC{int(digest[:10], 16) % 10**9:09d}JP",
        "status": "in_transit",
        "estimated_delivery": (shipped + timedelta(days=2)).isoformat(),
        "events": [
            {"time": shipped.isoformat(), "location": "Tokyo DC", "description": "Picked up"},
            {
                "time": (shipped + timedelta(hours=9)).isoformat(),
                "location": "Osaka hub",
                "description": "Arrived at sorting facility",
            },
        ],
    }


def create_mock_carrier(*, api_key: str | None = None, mode: str | None = None) -> Starlette:
    key = api_key or os.environ.get("MOCK_CARRIER_API_KEY", DEFAULT_API_KEY)
    state = MockState(mode=mode or os.environ.get("MOCK_CARRIER_MODE", "ok"))

    async def shipment(request: Request) -> Response:
        state.requests += 1
        if request.headers.get("x-api-key") != key:
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        failure = await fail_if_asked()
        if failure is not None:
            return failure
        reference = request.path_params["reference"]
        if reference.startswith("unknown-"):
            return JSONResponse({"error": "no such shipment"}, status_code=404)
        return JSONResponse(tracking_document(reference))

    async def pickup(request: Request) -> Response:
        # Not idempotent (books a pickup): a client must never retry it blindly.
        state.requests += 1
        if request.headers.get("x-api-key") != key:
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        failure = await fail_if_asked()
        if failure is not None:
            return failure
        return JSONResponse({"pickup_id": f"P{state.requests:06d}"}, status_code=201)

    async def fail_if_asked() -> Response | None:
        failing = state.mode != "ok" and (state.failures is None or state.failures > 0)
        if failing and state.failures is not None:
            state.failures -= 1
        if failing:
            state.failed += 1
            if state.mode == "timeout":
                await asyncio.sleep(3600)
            if state.mode == "latency":
                await asyncio.sleep(state.latency_seconds)
            elif state.mode == "error":
                return JSONResponse({"error": "carrier unavailable"}, status_code=state.status)
            elif state.mode == "rate_limit":
                headers = {}
                if state.retry_after is not None:
                    headers["Retry-After"] = str(state.retry_after)
                return JSONResponse({"error": "slow down"}, status_code=429, headers=headers)
        return None

    async def get_mode(_: Request) -> Response:
        return JSONResponse(asdict(state))

    async def put_mode(request: Request) -> Response:
        change = await request.json()
        if change.get("mode", state.mode) not in MODES:
            return JSONResponse({"error": f"mode must be one of {MODES}"}, status_code=422)
        state.mode = change.get("mode", state.mode)
        state.latency_seconds = float(change.get("latency_seconds", 0.0))
        state.status = int(change.get("status", 503))
        state.failures = change.get("failures")
        state.retry_after = change.get("retry_after")
        state.requests = state.failed = 0
        return JSONResponse(asdict(state))

    app = Starlette(
        routes=[
            Route("/v1/shipments/{reference}", shipment, methods=["GET"]),
            Route("/v1/pickups", pickup, methods=["POST"]),
            Route("/_mock/mode", get_mode, methods=["GET"]),
            Route("/_mock/mode", put_mode, methods=["PUT"]),
        ]
    )
    app.state.mock = state
    return app
