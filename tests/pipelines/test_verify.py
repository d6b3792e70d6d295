"""The post-deploy verifier against moto and a real local HTTP server.

Every test builds the same all-green ``dev`` environment in moto (named by stacks.naming),
then breaks one thing and asserts that exactly the affected checks fail, each with its
reason. Where moto cannot produce a state (a rollout that FAILED while the running count is
right), a thin wrapper around the moto client supplies it (see ``_RolloutFailedEcs``).
"""

from __future__ import annotations

import functools
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from moto import mock_aws

from pipelines.verify.aws import AwsClients
from pipelines.verify.checks import CHECKS
from pipelines.verify.cli import main
from stacks import naming
from stacks.environments import load_delivery

ENV = "dev"
REGION = "ap-northeast-1"
VERSION = "1.4.2"
DIGEST = "sha256:" + "5e" * 32
OTHER_DIGEST = "sha256:" + "a1" * 32
DESIRED = 2
ALL_CHECKS = {check.name for check in CHECKS}
HTTP_CHECKS = {"http-healthz", "http-version"}
#: One session and one set of clients for the module: botocore parses service models per
#: session and builds client classes per client; that, not moto, would dominate the run time.
#: (moto intercepts every call made while a mock is active, whenever the client was made.)
SESSION = boto3.Session(region_name=REGION)
SERVICES = ("ec2", "ecs", "elbv2", "wafv2", "cloudwatch", "rds", "elasticache", "secretsmanager")


@functools.cache
def _clients() -> dict[str, Any]:
    return {name: SESSION.client(name) for name in SERVICES}


@functools.cache
def _verifier_clients() -> AwsClients:
    return AwsClients.create(region=REGION, session=SESSION)


# -- the local HTTP endpoint ------------------------------------------------------------


@dataclass
class FakeApi:
    """What the local server answers; tests change it, the fixture resets it."""

    healthz_status: int = 200
    version_body: bytes = b""
    #: Bodies served (one each) before ``version_body``: a rollout still converging.
    stale_version_bodies: list[bytes] = field(default_factory=list)

    def reset(self) -> None:
        self.healthz_status = 200
        self.version_body = _version_body(VERSION)
        self.stale_version_bodies = []


def _version_body(version: str, environment: str = ENV) -> bytes:
    return json.dumps(
        {"version": version, "git_revision": "0" * 40, "environment": environment}
    ).encode()


@pytest.fixture(scope="module")
def api() -> Iterator[tuple[FakeApi, str]]:
    state = FakeApi()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/healthz":
                status, body = state.healthz_status, b'{"status":"ok"}'
            elif self.path == "/version":
                stale = state.stale_version_bodies
                status, body = 200, stale.pop(0) if stale else state.version_body
            else:
                status, body = 404, b"{}"
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# -- the all-green environment in moto --------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """Properties fixed at creation (moto, like AWS, cannot change them afterwards)."""

    running_count: int = DESIRED
    transit_encryption: bool = True
    transit_encryption_mode: str = "required"
    storage_encrypted: bool = True


@dataclass(frozen=True)
class Deployed:
    clients: dict[str, Any]
    vpc_id: str
    subnet_id: str
    load_balancer_arn: str
    target_group_arn: str
    web_acl_arn: str
    task_definition_arn: str
    master_secret_arn: str

    def __getattr__(self, service: str) -> Any:
        return self.clients[service]


def _image(digest: str = DIGEST) -> str:
    return f"{load_delivery().image_repository_uri()}@{digest}"


def _register_task_definition(ecs: Any, *, image: str, version: str) -> str:
    return str(
        ecs.register_task_definition(
            family=naming.task_family(ENV),
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu="256",
            memory="512",
            containerDefinitions=[
                {
                    "name": naming.api_container(),
                    "image": image,
                    "portMappings": [{"containerPort": 8000}],
                    "environment": [
                        {"name": "APP_ENV", "value": ENV},
                        {"name": "APP_VERSION", "value": version},
                    ],
                }
            ],
        )["taskDefinition"]["taskDefinitionArn"]
    )


def build_environment(shape: Shape) -> Deployed:
    """Everything the verifier reads, as the stacks name it, in a healthy state."""
    c = _clients()
    vpc = c["ec2"].create_vpc(CidrBlock="10.10.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        c["ec2"].create_subnet(VpcId=vpc, CidrBlock=f"10.10.{i}.0/24", AvailabilityZone=az)[
            "Subnet"
        ]["SubnetId"]
        for i, az in enumerate((f"{REGION}a", f"{REGION}c"), start=1)
    ]
    service_sg = c["ec2"].create_security_group(
        GroupName="service", Description="ECS tasks", VpcId=vpc
    )["GroupId"]

    c["ecs"].create_cluster(clusterName=naming.ecs_cluster(ENV))
    task_definition = _register_task_definition(c["ecs"], image=_image(), version=VERSION)
    # moto derives runningCount and the deployment's rolloutState from this variable.
    os.environ["MOTO_ECS_SERVICE_RUNNING"] = str(shape.running_count)
    try:
        c["ecs"].create_service(
            cluster=naming.ecs_cluster(ENV),
            serviceName=naming.ecs_service(ENV),
            taskDefinition=task_definition,
            desiredCount=DESIRED,
            launchType="FARGATE",
            networkConfiguration={
                "awsvpcConfiguration": {"subnets": subnets, "securityGroups": [service_sg]}
            },
        )
    finally:
        del os.environ["MOTO_ECS_SERVICE_RUNNING"]

    lb = c["elbv2"].create_load_balancer(
        Name=naming.load_balancer(ENV), Subnets=subnets, Type="application"
    )["LoadBalancers"][0]["LoadBalancerArn"]
    tg = c["elbv2"].create_target_group(
        Name=naming.target_group(ENV),
        Protocol="HTTP",
        Port=8000,
        VpcId=vpc,
        TargetType="ip",
        HealthCheckPath="/healthz",
    )["TargetGroups"][0]["TargetGroupArn"]
    c["elbv2"].create_listener(
        LoadBalancerArn=lb,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}],
    )
    c["elbv2"].register_targets(
        TargetGroupArn=tg,
        Targets=[{"Id": "10.10.1.10", "Port": 8000}, {"Id": "10.10.2.10", "Port": 8000}],
    )

    acl = c["wafv2"].create_web_acl(
        Name=naming.web_acl(ENV),
        Scope="REGIONAL",
        DefaultAction={"Allow": {}},
        VisibilityConfig={
            "SampledRequestsEnabled": True,
            "CloudWatchMetricsEnabled": True,
            "MetricName": "kakehashi-dev",
        },
    )["Summary"]["ARN"]
    c["wafv2"].associate_web_acl(WebACLArn=acl, ResourceArn=lb)

    for what, state in (
        ("api-5xx", "OK"),
        ("api-latency-p99", "OK"),
        ("db-cpu", "INSUFFICIENT_DATA"),
    ):
        name = naming.alarm_prefix(ENV) + what
        c["cloudwatch"].put_metric_alarm(
            AlarmName=name,
            Namespace="AWS/ApplicationELB",
            MetricName="HTTPCode_Target_5XX_Count",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanThreshold",
        )
        c["cloudwatch"].set_alarm_state(AlarmName=name, StateValue=state, StateReason="test")

    cluster = c["rds"].create_db_cluster(
        DBClusterIdentifier=naming.aurora_cluster(ENV),
        Engine="aurora-postgresql",
        EngineVersion="16.6",
        MasterUsername="kakehashi",
        ManageMasterUserPassword=True,
        StorageEncrypted=shape.storage_encrypted,
    )["DBCluster"]

    c["elasticache"].create_replication_group(
        ReplicationGroupId=naming.redis_replication_group(ENV),
        ReplicationGroupDescription="kakehashi dev cache",
        Engine="valkey",
        CacheNodeType="cache.t4g.micro",
        NumCacheClusters=1,
        TransitEncryptionEnabled=shape.transit_encryption,
        TransitEncryptionMode=shape.transit_encryption_mode,
        AtRestEncryptionEnabled=True,
    )
    for purpose in ("redis-auth", "carrier-api"):
        c["secretsmanager"].create_secret(
            Name=naming.secret_name(ENV, purpose), SecretString="not-a-real-secret"
        )
    return Deployed(
        clients=c,
        vpc_id=vpc,
        subnet_id=subnets[0],
        load_balancer_arn=lb,
        target_group_arn=tg,
        web_acl_arn=acl,
        task_definition_arn=task_definition,
        master_secret_arn=cluster["MasterUserSecret"]["SecretArn"],
    )


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for variable in (
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "MOTO_ECS_SERVICE_RUNNING",
        "KAKEHASHI_IMAGE_DIGEST",
    ):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    # moto loads ~26 000 AMIs into every fresh EC2 backend otherwise (seconds per test).
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    with mock_aws():
        yield


@pytest.fixture
def endpoint(api: tuple[FakeApi, str]) -> tuple[FakeApi, str]:
    api[0].reset()
    return api


# -- running the verifier ---------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    exit_code: int
    report: dict[str, Any]
    seconds: float

    @property
    def failed(self) -> dict[str, str]:
        return {c["name"]: c["reason"] for c in self.report["checks"] if not c["passed"]}

    def check(self, name: str) -> dict[str, Any]:
        return next(c for c in self.report["checks"] if c["name"] == name)


def run_verifier(
    capsys: pytest.CaptureFixture[str],
    base_url: str,
    *args: str,
    aws: AwsClients | None = None,
) -> Run:
    """``python -m pipelines.verify --env dev --json`` in process; one attempt by default."""
    argv = ["--env", ENV, "--json", "--base-url", base_url, *args]
    if "--timeout-seconds" not in args:
        argv += ["--timeout-seconds", "0"]
    capsys.readouterr()
    started = time.monotonic()
    exit_code = main(argv, aws=aws or _verifier_clients())
    seconds = time.monotonic() - started
    return Run(exit_code, json.loads(capsys.readouterr().out), seconds)


PROMOTED = ("--image-digest", DIGEST, "--expected-version", VERSION)


def test_passes_every_check_when_environment_is_green(
    aws: None, endpoint: tuple[FakeApi, str], capsys: pytest.CaptureFixture[str]
) -> None:
    build_environment(Shape())

    run = run_verifier(capsys, endpoint[1], *PROMOTED)

    assert run.failed == {}
    assert run.exit_code == 0
    assert run.report["passed"] is True
    assert {c["name"] for c in run.report["checks"]} == ALL_CHECKS
    assert all(c["attempts"] == 1 for c in run.report["checks"])
    assert "2/2 tasks running" in run.check("ecs-service-steady")["reason"]
    assert "2/2 targets healthy" in run.check("alb-targets-healthy")["reason"]
    assert "3 alarms, none in ALARM (1 INSUFFICIENT_DATA)" in run.check("alarms-ok")["reason"]
    assert "3 secrets present" in run.check("secrets-exist")["reason"]


def test_expects_task_definition_version_when_no_version_is_given(
    aws: None, endpoint: tuple[FakeApi, str], capsys: pytest.CaptureFixture[str]
) -> None:
    build_environment(Shape())
    endpoint[0].version_body = _version_body("1.4.1")

    run = run_verifier(capsys, endpoint[1])

    assert run.exit_code == 1
    assert set(run.failed) == {"http-version"}
    assert (
        "reports version '1.4.1', expected '1.4.2' (the task definition's APP_VERSION)"
        in (run.failed["http-version"])
    )


# -- one broken thing at a time ---------------------------------------------------------


def _tag_image(d: Deployed) -> None:
    arn = _register_task_definition(
        d.ecs, image=f"{load_delivery().image_repository_uri()}:latest", version=VERSION
    )
    d.ecs.update_service(
        cluster=naming.ecs_cluster(ENV), service=naming.ecs_service(ENV), taskDefinition=arn
    )


def _foreign_image(d: Deployed) -> None:
    arn = _register_task_definition(
        d.ecs, image=f"public.ecr.aws/someone/api@{DIGEST}", version=VERSION
    )
    d.ecs.update_service(
        cluster=naming.ecs_cluster(ENV), service=naming.ecs_service(ENV), taskDefinition=arn
    )


def _unhealthy_target(d: Deployed) -> None:
    # moto reports every registered IP target healthy; a stopped instance is its one
    # registered-but-not-healthy state.
    instance = d.ec2.run_instances(
        ImageId="ami-12c6146b", MinCount=1, MaxCount=1, SubnetId=d.subnet_id
    )["Instances"][0]["InstanceId"]
    d.elbv2.register_targets(
        TargetGroupArn=d.target_group_arn, Targets=[{"Id": instance, "Port": 8000}]
    )
    d.ec2.stop_instances(InstanceIds=[instance])


def _no_targets(d: Deployed) -> None:
    d.elbv2.deregister_targets(
        TargetGroupArn=d.target_group_arn,
        Targets=[{"Id": "10.10.1.10", "Port": 8000}, {"Id": "10.10.2.10", "Port": 8000}],
    )


def _other_web_acl(d: Deployed) -> None:
    d.wafv2.disassociate_web_acl(ResourceArn=d.load_balancer_arn)
    other = d.wafv2.create_web_acl(
        Name="someone-else",
        Scope="REGIONAL",
        DefaultAction={"Allow": {}},
        VisibilityConfig={
            "SampledRequestsEnabled": False,
            "CloudWatchMetricsEnabled": False,
            "MetricName": "x",
        },
    )["Summary"]["ARN"]
    d.wafv2.associate_web_acl(WebACLArn=other, ResourceArn=d.load_balancer_arn)


def _alarm(d: Deployed) -> None:
    d.cloudwatch.set_alarm_state(
        AlarmName=naming.alarm_prefix(ENV) + "api-5xx", StateValue="ALARM", StateReason="test"
    )


def _no_alarms(d: Deployed) -> None:
    prefix = naming.alarm_prefix(ENV)
    d.cloudwatch.delete_alarms(
        AlarmNames=[prefix + what for what in ("api-5xx", "api-latency-p99", "db-cpu")]
    )


def _delete_secret(purpose: str) -> Callable[[Deployed], None]:
    def delete(d: Deployed) -> None:
        d.secretsmanager.delete_secret(
            SecretId=naming.secret_name(ENV, purpose), ForceDeleteWithoutRecovery=True
        )

    return delete


def _schedule_deletion(d: Deployed) -> None:
    d.secretsmanager.delete_secret(
        SecretId=naming.secret_name(ENV, "redis-auth"), RecoveryWindowInDays=7
    )


def _delete_master_secret(d: Deployed) -> None:
    d.secretsmanager.delete_secret(SecretId=d.master_secret_arn, ForceDeleteWithoutRecovery=True)


def _nothing(_: Deployed) -> None:
    pass


@dataclass(frozen=True)
class Variant:
    id: str
    breaks: Callable[[Deployed], None] = _nothing
    shape: Shape = Shape()
    api: Callable[[FakeApi], None] = lambda _: None
    args: tuple[str, ...] = PROMOTED
    #: check name -> a fragment its reason must contain; every other check must pass.
    fails: dict[str, str] = field(default_factory=dict)


VARIANTS = (
    Variant(
        "service-rolling",
        shape=Shape(running_count=1),
        fails={"ecs-service-steady": "1 of 2 tasks running; deployment ecs-svc/"},
    ),
    Variant(
        "service-rollout-in-progress",
        shape=Shape(running_count=1),
        fails={"ecs-service-steady": "rolloutState is IN_PROGRESS"},
    ),
    Variant(
        "other-digest",
        args=("--image-digest", OTHER_DIGEST, "--expected-version", VERSION),
        fails={"ecs-task-image": f"runs {DIGEST}, expected {OTHER_DIGEST}"},
    ),
    Variant(
        "image-by-tag",
        breaks=_tag_image,
        fails={"ecs-task-image": ":latest is referenced by tag, not by digest"},
    ),
    Variant(
        "image-from-foreign-repository",
        breaks=_foreign_image,
        fails={"ecs-task-image": "image comes from public.ecr.aws/someone/api, expected "},
    ),
    Variant(
        "other-version",
        args=("--image-digest", DIGEST, "--expected-version", "1.5.0"),
        fails={
            "ecs-task-image": "APP_VERSION is 1.4.2, expected 1.5.0",
            "http-version": "reports version '1.4.2', expected '1.5.0' (--expected-version)",
        },
    ),
    Variant(
        "target-unhealthy",
        breaks=_unhealthy_target,
        fails={"alb-targets-healthy": "1 of 3 targets not healthy: i-"},
    ),
    Variant(
        "no-targets",
        breaks=_no_targets,
        fails={"alb-targets-healthy": "no targets registered in kakehashi-dev-api"},
    ),
    Variant(
        "waf-not-associated",
        breaks=lambda d: d.wafv2.disassociate_web_acl(ResourceArn=d.load_balancer_arn),
        fails={"waf-associated": "no web ACL is associated with kakehashi-dev"},
    ),
    Variant(
        "waf-other-acl",
        breaks=_other_web_acl,
        fails={"waf-associated": "protected by web ACL someone-else, expected kakehashi-dev"},
    ),
    Variant(
        "alarm-firing",
        breaks=_alarm,
        fails={"alarms-ok": "1 of 3 alarms in ALARM: kakehashi-dev-api-5xx"},
    ),
    Variant(
        "alarms-missing",
        breaks=_no_alarms,
        fails={"alarms-ok": "no alarm named kakehashi-dev-*"},
    ),
    Variant(
        "aurora-stopped",
        breaks=lambda d: d.rds.stop_db_cluster(DBClusterIdentifier=naming.aurora_cluster(ENV)),
        fails={"aurora-available-encrypted": "cluster kakehashi-dev is stopped"},
    ),
    Variant(
        "aurora-unencrypted",
        shape=Shape(storage_encrypted=False),
        fails={"aurora-available-encrypted": "cluster kakehashi-dev storage is not encrypted"},
    ),
    Variant(
        "redis-deleting",
        breaks=lambda d: d.elasticache.delete_replication_group(
            ReplicationGroupId=naming.redis_replication_group(ENV)
        ),
        fails={"redis-available-tls": "replication group kakehashi-dev is deleting"},
    ),
    Variant(
        "redis-plaintext",
        shape=Shape(transit_encryption=False),
        fails={"redis-available-tls": "kakehashi-dev has transit encryption disabled"},
    ),
    Variant(
        "redis-tls-preferred",
        shape=Shape(transit_encryption_mode="preferred"),
        fails={"redis-available-tls": "transit encryption mode is preferred, expected required"},
    ),
    Variant(
        "redis-auth-secret-missing",
        breaks=_delete_secret("redis-auth"),
        fails={"secrets-exist": "secret kakehashi/dev/redis-auth not found"},
    ),
    Variant(
        "carrier-secret-missing",
        breaks=_delete_secret("carrier-api"),
        fails={"secrets-exist": "secret kakehashi/dev/carrier-api not found"},
    ),
    Variant(
        "secret-scheduled-for-deletion",
        breaks=_schedule_deletion,
        fails={"secrets-exist": "secret kakehashi/dev/redis-auth is scheduled for deletion"},
    ),
    Variant(
        "master-secret-missing",
        breaks=_delete_master_secret,
        fails={"secrets-exist": "secret rds!cluster-"},
    ),
    Variant(
        "healthz-503",
        api=lambda a: setattr(a, "healthz_status", 503),
        fails={"http-healthz": "/healthz -> 503 in "},
    ),
    Variant(
        "version-not-json",
        api=lambda a: setattr(a, "version_body", b"<html>maintenance</html>"),
        fails={"http-version": "body is not JSON"},
    ),
    Variant(
        "version-other-environment",
        api=lambda a: setattr(a, "version_body", _version_body(VERSION, "staging")),
        fails={"http-version": "reports environment 'staging', expected 'dev'"},
    ),
)


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.id for v in VARIANTS])
def test_fails_only_the_broken_check_with_its_reason(
    variant: Variant,
    aws: None,
    endpoint: tuple[FakeApi, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    deployed = build_environment(variant.shape)
    variant.breaks(deployed)
    variant.api(endpoint[0])

    run = run_verifier(capsys, endpoint[1], *variant.args)

    assert run.exit_code == 1
    assert run.report["passed"] is False
    assert set(run.failed) == set(variant.fails), run.failed
    for name, fragment in variant.fails.items():
        assert fragment in run.failed[name]


class _RolloutFailedEcs:
    """The moto ECS client, except that the PRIMARY deployment's rollout FAILED (a circuit
    breaker rollback): moto ties rolloutState to the running count, AWS does not."""

    def __init__(self, ecs: Any) -> None:
        self._ecs = ecs

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ecs, name)

    def describe_services(self, **kwargs: Any) -> dict[str, Any]:
        found = self._ecs.describe_services(**kwargs)
        for deployment in found["services"][0]["deployments"]:
            deployment["rolloutState"] = "FAILED"
            deployment["rolloutStateReason"] = "ECS deployment circuit breaker: tasks failed"
        return dict(found)


def test_expects_the_digest_the_deploy_stage_pinned(
    aws: None,
    endpoint: tuple[FakeApi, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    build_environment(Shape())
    monkeypatch.setenv("KAKEHASHI_IMAGE_DIGEST", OTHER_DIGEST)

    run = run_verifier(capsys, endpoint[1])

    assert set(run.failed) == {"ecs-task-image"}
    assert f"runs {DIGEST}, expected {OTHER_DIGEST}" in run.failed["ecs-task-image"]


def test_fails_ecs_steady_when_rollout_failed_with_all_tasks_running(
    aws: None, endpoint: tuple[FakeApi, str], capsys: pytest.CaptureFixture[str]
) -> None:
    build_environment(Shape())
    clients = _verifier_clients()
    seam = AwsClients(**{**vars(clients), "ecs": _RolloutFailedEcs(clients.ecs)})

    run = run_verifier(capsys, endpoint[1], *PROMOTED, aws=seam)

    assert set(run.failed) == {"ecs-service-steady"}
    assert (
        "rolloutState is FAILED (ECS deployment circuit breaker: tasks failed)"
        in (run.failed["ecs-service-steady"])
    )
    assert "tasks running" not in run.failed["ecs-service-steady"]


def test_fails_every_aws_check_with_not_found_when_environment_is_absent(
    aws: None, endpoint: tuple[FakeApi, str], capsys: pytest.CaptureFixture[str]
) -> None:
    run = run_verifier(capsys, endpoint[1], *PROMOTED)

    assert set(run.failed) == ALL_CHECKS - HTTP_CHECKS
    assert run.failed["ecs-service-steady"] == "ECS cluster kakehashi-dev not found"
    assert run.failed["alb-targets-healthy"] == "load balancer kakehashi-dev not found"
    assert run.failed["aurora-available-encrypted"] == "Aurora cluster kakehashi-dev not found"
    assert run.failed["redis-available-tls"] == "replication group kakehashi-dev not found"
    assert "secret kakehashi/dev/redis-auth not found" in run.failed["secrets-exist"]


# -- retries and their bound ------------------------------------------------------------


def test_passes_when_a_rolling_version_converges_before_the_deadline(
    aws: None, endpoint: tuple[FakeApi, str], capsys: pytest.CaptureFixture[str]
) -> None:
    build_environment(Shape())
    endpoint[0].stale_version_bodies = [_version_body("1.4.1")] * 2

    run = run_verifier(
        capsys, endpoint[1], *PROMOTED, "--timeout-seconds", "10", "--interval-seconds", "0.1"
    )

    assert run.exit_code == 0
    assert run.check("http-version")["attempts"] == 3
    assert run.check("ecs-service-steady")["attempts"] == 1
    assert run.seconds < 5


def test_fails_fast_within_the_bound_when_endpoint_is_unreachable(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    build_environment(Shape())
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    timeout, interval = 1.5, 0.25

    run = run_verifier(
        capsys,
        f"http://127.0.0.1:{closed_port}",
        *PROMOTED,
        "--timeout-seconds",
        str(timeout),
        "--interval-seconds",
        str(interval),
        "--http-timeout-seconds",
        "0.5",
    )

    assert run.exit_code == 1
    assert set(run.failed) == HTTP_CHECKS
    for name in HTTP_CHECKS:
        assert "ConnectError" in run.failed[name]
        assert run.check(name)["attempts"] >= 3
    # Refused connections fail at once: the run ends at the deadline plus one round.
    assert timeout <= run.report["elapsed_seconds"] < timeout + 2
    assert run.seconds < timeout + 5


def test_prints_a_table_with_every_check_and_the_summary(
    aws: None, endpoint: tuple[FakeApi, str], capsys: pytest.CaptureFixture[str]
) -> None:
    build_environment(Shape())
    endpoint[0].healthz_status = 500

    exit_code = main(["--env", ENV, "--base-url", endpoint[1], "--timeout-seconds", "0", *PROMOTED])
    lines = capsys.readouterr().out.splitlines()

    assert exit_code == 1
    assert lines[0].split() == ["CHECK", "RESULT", "ATTEMPTS", "REASON"]
    rows = {line.split()[0]: line.split()[1] for line in lines[1 : 1 + len(CHECKS)]}
    assert rows == {c.name: "FAIL" if c.name == "http-healthz" else "PASS" for c in CHECKS}
    assert lines[-1].startswith("dev: 1 of 10 checks FAILED in ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--env", "qa"], "--env 'qa': not one of dev, prod, staging"),
        (["--env", "dev", "--image-digest", "sha256:abc"], "is not sha256:<64 lowercase hex"),
        (["--env", "dev", "--timeout-seconds", "-1"], "-1 must be at least 0"),
    ],
)
def test_rejects_invalid_arguments_with_exit_code_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(args)

    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_imports_no_provider_bindings() -> None:
    # The gate runs in every deploy stage: importing the AWS bindings would cost ~20 s.
    code = (
        "import sys, pipelines.verify.cli; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('cdktf', 'constructs', "
        "'jsii', 'cdktf_cdktf_provider_aws')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout

    assert loaded.strip() == "[]"


def test_verify_stops_retrying_a_check_when_there_are_no_credentials() -> None:
    from botocore.exceptions import NoCredentialsError

    from pipelines.verify.checks import Check
    from pipelines.verify.model import Outcome
    from pipelines.verify.runner import verify

    calls: list[str] = []

    def no_credentials(_ctx: Any) -> Outcome:
        calls.append("aws")
        raise NoCredentialsError

    def flaky(_ctx: Any) -> Outcome:
        calls.append("http")
        return Outcome.fail("not yet")

    slept: list[float] = []
    now = [0.0]

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    ctx = type("Ctx", (), {"expect": type("E", (), {"env": "dev", "base_url": "x"})()})()
    report = verify(
        ctx,  # type: ignore[arg-type]
        [Check("aws", "needs credentials", no_credentials), Check("http", "retried", flaky)],
        timeout_seconds=30,
        interval_seconds=10,
        clock=lambda: now[0],
        sleep=sleep,
    )
    assert calls.count("aws") == 1  # failed for good at once
    assert calls.count("http") == 4  # 0, 10, 20, 30 s: the retryable one keeps its budget
    by_name = {r.name: r for r in report.results}
    assert by_name["aws"].passed is False
    assert by_name["aws"].reason.startswith("AWS error NoCredentialsError")
