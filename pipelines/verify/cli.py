"""Command line: ``python -m pipelines.verify --env <env> [--json] ...``.

Exit codes: 0 every check passed, 1 at least one check failed (the report says which and
why), 2 the command line or the environment configuration is invalid.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Sequence

import httpx

from pipelines.verify.aws import AwsClients
from pipelines.verify.checks import CHECKS
from pipelines.verify.model import Context, Expectations
from pipelines.verify.runner import verify
from stacks.environments import ConfigError, load_delivery, load_environments

#: Set by the deploy stage of both pipelines to the digest it deployed.
DIGEST_VARIABLE = "KAKEHASHI_IMAGE_DIGEST"
DEFAULT_TIMEOUT_SECONDS = 600.0
DEFAULT_INTERVAL_SECONDS = 15.0
DEFAULT_HTTP_TIMEOUT_SECONDS = 5.0

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def _digest(value: str) -> str:
    if not _DIGEST.fullmatch(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not sha256:<64 lowercase hex digits>")
    return value


def _seconds(minimum: float) -> Callable[[str], float]:
    def parse(value: str) -> float:
        try:
            seconds = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
        if not seconds >= minimum:
            raise argparse.ArgumentTypeError(f"{value} must be at least {minimum:g}")
        return seconds

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.verify",
        description="Verify a deployed environment (the promotion gate).",
    )
    parser.add_argument("--env", required=True, help="environment name (dev, staging, prod)")
    parser.add_argument(
        "--image-digest",
        type=_digest,
        default=os.environ.get(DIGEST_VARIABLE) or None,
        help=f"sha256:... the api container must run (default: ${DIGEST_VARIABLE}, the "
        "digest the deploy stage pinned; unset: any digest, never a tag)",
    )
    parser.add_argument(
        "--expected-version",
        help="release version /version and APP_VERSION must report "
        "(default: the APP_VERSION of the service's current task definition)",
    )
    parser.add_argument(
        "--base-url", help="where /healthz and /version are served (default: https://<domain_name>)"
    )
    parser.add_argument(
        "--timeout-seconds",
        type=_seconds(0),
        default=DEFAULT_TIMEOUT_SECONDS,
        help="retry failing checks until this many seconds have passed; 0: one attempt "
        f"(default: {DEFAULT_TIMEOUT_SECONDS:g})",
    )
    parser.add_argument(
        "--interval-seconds",
        type=_seconds(0),
        default=DEFAULT_INTERVAL_SECONDS,
        help=f"pause between retries (default: {DEFAULT_INTERVAL_SECONDS:g})",
    )
    parser.add_argument(
        "--http-timeout-seconds",
        type=_seconds(0.1),
        default=DEFAULT_HTTP_TIMEOUT_SECONDS,
        help=f"timeout of each HTTP request (default: {DEFAULT_HTTP_TIMEOUT_SECONDS:g})",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser


def main(argv: Sequence[str] | None = None, *, aws: AwsClients | None = None) -> int:
    """Run the verifier; ``aws`` replaces the clients boto3 would create (tests)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        environments = load_environments()
        delivery = load_delivery()
    except ConfigError as exc:
        print(f"verify: invalid configuration:\n{exc}", file=sys.stderr)
        return 2
    environment = environments.get(args.env)
    if environment is None:
        parser.error(f"--env {args.env!r}: not one of {', '.join(sorted(environments))}")
    expect = Expectations(
        env=environment.name,
        base_url=args.base_url or f"https://{environment.domain_name}",
        image_repository=delivery.image_repository_uri(),
        image_digest=args.image_digest,
        version=args.expected_version,
    )
    aws = aws or AwsClients.create(region=environment.region)
    with httpx.Client(
        timeout=httpx.Timeout(args.http_timeout_seconds), follow_redirects=False
    ) as http:
        report = verify(
            Context(expect=expect, aws=aws, http=http),
            CHECKS,
            timeout_seconds=args.timeout_seconds,
            interval_seconds=args.interval_seconds,
            log=lambda line: print(f"verify: {line}", file=sys.stderr, flush=True),
        )
    print(report.to_json() if args.json else report.to_table())
    return 0 if report.passed else 1
