"""``python -m pipelines.ci_config [--env <env>]``: the AWS identifiers a GitHub workflow
needs, derived from the environment YAML files (the only place they live), written as
``key=value`` lines (append them to ``$GITHUB_OUTPUT``).

  region, repository_uri, publish_role_arn, drift_role_arn     always
  deploy_role_arn, deployer_role_arn, drift_reader_role_arn    with --env
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from stacks import naming
from stacks.environments import DeliveryConfig, Environment, load_delivery, load_environments


def outputs(delivery: DeliveryConfig, env: Environment | None) -> dict[str, str]:
    hub = f"arn:aws:iam::{delivery.account_id}:role"
    values = {
        "region": delivery.region,
        "repository_uri": delivery.image_repository_uri(),
        "publish_role_arn": f"{hub}/{naming.github_publish_role()}",
        "drift_role_arn": f"{hub}/{naming.github_drift_role()}",
    }
    if env is not None:
        spoke = f"arn:aws:iam::{env.account_id}:role"
        values |= {
            "env_region": env.region,
            "deploy_role_arn": f"{hub}/{naming.github_deploy_role(env.name)}",
            "deployer_role_arn": f"{spoke}/{naming.deployer_role(env.name)}",
            "drift_reader_role_arn": f"{spoke}/{naming.drift_reader_role(env.name)}",
        }
    return values


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.ci_config")
    parser.add_argument("--env")
    args = parser.parse_args(argv)
    envs = load_environments()
    if args.env is not None and args.env not in envs:
        print(f"ci_config: no environment {args.env!r}; have {sorted(envs)}", file=sys.stderr)
        return 2
    env = envs[args.env] if args.env else None
    for key, value in outputs(load_delivery(), env).items():
        print(f"{key}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
