"""JSON log lines: one per request with route template, status, latency and EMF metrics."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from app.core.logging import REDACTED, JsonFormatter
from tests.app.conftest import Api, Partner


@pytest.fixture
def access_log(capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    logger = logging.getLogger("app.access")
    previous = logger.level
    logger.setLevel(logging.INFO)
    capsys.readouterr()
    yield capsys
    logger.setLevel(previous)


def lines(capture: Any) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in capture.readouterr().out.splitlines()]


async def test_request_writes_one_json_line_with_emf_metrics(
    api: Api, partner: Partner, access_log: Any
) -> None:
    order_id = "0b4c7e8a-1d2e-4f5a-9b6c-7d8e9f0a1b2c"
    await api.client.get(
        f"/v1/orders/{order_id}", headers={**partner.auth(), "X-Request-ID": "log-test-1"}
    )

    output = access_log.readouterr().out
    (line,) = [orjson.loads(text) for text in output.splitlines()]
    assert line["request_id"] == "log-test-1"
    assert line["level"] == "INFO"
    assert line["status"] == 404
    assert line["path_template"] == "/v1/orders/{order_id}"
    assert line["latency_ms"] > 0
    assert line["Route"] == "/v1/orders/{order_id}"
    assert line["Method"] == "GET"
    assert (line["Requests"], line["ClientErrors"], line["ServerErrors"]) == (1, 1, 0)
    metrics = line["_aws"]["CloudWatchMetrics"][0]
    assert metrics["Namespace"] == "Kakehashi/Api"
    assert {metric["Name"] for metric in metrics["Metrics"]} == {
        "Latency",
        "Requests",
        "ClientErrors",
        "ServerErrors",
    }
    assert ["Service", "Route", "Method"] in metrics["Dimensions"]
    assert partner.token not in output
    assert order_id not in output


async def test_unmatched_paths_share_one_route_dimension(api: Api, access_log: Any) -> None:
    await api.client.get("/random/12345")

    assert lines(access_log)[0]["Route"] == "unmatched"


async def test_access_lines_are_silenced_when_log_level_is_warning(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    logger = logging.getLogger("app.access")
    previous = logger.level
    logger.setLevel(logging.WARNING)
    try:
        capsys.readouterr()
        await api.client.get("/healthz")
        output = capsys.readouterr().out
    finally:
        logger.setLevel(previous)

    assert output == ""


def test_formatter_redacts_credential_fields() -> None:
    record = logging.LogRecord("app", logging.INFO, __file__, 1, "login", (), None)
    record.client_secret = "hunter2"
    record.authorization = "Bearer abc"
    record.partner = "acme"

    document = orjson.loads(JsonFormatter(service="s").format(record))

    assert document["client_secret"] == REDACTED
    assert document["authorization"] == REDACTED
    assert document["partner"] == "acme"
    assert "hunter2" not in orjson.dumps(document).decode()
