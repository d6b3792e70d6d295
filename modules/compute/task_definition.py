"""A Fargate task definition of one hardened container."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from cdktf import Fn
from cdktf_cdktf_provider_aws.ecs_task_definition import (
    EcsTaskDefinition,
    EcsTaskDefinitionRuntimePlatform,
    EcsTaskDefinitionVolume,
)
from constructs import Construct

#: Fargate's limit for stopTimeout (seconds between SIGTERM and SIGKILL).
MAX_STOP_TIMEOUT_SECONDS = 120
#: Environment names that must never carry a value in plain ``environment``.
SENSITIVE_NAME = re.compile(r"(PASSWORD|PASSWD|TOKEN|SECRET|API_KEY|PRIVATE_KEY|CREDENTIALS?)$")


@dataclass(frozen=True, kw_only=True)
class ContainerHealthCheck:
    """The container's own health check (ECS replaces the task when it fails).

    ``command``: ``["CMD", ...]`` run inside the container.
    Defaults: every 15 s, 5 s timeout, 3 retries, 30 s start period.
    """

    command: Sequence[str]
    interval_seconds: int = 15
    timeout_seconds: int = 5
    retries: int = 3
    start_period_seconds: int = 30


@dataclass(frozen=True, kw_only=True)
class TaskDefinitionProps:
    """Props of :class:`ContainerTaskDefinition`.

    ``family``: the task definition family (see stacks/naming.py).
    ``cpu`` / ``memory_mib``: a Fargate size (validated by the environment model).
    ``container_name`` / ``image``: the one container and its image reference.
    ``execution_role_arn`` / ``task_role_arn``: see modules/compute/task_roles.py.
    ``log_group_name`` / ``region``: awslogs destination (a KMS-encrypted group).
    ``log_stream_prefix``: Default: the container name.
    ``environment``: plain settings. Names that look sensitive (``*_PASSWORD``, ``*_TOKEN``,
    ``*_SECRET``, ``*_API_KEY``) are refused: those belong in ``secrets``. Default: none.
    ``secrets``: name -> Secrets Manager ``valueFrom`` (ARN, optionally ``:json-key::``).
    Default: none.
    ``container_port``: Default: none (no port mapping, e.g. a one-off migration task).
    ``command``: overrides the image's CMD. Default: the image's CMD.
    ``health_check``: Default: none (the load balancer's check decides).
    ``user``: a numeric non-root UID. Default: ``10001``.
    ``writable_paths``: each gets an ephemeral task volume (Fargate has no tmpfs); the root
    filesystem is read-only. Default: ``/tmp``.
    ``stop_timeout_seconds``: SIGTERM-to-SIGKILL, at most 120 on Fargate. Default: 120.
    ``cpu_architecture``: Default: ``X86_64``.
    ``tags``: tags of the task definition only. Default: none.
    """

    family: str
    cpu: int
    memory_mib: int
    container_name: str
    image: str
    execution_role_arn: str
    task_role_arn: str
    log_group_name: str
    region: str
    log_stream_prefix: str | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    container_port: int | None = None
    command: Sequence[str] | None = None
    health_check: ContainerHealthCheck | None = None
    user: str = "10001"
    writable_paths: Sequence[str] = ("/tmp",)  # noqa: S108 - a task volume, not the host's /tmp
    stop_timeout_seconds: int = MAX_STOP_TIMEOUT_SECONDS
    cpu_architecture: Literal["X86_64", "ARM64"] = "X86_64"
    tags: Mapping[str, str] = field(default_factory=dict)


class ContainerTaskDefinition(Construct):
    """Guarantees: awsvpc/Fargate; the container runs as a non-root numeric user, with a
    read-only root filesystem, not privileged, every Linux capability dropped, an init
    process reaping children; only the ``writable_paths`` volumes are writable; sensitive
    values come from Secrets Manager (``secrets``), never from ``environment``; logs go to
    the given log group through awslogs (non-blocking, so a logging hiccup never stalls
    the app).
    """

    def __init__(self, scope: Construct, id_: str, props: TaskDefinitionProps) -> None:
        super().__init__(scope, id_)
        problems = []
        if not props.user.isdigit() or props.user == "0":
            problems.append(f"user={props.user!r}: a numeric, non-root UID")
        if not 2 <= props.stop_timeout_seconds <= MAX_STOP_TIMEOUT_SECONDS:
            problems.append(
                f"stop_timeout_seconds={props.stop_timeout_seconds}: 2-{MAX_STOP_TIMEOUT_SECONDS}"
            )
        for name in sorted(props.environment):
            if SENSITIVE_NAME.search(name):
                problems.append(f"environment[{name}]: looks sensitive; pass it in secrets")
        for name in sorted(set(props.environment) & set(props.secrets)):
            problems.append(f"{name}: in both environment and secrets")
        for path in props.writable_paths:
            if not path.startswith("/") or path == "/":
                problems.append(f"writable_paths: {path!r} must be an absolute sub-directory")
        if problems:
            raise ValueError(f"ContainerTaskDefinition {id_}: " + "; ".join(problems))

        volumes = {_volume_name(path): path for path in props.writable_paths}
        container: dict[str, Any] = {
            "name": props.container_name,
            "image": props.image,
            "essential": True,
            "user": props.user,
            "readonlyRootFilesystem": True,
            "privileged": False,
            "linuxParameters": {"initProcessEnabled": True, "capabilities": {"drop": ["ALL"]}},
            "environment": [{"name": k, "value": v} for k, v in sorted(props.environment.items())],
            "secrets": [{"name": k, "valueFrom": v} for k, v in sorted(props.secrets.items())],
            "mountPoints": [
                {"sourceVolume": name, "containerPath": path, "readOnly": False}
                for name, path in volumes.items()
            ],
            "portMappings": [],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": props.log_group_name,
                    "awslogs-region": props.region,
                    "awslogs-stream-prefix": props.log_stream_prefix or props.container_name,
                    "mode": "non-blocking",
                    "max-buffer-size": "25m",
                },
            },
            "stopTimeout": props.stop_timeout_seconds,
            "ulimits": [{"name": "nofile", "softLimit": 65536, "hardLimit": 65536}],
        }
        if props.container_port is not None:
            container["portMappings"] = [
                {"containerPort": props.container_port, "protocol": "tcp", "name": "http"}
            ]
        if props.command is not None:
            container["command"] = list(props.command)
        if props.health_check is not None:
            hc = props.health_check
            container["healthCheck"] = {
                "command": list(hc.command),
                "interval": hc.interval_seconds,
                "timeout": hc.timeout_seconds,
                "retries": hc.retries,
                "startPeriod": hc.start_period_seconds,
            }
        self.container_definition = container
        self.task_definition = EcsTaskDefinition(
            self,
            "task",
            family=props.family,
            cpu=str(props.cpu),
            memory=str(props.memory_mib),
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            runtime_platform=EcsTaskDefinitionRuntimePlatform(
                operating_system_family="LINUX", cpu_architecture=props.cpu_architecture
            ),
            execution_role_arn=props.execution_role_arn,
            task_role_arn=props.task_role_arn,
            container_definitions=Fn.jsonencode([container]),
            volume=[EcsTaskDefinitionVolume(name=name) for name in volumes],
            tags=dict(props.tags) or None,
        )

    @property
    def arn(self) -> str:
        return self.task_definition.arn

    @property
    def family(self) -> str:
        return self.task_definition.family


def _volume_name(path: str) -> str:
    return "writable" + re.sub(r"[^A-Za-z0-9]+", "-", path).rstrip("-")
