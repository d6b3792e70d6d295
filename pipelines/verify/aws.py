"""The boto3 seam: every AWS call the verifier makes goes through one of these clients.

Checks receive an :class:`AwsClients` rather than creating clients, so tests hand them
clients bound to moto (or, for a state moto cannot produce, a thin wrapper around one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

#: Botocore's "standard" retry mode retries throttling and transient errors this many times
#: in total per call; the verifier's own retry loop handles everything slower.
API_MAX_ATTEMPTS = 3


@dataclass(frozen=True, kw_only=True)
class AwsClients:
    """One client per service the checks read (all read-only Describe/Get/List calls)."""

    ecs: Any
    elbv2: Any
    wafv2: Any
    cloudwatch: Any
    rds: Any
    elasticache: Any
    secretsmanager: Any

    @classmethod
    def create(
        cls,
        *,
        region: str,
        session: boto3.Session | None = None,
        connect_timeout_seconds: float = 5,
        read_timeout_seconds: float = 10,
    ) -> AwsClients:
        """Clients for ``region`` with bounded timeouts and standard retries.

        Default session: boto3's credential chain (in a pipeline, the deploy role).
        """
        session = session or boto3.Session()
        config = Config(
            region_name=region,
            connect_timeout=connect_timeout_seconds,
            read_timeout=read_timeout_seconds,
            retries={"max_attempts": API_MAX_ATTEMPTS, "mode": "standard"},
        )

        def client(service: str) -> Any:
            return session.client(service, config=config)

        return cls(
            ecs=client("ecs"),
            elbv2=client("elbv2"),
            wafv2=client("wafv2"),
            cloudwatch=client("cloudwatch"),
            rds=client("rds"),
            elasticache=client("elasticache"),
            secretsmanager=client("secretsmanager"),
        )


def error_code(exc: ClientError) -> str:
    """The AWS error code of a failed call (``ResourceNotFoundException``, ...)."""
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))
