"""``python -m pipelines.assume_role --role-arn ARN --session NAME``: print ``export``
lines for temporary credentials of ``ARN`` (for ``eval`` in a buildspec).

CodeBuild runs as a delivery-account role; each environment is changed only through its
``kakehashi-<env>-deployer`` role, reached with this one hop. The credentials go to stdout
only (``eval "$(...)"`` keeps them out of the build log) and expire after an hour.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from collections.abc import Sequence
from typing import Any

_ROLE_ARN = re.compile(r"^arn:aws:iam::\d{12}:role/[\w+=,.@/-]{1,128}$")


def export_lines(credentials: dict[str, Any]) -> list[str]:
    """Shell ``export`` statements for an STS ``Credentials`` structure."""
    pairs = {
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
    }
    return [f"export {name}={shlex.quote(str(value))}" for name, value in pairs.items()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.assume_role")
    parser.add_argument("--role-arn", required=True)
    parser.add_argument("--session", required=True)
    parser.add_argument("--duration-seconds", type=int, default=3600)
    args = parser.parse_args(argv)
    if not _ROLE_ARN.match(args.role_arn):
        print(f"assume_role: --role-arn {args.role_arn!r} is not a role ARN", file=sys.stderr)
        return 2
    import boto3

    response = boto3.client("sts").assume_role(
        RoleArn=args.role_arn,
        RoleSessionName=re.sub(r"[^\w+=,.@-]", "-", args.session)[:64],
        DurationSeconds=args.duration_seconds,
    )
    print("\n".join(export_lines(response["Credentials"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
