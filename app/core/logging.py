"""Structured JSON logs on stdout, one object per line.

Every line carries the request id of the request being served (a context variable set by the
request middleware). Fields whose names suggest credentials are replaced before they are
written, so a careless `extra=` cannot leak a token or password.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()
    | {"message", "asctime", "color_message", "taskName"}
)
_SENSITIVE_FRAGMENTS = ("authorization", "password", "secret", "token", "api_key", "cookie")
REDACTED = "[redacted]"


def _is_sensitive(key: str) -> bool:
    lowered = key.lower()
    return any(fragment in lowered for fragment in _SENSITIVE_FRAGMENTS)


class JsonFormatter(logging.Formatter):
    """Render a record as one JSON object: time, level, logger, message, request id, extras."""

    def __init__(self, *, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "service": self._service,
        }
        request_id = request_id_var.get()
        if request_id is not None:
            document["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key in _STANDARD_ATTRS or (key.startswith("_") and key != "_aws"):
                continue
            document[key] = REDACTED if _is_sensitive(key) else value
        if record.exc_info:
            # Stack traces go to the log (never to a response).
            document["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(document, default=str).decode()


def configure_logging(*, level: str, service: str) -> None:
    """Route the root logger (and uvicorn's) to one JSON stream on stdout."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service=service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers[:] = []
        uvicorn_logger.propagate = True
    # The request middleware writes the one line per request; uvicorn's own access log
    # would duplicate it without the route template or the request id.
    logging.getLogger("uvicorn.access").disabled = True
    # Library chatter at INFO would include connection details.
    for name in ("botocore", "boto3", "urllib3", "httpx", "httpcore", "asyncio"):
        logging.getLogger(name).setLevel(logging.WARNING)
