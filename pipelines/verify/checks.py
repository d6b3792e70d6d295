"""The checks of a deployed environment, one function each, in :data:`CHECKS` order.

A check reads the live state (read-only calls only), returns an :class:`Outcome` whose reason
says what was found, and keeps no state between attempts: the runner calls a failing check
again until it passes or the deadline passes. Resources are found by the physical names in
:mod:`stacks.naming`, the same functions the stacks name them with.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from botocore.exceptions import ClientError

from pipelines.verify.aws import error_code
from pipelines.verify.model import Context, Outcome
from stacks import naming

#: The api container's variable carrying the release version (the container contract).
VERSION_VARIABLE = "APP_VERSION"
#: Secrets the service reads besides the cluster's RDS-managed master user secret.
SERVICE_SECRETS = ("redis-auth", "carrier-api")


@dataclass(frozen=True)
class Check:
    """A named check. ``name`` is stable: pipelines and dashboards key on it."""

    name: str
    description: str
    run: Callable[[Context], Outcome]


class NotFound(Exception):
    """A resource the check needs does not exist; the message says which."""


# -- lookups shared by several checks -------------------------------------------------------


def _service(ctx: Context) -> dict[str, Any]:
    env = ctx.expect.env
    cluster, service = naming.ecs_cluster(env), naming.ecs_service(env)
    try:
        found = ctx.aws.ecs.describe_services(cluster=cluster, services=[service])
    except ClientError as exc:
        if error_code(exc) == "ClusterNotFoundException":
            raise NotFound(f"ECS cluster {cluster} not found") from None
        raise
    services = [s for s in found.get("services", []) if s.get("status") != "INACTIVE"]
    if not services:
        raise NotFound(f"ECS service {service} not found in cluster {cluster}")
    return dict(services[0])


def _primary_deployment(service: dict[str, Any]) -> dict[str, Any] | None:
    for deployment in service.get("deployments", []):
        if deployment.get("status") == "PRIMARY":
            return dict(deployment)
    return None


def _api_container(ctx: Context) -> tuple[str, dict[str, Any]]:
    """(task definition ARN, api container definition) of the deployment being rolled out."""
    # The service's task definition is the PRIMARY deployment's (ECS creates a new PRIMARY
    # deployment whenever it changes).
    arn = str(_service(ctx)["taskDefinition"])
    definition = ctx.aws.ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
    name = naming.api_container()
    for container in definition.get("containerDefinitions", []):
        if container.get("name") == name:
            return arn, dict(container)
    raise NotFound(f"task definition {_short_arn(arn)} has no container named {name!r}")


def _declared_version(container: dict[str, Any]) -> str | None:
    for variable in container.get("environment", []):
        if variable.get("name") == VERSION_VARIABLE:
            return str(variable.get("value"))
    return None


def _load_balancer_arn(ctx: Context) -> str:
    name = naming.load_balancer(ctx.expect.env)
    try:
        found = ctx.aws.elbv2.describe_load_balancers(Names=[name])["LoadBalancers"]
    except ClientError as exc:
        if error_code(exc) == "LoadBalancerNotFound":
            raise NotFound(f"load balancer {name} not found") from None
        raise
    return str(found[0]["LoadBalancerArn"])


def _aurora_cluster(ctx: Context) -> dict[str, Any]:
    identifier = naming.aurora_cluster(ctx.expect.env)
    try:
        found = ctx.aws.rds.describe_db_clusters(DBClusterIdentifier=identifier)["DBClusters"]
    except ClientError as exc:
        if error_code(exc) == "DBClusterNotFoundFault":
            raise NotFound(f"Aurora cluster {identifier} not found") from None
        raise
    return dict(found[0])


def _short_arn(arn: str) -> str:
    """``family:revision`` / ``name`` part of an ARN, for readable reasons."""
    return arn.rsplit("/", 1)[-1]


def _secret_label(secret_id: str) -> str:
    """The name part of a secret ARN (``arn:aws:secretsmanager:<region>:<account>:secret:``)."""
    return secret_id.split(":", 6)[6] if secret_id.startswith("arn:") else secret_id


def _short_digest(digest: str) -> str:
    return digest[: len("sha256:") + 12]


# -- the checks ----------------------------------------------------------------------------


def ecs_service_steady(ctx: Context) -> Outcome:
    """Running == desired (at least one), one PRIMARY deployment whose rollout COMPLETED and
    no older deployment still active."""
    service = _service(ctx)
    desired, running = int(service.get("desiredCount", 0)), int(service.get("runningCount", 0))
    problems = []
    if desired < 1:
        problems.append("desired count is 0")
    if running != desired:
        problems.append(f"{running} of {desired} tasks running")
    primary = _primary_deployment(service)
    if primary is None:
        problems.append("no PRIMARY deployment")
    elif primary.get("rolloutState") != "COMPLETED":
        detail = primary.get("rolloutStateReason") or "no reason given"
        problems.append(
            f"deployment {primary.get('id')} rolloutState is "
            f"{primary.get('rolloutState', 'missing')} ({detail})"
        )
    older = [d for d in service.get("deployments", []) if d.get("status") != "PRIMARY"]
    if older:
        problems.append(f"{len(older)} older deployment(s) still {older[0].get('status')}")
    rollout = f"deployment {primary.get('id')} COMPLETED" if primary else ""
    return Outcome.from_problems(problems, ok=f"{running}/{desired} tasks running; {rollout}")


def ecs_task_image(ctx: Context) -> Outcome:
    """The rolled-out task definition's api container runs the expected image, by digest."""
    expect = ctx.expect
    arn, container = _api_container(ctx)
    image = str(container.get("image", ""))
    repository, by_digest, digest = image.partition("@")
    problems = []
    if not by_digest:
        problems.append(f"image {image} is referenced by tag, not by digest")
    elif expect.image_digest and digest != expect.image_digest:
        problems.append(f"runs {digest}, expected {expect.image_digest}")
    if expect.image_repository and repository != expect.image_repository:
        problems.append(f"image comes from {repository}, expected {expect.image_repository}")
    declared = _declared_version(container)
    if expect.version and declared != expect.version:
        problems.append(f"{VERSION_VARIABLE} is {declared}, expected {expect.version}")
    return Outcome.from_problems(
        [f"task definition {_short_arn(arn)}: {p}" for p in problems],
        ok=f"{_short_arn(arn)} runs {_short_digest(digest)}…, {VERSION_VARIABLE}={declared}",
    )


def alb_targets_healthy(ctx: Context) -> Outcome:
    """The api target group is attached to the environment's ALB and every registered
    target (at least one) is healthy; draining or initial targets mean still rolling."""
    env = ctx.expect.env
    lb_arn = _load_balancer_arn(ctx)
    name = naming.target_group(env)
    try:
        group = ctx.aws.elbv2.describe_target_groups(Names=[name])["TargetGroups"][0]
    except ClientError as exc:
        if error_code(exc) == "TargetGroupNotFound":
            return Outcome.fail(f"target group {name} not found")
        raise
    if lb_arn not in group.get("LoadBalancerArns", []):
        return Outcome.fail(f"target group {name} is not attached to {naming.load_balancer(env)}")
    targets = ctx.aws.elbv2.describe_target_health(TargetGroupArn=group["TargetGroupArn"])[
        "TargetHealthDescriptions"
    ]
    if not targets:
        return Outcome.fail(f"no targets registered in {name}")
    unhealthy = [
        f"{t['Target']['Id']}:{t['Target'].get('Port', '')} {t['TargetHealth']['State']}"
        + (f" ({t['TargetHealth']['Reason']})" if t["TargetHealth"].get("Reason") else "")
        for t in targets
        if t["TargetHealth"]["State"] != "healthy"
    ]
    if unhealthy:
        return Outcome.fail(
            f"{len(unhealthy)} of {len(targets)} targets not healthy: {', '.join(unhealthy)}"
        )
    return Outcome.ok(f"{len(targets)}/{len(targets)} targets healthy in {name}")


def waf_associated(ctx: Context) -> Outcome:
    """The environment's WAF web ACL protects the ALB."""
    env = ctx.expect.env
    lb_arn = _load_balancer_arn(ctx)
    acl = ctx.aws.wafv2.get_web_acl_for_resource(ResourceArn=lb_arn).get("WebACL")
    if not acl:
        return Outcome.fail(f"no web ACL is associated with {naming.load_balancer(env)}")
    if acl.get("Name") != naming.web_acl(env):
        return Outcome.fail(
            f"{naming.load_balancer(env)} is protected by web ACL {acl.get('Name')}, "
            f"expected {naming.web_acl(env)}"
        )
    return Outcome.ok(f"web ACL {acl['Name']} is associated with {naming.load_balancer(env)}")


def alarms_ok(ctx: Context) -> Outcome:
    """No alarm of the environment is in ALARM. No alarm at all fails too: the gate must
    not pass because the monitoring is missing."""
    prefix = naming.alarm_prefix(ctx.expect.env)
    alarms: list[dict[str, Any]] = []
    paginator = ctx.aws.cloudwatch.get_paginator("describe_alarms")
    for page in paginator.paginate(
        AlarmNamePrefix=prefix, AlarmTypes=["MetricAlarm", "CompositeAlarm"]
    ):
        alarms += page.get("MetricAlarms", []) + page.get("CompositeAlarms", [])
    if not alarms:
        return Outcome.fail(f"no alarm named {prefix}*: the environment's alarms are missing")
    firing = sorted(a["AlarmName"] for a in alarms if a.get("StateValue") == "ALARM")
    if firing:
        return Outcome.fail(f"{len(firing)} of {len(alarms)} alarms in ALARM: {', '.join(firing)}")
    no_data = sum(1 for a in alarms if a.get("StateValue") == "INSUFFICIENT_DATA")
    return Outcome.ok(f"{len(alarms)} alarms, none in ALARM ({no_data} INSUFFICIENT_DATA)")


def aurora_available_encrypted(ctx: Context) -> Outcome:
    """The Aurora cluster is available and its storage encrypted."""
    cluster = _aurora_cluster(ctx)
    name = cluster["DBClusterIdentifier"]
    problems = []
    if cluster.get("Status") != "available":
        problems.append(f"cluster {name} is {cluster.get('Status')}")
    if not cluster.get("StorageEncrypted"):
        problems.append(f"cluster {name} storage is not encrypted")
    return Outcome.from_problems(
        problems,
        ok=f"{name} available, storage encrypted with {_short_arn(cluster.get('KmsKeyId', '?'))}",
    )


def redis_available_tls(ctx: Context) -> Outcome:
    """The replication group is available, requires TLS in transit and encrypts at rest."""
    identifier = naming.redis_replication_group(ctx.expect.env)
    try:
        found = ctx.aws.elasticache.describe_replication_groups(ReplicationGroupId=identifier)
    except ClientError as exc:
        if error_code(exc) == "ReplicationGroupNotFoundFault":
            return Outcome.fail(f"replication group {identifier} not found")
        raise
    group = found["ReplicationGroups"][0]
    problems = []
    if group.get("Status") != "available":
        problems.append(f"replication group {identifier} is {group.get('Status')}")
    if not group.get("TransitEncryptionEnabled"):
        problems.append(f"replication group {identifier} has transit encryption disabled")
    elif group.get("TransitEncryptionMode", "required") != "required":
        # "preferred" still accepts plaintext connections (a migration state only).
        problems.append(
            f"replication group {identifier} transit encryption mode is "
            f"{group['TransitEncryptionMode']}, expected required"
        )
    if not group.get("AtRestEncryptionEnabled"):
        problems.append(f"replication group {identifier} has encryption at rest disabled")
    return Outcome.from_problems(
        problems, ok=f"{identifier} available, TLS required, encrypted at rest"
    )


def secrets_exist(ctx: Context) -> Outcome:
    """The service's secrets exist and none is scheduled for deletion. Only metadata is
    read (DescribeSecret): the verifier never sees a secret value."""
    env = ctx.expect.env
    wanted = [naming.secret_name(env, purpose) for purpose in SERVICE_SECRETS]
    problems = []
    try:
        master = _aurora_cluster(ctx).get("MasterUserSecret", {}).get("SecretArn")
    except NotFound as exc:
        master, problems = None, [f"master user secret unknown: {exc}"]
    else:
        if master:
            wanted.append(master)
        else:
            problems.append(
                "the Aurora cluster does not manage its master password in Secrets Manager"
            )
    for secret_id in wanted:
        label = _secret_label(secret_id)
        try:
            secret = ctx.aws.secretsmanager.describe_secret(SecretId=secret_id)
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                problems.append(f"secret {label} not found")
                continue
            raise
        if secret.get("DeletedDate"):
            problems.append(f"secret {label} is scheduled for deletion")
    labels = ", ".join(_secret_label(s) for s in wanted)
    return Outcome.from_problems(problems, ok=f"{len(wanted)} secrets present: {labels}")


def _get(ctx: Context, path: str) -> tuple[httpx.Response | None, str, float]:
    """GET base_url + path: (response or None, description, milliseconds)."""
    url = ctx.expect.base_url.rstrip("/") + path
    started = time.perf_counter()
    try:
        response = ctx.http.get(url)
    except httpx.HTTPError as exc:
        elapsed = (time.perf_counter() - started) * 1000
        return (
            None,
            f"GET {url} failed after {elapsed:.0f} ms: {type(exc).__name__}: {exc}",
            elapsed,
        )
    elapsed = (time.perf_counter() - started) * 1000
    return response, f"GET {url} -> {response.status_code} in {elapsed:.0f} ms", elapsed


def http_healthz(ctx: Context) -> Outcome:
    """``GET /healthz`` answers 200 through the public endpoint (DNS, TLS, WAF, ALB)."""
    response, summary, _ = _get(ctx, "/healthz")
    if response is None or response.status_code != 200:
        return Outcome.fail(summary + ("" if response is None else ", expected 200"))
    return Outcome.ok(summary)


def http_version(ctx: Context) -> Outcome:
    """``GET /version`` reports the expected version for this environment."""
    expected, source = ctx.expect.version, "--expected-version"
    if expected is None:
        try:
            expected = _declared_version(_api_container(ctx)[1])
        except NotFound as exc:
            return Outcome.fail(f"no expected version: {exc}")
        source = f"the task definition's {VERSION_VARIABLE}"
        if expected is None:
            return Outcome.fail(
                f"no expected version: pass --expected-version, or the task definition "
                f"must set {VERSION_VARIABLE}"
            )
    response, summary, _ = _get(ctx, "/version")
    if response is None or response.status_code != 200:
        return Outcome.fail(summary + ("" if response is None else ", expected 200"))
    try:
        body = response.json()
    except ValueError:
        return Outcome.fail(f"{summary}: body is not JSON")
    if not isinstance(body, dict):
        return Outcome.fail(f"{summary}: body is not a JSON object")
    problems = []
    if body.get("version") != expected:
        problems.append(
            f"reports version {body.get('version')!r}, expected {expected!r} ({source})"
        )
    if "environment" in body and body["environment"] != ctx.expect.env:
        problems.append(f"reports environment {body['environment']!r}, expected {ctx.expect.env!r}")
    return Outcome.from_problems(
        [f"{summary}: {p}" for p in problems], ok=f"{summary}, version {expected}"
    )


#: Every check, in report order: platform first, then the public endpoint.
CHECKS: tuple[Check, ...] = (
    Check(
        "ecs-service-steady", "ECS service steady, latest deployment completed", ecs_service_steady
    ),
    Check("ecs-task-image", "api container runs the expected image digest", ecs_task_image),
    Check("alb-targets-healthy", "ALB target group: every target healthy", alb_targets_healthy),
    Check("waf-associated", "WAF web ACL associated with the ALB", waf_associated),
    Check("alarms-ok", "no alarm of the environment in ALARM", alarms_ok),
    Check(
        "aurora-available-encrypted",
        "Aurora cluster available, storage encrypted",
        aurora_available_encrypted,
    ),
    Check(
        "redis-available-tls",
        "Redis available, TLS required, encrypted at rest",
        redis_available_tls,
    ),
    Check("secrets-exist", "service secrets exist (metadata only)", secrets_exist),
    Check("http-healthz", "GET /healthz answers 200", http_healthz),
    Check("http-version", "GET /version reports the expected version", http_version),
)
