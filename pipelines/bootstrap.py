"""``python -m pipelines.bootstrap trust --env <env> --role deployer|drift-reader``: the
trust policy of an environment account's spoke role, for its one-time bootstrap.

The delivery stack cannot create roles in the environment accounts (its provider is pinned
to the delivery account), so each environment account gets two roles once, by an
administrator, with these trust policies (see docs/pipelines.md):

* ``kakehashi-<env>-deployer``: trusted only by that environment's CodeBuild deploy project
  role and GitHub deploy role in the delivery account. Permissions: what ``cdktf deploy``
  of the environment's stacks needs (AdministratorAccess bounded by the account boundary,
  in practice; scoped further per organisation).
* ``kakehashi-<env>-drift-reader``: trusted only by the GitHub drift role. Permissions:
  ReadOnlyAccess plus reading the state bucket.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from stacks import naming
from stacks.environments import load_delivery, load_environments


def trusted_principals(role: str, env: str, delivery_account: str) -> list[str]:
    """The delivery-account role ARNs a spoke role trusts (exactly these, nothing else)."""
    if role == "deployer":
        names = [
            f"{naming.codebuild_project(f'deploy-{env}')}-codebuild",
            naming.github_deploy_role(env),
        ]
    elif role == "drift-reader":
        names = [naming.github_drift_role()]
    else:
        raise ValueError(f"role={role!r}: 'deployer' or 'drift-reader'")
    return [f"arn:aws:iam::{delivery_account}:role/{name}" for name in names]


def trust_policy(role: str, env: str, delivery_account: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DeliveryAccountRoles",
                "Effect": "Allow",
                "Principal": {"AWS": trusted_principals(role, env, delivery_account)},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }
        ],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.bootstrap")
    parser.add_argument("what", choices=("trust",))
    parser.add_argument("--env", required=True)
    parser.add_argument("--role", choices=("deployer", "drift-reader"), default="deployer")
    args = parser.parse_args(argv)
    envs = load_environments()
    if args.env not in envs:
        print(f"bootstrap: no environment {args.env!r}; have {sorted(envs)}", file=sys.stderr)
        return 2
    delivery = load_delivery()
    print(json.dumps(trust_policy(args.role, args.env, delivery.account_id), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
