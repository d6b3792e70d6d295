"""``python -m pipelines.migrate --env <env> --image <ref> --phase pre|post``: run the
database migrations (``alembic upgrade head``) as a one-off ECS task, before the service
rolls to the new image.

Migrations need the *new* image, but the migration task definition carrying it is only
written by ``cdktf deploy``. So the pre-deploy phase registers a copy of the environment's
current migration task definition (``kakehashi-<env>-migrate``) with only the image
replaced, runs it in the service's own subnets and security group, and waits for exit code
0. The next ``cdktf deploy`` registers the same content as Terraform's revision.

On the very first deploy there is no task definition yet: the pre phase records that and
the post phase (after ``cdktf deploy``) runs the migrations with the definition Terraform
has just created. A migration failure stops the promotion (exit 1).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from stacks import naming

#: Fields of describe_task_definition that register_task_definition accepts.
REGISTRABLE = (
    "family",
    "taskRoleArn",
    "executionRoleArn",
    "networkMode",
    "containerDefinitions",
    "volumes",
    "placementConstraints",
    "requiresCompatibilities",
    "cpu",
    "memory",
    "pidMode",
    "ipcMode",
    "proxyConfiguration",
    "ephemeralStorage",
    "runtimePlatform",
)
MARKER_DIR = Path("reports")


def with_image(
    task_definition: dict[str, Any], image: str, tags: Sequence[Any] = ()
) -> dict[str, Any]:
    """A register_task_definition request: ``task_definition`` with every container's
    image replaced by ``image`` (the migration task runs one container of the API image)."""
    request = {k: task_definition[k] for k in REGISTRABLE if task_definition.get(k)}
    request["containerDefinitions"] = [
        {**container, "image": image} for container in task_definition["containerDefinitions"]
    ]
    if tags:
        request["tags"] = list(tags)
    return request


def _marker(env: str) -> Path:
    return MARKER_DIR / f"migrations-pending-{env}"


def run_migrations(
    ecs: Any,
    *,
    env: str,
    image: str | None,
    timeout_seconds: int = 900,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Run the migration task; return its container exit code (0: migrated)."""
    cluster, family = naming.ecs_cluster(env), naming.migration_task_family(env)
    described = ecs.describe_task_definition(taskDefinition=family, include=["TAGS"])
    task_definition = described["taskDefinition"]
    if image is not None:
        request = with_image(task_definition, image, described.get("tags", ()))
        task_definition = ecs.register_task_definition(**request)["taskDefinition"]
    service = ecs.describe_services(cluster=cluster, services=[naming.ecs_service(env)])
    network = service["services"][0]["networkConfiguration"]
    started = ecs.run_task(
        cluster=cluster,
        taskDefinition=task_definition["taskDefinitionArn"],
        launchType="FARGATE",
        networkConfiguration=network,
        startedBy="kakehashi-migrate",
    )
    if started.get("failures") or not started.get("tasks"):
        print(f"migrate: could not start the task: {started.get('failures')}", file=sys.stderr)
        return 1
    task_arn = started["tasks"][0]["taskArn"]
    print(f"migrate: {env}: started {task_arn}", file=sys.stderr)
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        task = ecs.describe_tasks(cluster=cluster, tasks=[task_arn])["tasks"][0]
        if task["lastStatus"] == "STOPPED":
            codes = [c.get("exitCode") for c in task.get("containers", [])]
            code = 0 if codes and all(c == 0 for c in codes) else 1
            print(
                f"migrate: {env}: stopped ({task.get('stoppedReason', '')}), exit {codes}",
                file=sys.stderr,
            )
            return code
        sleep(10)
    print(f"migrate: {env}: timed out after {timeout_seconds} s", file=sys.stderr)
    return 1


def main(argv: Sequence[str] | None = None, ecs: Any = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.migrate")
    parser.add_argument("--env", required=True)
    parser.add_argument("--image", help="image reference (repo@sha256:...) for the pre phase")
    parser.add_argument("--phase", choices=("pre", "post"), required=True)
    args = parser.parse_args(argv)
    if ecs is None:
        import boto3

        ecs = boto3.client("ecs")
    marker = _marker(args.env)
    if args.phase == "post":
        if not marker.exists():
            print(f"migrate: {args.env}: migrated before the deploy; nothing to do")
            return 0
        code = run_migrations(ecs, env=args.env, image=None)
        if code == 0:
            marker.unlink()
        return code
    if not args.image:
        parser.error("--image is required for the pre phase")
    try:
        return run_migrations(ecs, env=args.env, image=args.image)
    except ecs.exceptions.ClientException as exc:
        if "Unable to describe task definition" not in str(exc):
            raise
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
        print(f"migrate: {args.env}: first deploy (no task definition yet); after the deploy")
        return 0


if __name__ == "__main__":
    sys.exit(main())
