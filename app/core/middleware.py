"""The outermost request middleware: request id, one log line per request, EMF metrics, 500s.

A plain ASGI middleware (not `BaseHTTPMiddleware`): it adds one header and times the
request without buffering bodies or spawning tasks, which matters on the hot read path.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_BASE
from app.core.logging import request_id_var

access_logger = logging.getLogger("app.access")
"""Only its level is used: LOG_LEVEL=WARNING silences the per-request lines."""
error_logger = logging.getLogger("app.error")

_REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:=;-]{1,128}$")
_ALB_ROOT_PATTERN = re.compile(r"Root=([A-Za-z0-9-]{1,64})")
METRIC_NAMESPACE = "Kakehashi/Api"


def choose_request_id(headers: list[tuple[bytes, bytes]]) -> str:
    """The caller's X-Request-ID if well-formed, else the ALB trace root, else a new id."""
    trace: str | None = None
    for name, value in headers:
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _REQUEST_ID_PATTERN.match(candidate):
                return candidate
        elif name == b"x-amzn-trace-id":
            match = _ALB_ROOT_PATTERN.search(value.decode("latin-1"))
            if match:
                trace = match.group(1)
    return trace or uuid.uuid4().hex


def emf_document(
    *,
    service: str,
    route: str,
    method: str,
    status: int,
    latency_ms: float,
    timestamp_ms: int,
) -> dict[str, Any]:
    """The CloudWatch embedded-metric-format fields for one request (merged into its log line)."""
    return {
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": METRIC_NAMESPACE,
                    "Dimensions": [["Service"], ["Service", "Route", "Method"]],
                    "Metrics": [
                        {"Name": "Latency", "Unit": "Milliseconds"},
                        {"Name": "Requests", "Unit": "Count"},
                        {"Name": "ClientErrors", "Unit": "Count"},
                        {"Name": "ServerErrors", "Unit": "Count"},
                    ],
                }
            ],
        },
        "Service": service,
        "Route": route,
        "Method": method,
        "Latency": round(latency_ms, 3),
        "Requests": 1,
        "ClientErrors": int(400 <= status < 500),
        "ServerErrors": int(status >= 500),
    }


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = choose_request_id(scope["headers"])
        token = request_id_var.set(request_id)
        header = (b"x-request-id", request_id.encode("latin-1"))
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            error_logger.exception("unhandled error", extra={"path": scope.get("path")})
            status = 500
            if not response_started:
                body = orjson.dumps(
                    {
                        "type": PROBLEM_TYPE_BASE + "internal-error",
                        "title": "Internal Server Error",
                        "status": 500,
                        "detail": "the request could not be completed; quote the request id",
                        "instance": scope.get("path"),
                        "request_id": request_id,
                    }
                )
                await send(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [
                            (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                            (b"content-length", str(len(body)).encode()),
                            header,
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
        finally:
            if access_logger.isEnabledFor(logging.INFO):
                self._access_line(scope, request_id, status, time.perf_counter() - started)
            request_id_var.reset(token)

    def _access_line(self, scope: Scope, request_id: str, status: int, seconds: float) -> None:
        # Written straight to stdout (same shape as JsonFormatter's lines): on the hot path
        # the logging machinery would cost more than the rest of a cached read.
        now = time.time()
        latency_ms = round(seconds * 1000, 3)
        template = getattr(scope.get("route"), "path", None) or "unmatched"
        line = {
            "time": datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds"),
            "level": "INFO",
            "logger": "app.access",
            "message": "request",
            "service": self.service,
            "request_id": request_id,
            "status": status,
            "path_template": template,
            "latency_ms": latency_ms,
            **emf_document(
                service=self.service,
                route=template,
                method=scope["method"],
                status=status,
                latency_ms=latency_ms,
                timestamp_ms=int(now * 1000),
            ),
        }
        sys.stdout.write(orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE).decode())
