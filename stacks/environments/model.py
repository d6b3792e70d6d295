"""The typed environment model: the only place environment values live.

Each environment is one YAML file beside this module (``dev.yaml``, ``staging.yaml``,
``prod.yaml``). :func:`load_environments` parses every file, validates it against
:class:`Environment`, then evaluates the cross-field and cross-environment rules in
:data:`RULES`; every problem found anywhere is collected and raised together in one
:class:`ConfigError`, each naming the environment, the field, the value received and what
is allowed. Unknown keys are errors (``extra="forbid"``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from modules.data.aurora_capacity import serverless_capacity_problems
from modules.observability.retention import retention_problem

ENVIRONMENTS_DIR = Path(__file__).resolve().parent
PROJECT = "kakehashi"

#: Availability zones usable by new accounts, per supported region, in the order they are
#: taken. ap-northeast-1b is not offered to accounts created after 2012.
REGION_AZS: dict[str, tuple[str, ...]] = {
    "ap-northeast-1": ("ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"),
    "ap-northeast-3": ("ap-northeast-3a", "ap-northeast-3b", "ap-northeast-3c"),
}

_HOSTNAME = r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
_EMAIL = r"^[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+\.)+[A-Za-z]{2,63}$"
_TAG_VALUE = r"^[A-Za-z0-9_ .:/=+\-@]{1,256}$"
_WINDOW_DAY = r"(mon|tue|wed|thu|fri|sat|sun)"
_HHMM = r"([01]\d|2[0-3]):[0-5]\d"


class _Strict(BaseModel):
    """Every config block: frozen, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Tags(_Strict):
    """Organisation tags every resource carries (with project, environment, component)."""

    owner: Annotated[str, Field(pattern=_TAG_VALUE, description="Team that owns the environment.")]
    cost_center: Annotated[
        str, Field(pattern=_TAG_VALUE, description="Cost center billed for the environment.")
    ]


class StateConfig(_Strict):
    """Where Terraform state lives. Keys are derived: ``<env>/<component>.tfstate``."""

    bucket: Annotated[
        str,
        Field(
            pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
            description="Pre-created, versioned, encrypted S3 bucket holding the state.",
        ),
    ]


class NetworkConfig(_Strict):
    """The VPC. Subnet CIDRs are derived from ``vpc_cidr`` (see modules/network/vpc.py)."""

    vpc_cidr: Annotated[str, Field(description="RFC 1918 block, prefix /16 to /22.")]
    az_count: Annotated[int, Field(ge=2, le=3, description="AZs spanned; prod uses 3.")]
    nat_strategy: Annotated[
        Literal["single", "per_az"],
        Field(description="'per_az': one NAT gateway per AZ (HA). 'single': one shared NAT."),
    ]
    flow_log_retention_days: Annotated[int, Field(description="VPC flow log retention.")] = 90

    @field_validator("vpc_cidr")
    @classmethod
    def _private_block(cls, value: str) -> str:
        try:
            net = ipaddress.IPv4Network(value, strict=True)
        except ValueError as exc:
            raise ValueError(f"not an IPv4 network in CIDR notation ({exc})") from None
        if not net.is_private:
            raise ValueError("must be an RFC 1918 private block (10/8, 172.16/12, 192.168/16)")
        if not 16 <= net.prefixlen <= 22:
            # Subnets are a sixteenth of the VPC; an ALB needs at least a /27 per subnet.
            raise ValueError("prefix length must be between /16 and /22")
        return value


class ServerlessCapacity(_Strict):
    """Aurora Serverless v2 capacity, validated the way RDS validates it."""

    kind: Literal["serverless"]
    min_acu: Annotated[Decimal, Field(description="Minimum ACUs, 0 to 256 in steps of 0.5.")]
    max_acu: Annotated[Decimal, Field(description="Maximum ACUs, 1 to 256 in steps of 0.5.")]
    seconds_until_auto_pause: Annotated[
        int | None,
        Field(description="Auto-pause after idle seconds (300-86400). Default: never pauses."),
    ] = None


class ProvisionedCapacity(_Strict):
    """Provisioned Aurora instances of one class."""

    kind: Literal["provisioned"]
    instance_class: Annotated[str, Field(pattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$")]


class DatabaseConfig(_Strict):
    """Aurora PostgreSQL."""

    engine_version: Annotated[str, Field(pattern=r"^\d+\.\d+$", description="e.g. '16.6'.")]
    capacity: Annotated[ServerlessCapacity | ProvisionedCapacity, Field(discriminator="kind")]
    instance_count: Annotated[int, Field(ge=1, le=15, description="Writer plus readers.")]
    backup_retention_days: Annotated[int, Field(ge=1, le=35)]
    preferred_backup_window: Annotated[str, Field(pattern=rf"^{_HHMM}-{_HHMM}$")] = "17:00-18:00"
    preferred_maintenance_window: Annotated[
        str, Field(pattern=rf"^{_WINDOW_DAY}:{_HHMM}-{_WINDOW_DAY}:{_HHMM}$")
    ] = "sun:18:30-sun:19:30"
    max_connections: Annotated[
        int, Field(ge=20, le=5000, description="Postgres max_connections (parameter group).")
    ]
    log_retention_days: int = 90
    deletion_protection: Annotated[
        bool | None, Field(description="Default: on in production, off elsewhere.")
    ] = None


class CacheConfig(_Strict):
    """ElastiCache replication group."""

    engine: Literal["redis", "valkey"] = "valkey"
    engine_version: Annotated[str, Field(pattern=r"^\d+\.\d+$")]
    node_type: Annotated[str, Field(pattern=r"^cache\.[a-z0-9]+\.[a-z0-9]+$")]
    num_cache_clusters: Annotated[int, Field(ge=1, le=6, description="Primary plus replicas.")]
    snapshot_retention_days: Annotated[int, Field(ge=0, le=35)] = 1
    snapshot_window: Annotated[str, Field(pattern=rf"^{_HHMM}-{_HHMM}$")] = "16:00-17:00"
    maintenance_window: Annotated[
        str, Field(pattern=rf"^{_WINDOW_DAY}:{_HHMM}-{_WINDOW_DAY}:{_HHMM}$")
    ] = "sun:19:30-sun:20:30"
    log_retention_days: int = 30
    auth_token_generation: Annotated[
        int,
        Field(
            ge=1,
            description="Bump to rotate the AUTH token (the previous one stays valid until "
            "the next change). Default: 1.",
        ),
    ] = 1


#: Fargate's valid (cpu units -> memory MiB choices) table.
FARGATE_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
}


class ServiceConfig(_Strict):
    """The ECS Fargate service running the API."""

    cpu: Annotated[int, Field(description="Task CPU units (256, 512, 1024, 2048, 4096).")]
    memory_mib: Annotated[int, Field(description="Task memory; must suit the CPU (Fargate).")]
    desired_count: Annotated[int, Field(ge=1)]
    min_count: Annotated[int, Field(ge=1)]
    max_count: Annotated[int, Field(ge=1, le=100)]
    db_pool_size: Annotated[int, Field(ge=1, le=100, description="SQLAlchemy pool_size.")] = 5
    db_max_overflow: Annotated[int, Field(ge=0, le=100)] = 5
    cpu_target_percent: Annotated[int, Field(ge=10, le=90)] = 60
    requests_per_target: Annotated[int, Field(ge=10, description="ALB requests/target/min.")] = 1000
    scale_in_cooldown_seconds: Annotated[int, Field(ge=0, le=3600)] = 300
    scale_out_cooldown_seconds: Annotated[int, Field(ge=0, le=3600)] = 60
    health_check_grace_seconds: Annotated[int, Field(ge=0, le=600)] = 60
    log_retention_days: int = 90
    enable_execute_command: bool = False
    log_level: Annotated[
        Literal["DEBUG", "INFO", "WARNING", "ERROR"],
        Field(description="The API's LOG_LEVEL. Default: INFO."),
    ] = "INFO"
    carrier_base_url: Annotated[
        str,
        Field(
            pattern=r"^https://[A-Za-z0-9.-]+(:\d+)?(/[A-Za-z0-9._~/-]*)?$",
            description="The carrier API the service calls (HTTPS only; egress 443).",
        ),
    ]


class EdgeConfig(_Strict):
    """ALB, certificate and WAF."""

    hosted_zone_name: Annotated[
        str, Field(pattern=_HOSTNAME, description="Route 53 public zone holding domain_name.")
    ]
    certificate_arn: Annotated[
        str | None,
        Field(
            pattern=r"^arn:aws:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$",
            description="Existing ACM certificate. Default: a DNS-validated one is created.",
        ),
    ] = None
    allowed_cidrs: Annotated[
        tuple[str, ...], Field(min_length=1, description="Who may reach the ALB on 80/443.")
    ] = ("0.0.0.0/0",)
    idle_timeout_seconds: Annotated[int, Field(ge=1, le=4000)] = 60
    health_check_interval_seconds: Annotated[int, Field(ge=5, le=300)] = 15
    healthy_threshold: Annotated[int, Field(ge=2, le=10)] = 2
    unhealthy_threshold: Annotated[int, Field(ge=2, le=10)] = 3
    waf_rate_limit: Annotated[
        int, Field(ge=10, le=2_000_000_000, description="Requests per client IP per 5 min.")
    ] = 2000
    waf_mode: Annotated[
        Literal["block", "count"], Field(description="'count' monitors only; never in prod.")
    ] = "block"
    admin_paths: tuple[str, ...] = ("/docs", "/redoc", "/openapi.json")
    admin_allowed_cidrs: Annotated[tuple[str, ...], Field(min_length=1)]
    deletion_protection: Annotated[
        bool | None, Field(description="ALB deletion protection. Default: on in production.")
    ] = None
    access_log_expiration_days: Annotated[
        int, Field(ge=1, le=3650, description="ALB/S3 access log objects expire after this.")
    ] = 90
    waf_log_retention_days: Annotated[int, Field(description="WAF log group retention.")] = 90


class ObservabilityConfig(_Strict):
    """Alarm thresholds. Every alarm notifies ``alarm_email`` through the SNS topic."""

    latency_p99_slo_ms: Annotated[int, Field(ge=10, le=60_000)] = 500
    alb_5xx_rate_percent: Annotated[Decimal, Field(gt=0, le=100)] = Decimal("1")
    target_5xx_rate_percent: Annotated[
        Decimal, Field(gt=0, le=100, description="Share of requests the tasks answer 5xx.")
    ] = Decimal("2")
    ecs_cpu_percent: Annotated[int, Field(ge=10, le=100)] = 85
    ecs_memory_percent: Annotated[int, Field(ge=10, le=100)] = 85
    db_cpu_percent: Annotated[int, Field(ge=10, le=100)] = 80
    db_connections_percent: Annotated[
        int, Field(ge=10, le=100, description="Share of database.max_connections in use.")
    ] = 80
    db_freeable_memory_mib: Annotated[int, Field(ge=16)] = 256
    db_acu_utilization_percent: Annotated[
        int, Field(ge=10, le=100, description="Serverless v2 only (ACUUtilization).")
    ] = 90
    redis_cpu_percent: Annotated[
        int, Field(ge=10, le=100, description="EngineCPUUtilization (the Redis thread).")
    ] = 75
    redis_memory_percent: Annotated[int, Field(ge=10, le=100)] = 80
    redis_evictions: Annotated[
        int, Field(ge=0, description="Evicted keys per 5 minutes above which to alarm.")
    ] = 100
    waf_blocked_requests: Annotated[
        int, Field(ge=1, description="Blocked requests per 5 minutes that count as a spike.")
    ] = 500
    evaluation_periods: Annotated[
        int, Field(ge=1, le=10, description="Consecutive 1-minute periods before alarming.")
    ] = 3


class Environment(_Strict):
    """One deployment environment."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9]{1,11}$")]
    production: Annotated[bool, Field(description="Production rules apply (HA, protection).")]
    account_id: Annotated[str, Field(description="12-digit AWS account id.")]
    region: Annotated[str, Field(description="AWS region.")]
    domain_name: Annotated[str, Field(pattern=_HOSTNAME)]
    alarm_email: Annotated[str, Field(pattern=_EMAIL)]
    tags: Tags
    state: StateConfig
    network: NetworkConfig
    database: DatabaseConfig
    cache: CacheConfig
    service: ServiceConfig
    edge: EdgeConfig
    observability: ObservabilityConfig = ObservabilityConfig()

    @field_validator("account_id")
    @classmethod
    def _account_id(cls, value: str) -> str:
        if not re.fullmatch(r"\d{12}", value):
            raise ValueError("must be exactly 12 digits")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if value not in REGION_AZS:
            raise ValueError(f"must be one of {sorted(REGION_AZS)}")
        return value

    @property
    def availability_zones(self) -> tuple[str, ...]:
        """The AZs the environment spans, in a stable order."""
        return REGION_AZS[self.region][: self.network.az_count]

    @property
    def deletion_protection(self) -> bool:
        """Database deletion protection: explicit setting, else on in production."""
        explicit = self.database.deletion_protection
        return self.production if explicit is None else explicit

    @property
    def alb_deletion_protection(self) -> bool:
        """ALB deletion protection: explicit setting, else on in production."""
        explicit = self.edge.deletion_protection
        return self.production if explicit is None else explicit

    def required_tags(self, component: str) -> dict[str, str]:
        """The tags every resource of a stack carries (applied as provider default tags)."""
        return {
            "project": PROJECT,
            "environment": self.name,
            "component": component,
            "managed-by": "cdktf",
            "owner": self.tags.owner,
            "cost-center": self.tags.cost_center,
        }


class DeliveryConfig(_Strict):
    """The delivery (tooling) account: one ECR repository and the CodePipeline that
    promotes the same image digest through every environment. File: ``delivery.yaml``."""

    account_id: Annotated[str, Field(pattern=r"^\d{12}$", description="12-digit account id.")]
    region: Annotated[str, Field(description="AWS region of the pipeline and registry.")]
    tags: Tags
    state: StateConfig
    ecr_repository_name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._/-]{1,255}$")] = (
        "kakehashi/api"
    )
    github_repository: Annotated[
        str, Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", description="owner/name")
    ]
    github_branch: Annotated[
        str, Field(pattern=r"^[A-Za-z0-9._/-]{1,255}$", description="Branch the pipeline tracks.")
    ] = "main"
    alarm_email: Annotated[
        str, Field(pattern=_EMAIL, description="Receives the prod approval requests.")
    ]
    ecr_keep_releases: Annotated[
        int,
        Field(
            ge=3,
            le=1000,
            description="Tagged images kept in ECR (older ones expire). Default: 50, enough "
            "to roll any environment back across several months of releases.",
        ),
    ] = 50
    ecr_untagged_expiry_days: Annotated[
        int,
        Field(ge=1, le=90, description="Untagged images (build leftovers) expire. Default: 7."),
    ] = 7
    log_retention_days: Annotated[
        int,
        Field(
            description="CodeBuild log retention (CloudWatch values). Default: 365: the build "
            "and deploy logs are the audit trail of what reached production."
        ),
    ] = 365
    artifact_expiry_days: Annotated[
        int,
        Field(ge=7, le=365, description="Pipeline artifacts expire after. Default: 30."),
    ] = 30

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if value not in REGION_AZS:
            raise ValueError(f"must be one of {sorted(REGION_AZS)}")
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        problem = retention_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @property
    def name(self) -> str:
        """``delivery``: the pseudo-environment name of the delivery account's stack."""
        return "delivery"

    def image_repository_uri(self) -> str:
        """Where every environment pulls the API image from (by digest or tag)."""
        return f"{self.account_id}.dkr.ecr.{self.region}.amazonaws.com/{self.ecr_repository_name}"

    def required_tags(self, component: str = "delivery") -> dict[str, str]:
        return {
            "project": PROJECT,
            "environment": "delivery",
            "component": component,
            "managed-by": "cdktf",
            "owner": self.tags.owner,
            "cost-center": self.tags.cost_center,
        }


DELIVERY_FILE = "delivery.yaml"


# --------------------------------------------------------------------------------------
# Rules that span fields or environments: (description, check) where check yields problems.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One configuration problem, precise enough to fix without reading code."""

    environment: str
    field: str
    value: Any
    message: str

    def __str__(self) -> str:
        return f"{self.environment}: {self.field} = {self.value!r}: {self.message}"


class ConfigError(Exception):
    """Raised with every problem found; never caught inside the library."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{len(problems)} configuration problem(s):\n{lines}")


Rule = Callable[[Environment], Iterator[Problem]]


def _acu_rules(env: Environment) -> Iterator[Problem]:
    cap = env.database.capacity
    if not isinstance(cap, ServerlessCapacity):
        return
    where = "database.capacity"
    for field, value, message in serverless_capacity_problems(
        cap.min_acu, cap.max_acu, cap.seconds_until_auto_pause
    ):
        yield Problem(env.name, f"{where}.{field}", value, message)
    if env.production and cap.min_acu == 0:
        yield Problem(
            env.name,
            f"{where}.min_acu",
            str(cap.min_acu),
            "production databases must not auto-pause: min_acu must be >= 0.5",
        )


def _production_rules(env: Environment) -> Iterator[Problem]:
    if not env.production:
        return
    if env.network.az_count != 3:
        yield Problem(env.name, "network.az_count", env.network.az_count, "production spans 3 AZs")
    if env.network.nat_strategy != "per_az":
        yield Problem(
            env.name,
            "network.nat_strategy",
            env.network.nat_strategy,
            "production needs 'per_az' (no single NAT point of failure)",
        )
    if env.database.instance_count < 2:
        yield Problem(
            env.name,
            "database.instance_count",
            env.database.instance_count,
            "production needs >= 2 instances (writer + reader in another AZ)",
        )
    if env.database.backup_retention_days < 14:
        yield Problem(
            env.name,
            "database.backup_retention_days",
            env.database.backup_retention_days,
            "production keeps >= 14 days",
        )
    if env.database.deletion_protection is False:
        yield Problem(
            env.name,
            "database.deletion_protection",
            False,
            "production databases are deletion-protected",
        )
    if env.cache.num_cache_clusters < 2:
        yield Problem(
            env.name,
            "cache.num_cache_clusters",
            env.cache.num_cache_clusters,
            "production needs >= 2 nodes (multi-AZ automatic failover)",
        )
    if env.edge.waf_mode != "block":
        yield Problem(
            env.name,
            "edge.waf_mode",
            env.edge.waf_mode,
            "production WAF must block ('count' is for trials outside prod)",
        )
    if env.service.enable_execute_command:
        yield Problem(
            env.name, "service.enable_execute_command", True, "ECS Exec is off in production"
        )
    if env.service.min_count < 2:
        yield Problem(
            env.name, "service.min_count", env.service.min_count, "production runs >= 2 tasks"
        )
    if env.edge.deletion_protection is False:
        yield Problem(
            env.name,
            "edge.deletion_protection",
            False,
            "the production load balancer is deletion-protected",
        )
    if env.service.log_level == "DEBUG":
        yield Problem(
            env.name,
            "service.log_level",
            "DEBUG",
            "production logs at INFO or above (DEBUG may log request details)",
        )


def _service_rules(env: Environment) -> Iterator[Problem]:
    svc = env.service
    if svc.cpu not in FARGATE_SIZES:
        yield Problem(env.name, "service.cpu", svc.cpu, f"must be one of {sorted(FARGATE_SIZES)}")
    elif svc.memory_mib not in FARGATE_SIZES[svc.cpu]:
        allowed = FARGATE_SIZES[svc.cpu]
        yield Problem(
            env.name,
            "service.memory_mib",
            svc.memory_mib,
            f"with cpu {svc.cpu} Fargate allows {allowed[0]}..{allowed[-1]} "
            f"in steps of {allowed[1] - allowed[0]}",
        )
    if not svc.min_count <= svc.desired_count <= svc.max_count:
        yield Problem(
            env.name,
            "service.desired_count",
            svc.desired_count,
            f"must satisfy min_count ({svc.min_count}) <= desired_count <= "
            f"max_count ({svc.max_count})",
        )


#: Connections kept free for migrations, operators and RDS itself.
CONNECTION_HEADROOM = 20


def _connection_budget(env: Environment) -> Iterator[Problem]:
    svc = env.service
    needed = svc.max_count * (svc.db_pool_size + svc.db_max_overflow) + CONNECTION_HEADROOM
    if env.database.max_connections < needed:
        yield Problem(
            env.name,
            "database.max_connections",
            env.database.max_connections,
            f"must be >= service.max_count ({svc.max_count}) x (db_pool_size "
            f"({svc.db_pool_size}) + db_max_overflow ({svc.db_max_overflow})) + headroom "
            f"({CONNECTION_HEADROOM}) = {needed}",
        )


def _retention_rules(env: Environment) -> Iterator[Problem]:
    for field, value in (
        ("network.flow_log_retention_days", env.network.flow_log_retention_days),
        ("database.log_retention_days", env.database.log_retention_days),
        ("cache.log_retention_days", env.cache.log_retention_days),
        ("service.log_retention_days", env.service.log_retention_days),
        ("edge.waf_log_retention_days", env.edge.waf_log_retention_days),
    ):
        problem = retention_problem(value)
        if problem:
            yield Problem(env.name, field, value, problem)


def _cidr_list_rules(env: Environment) -> Iterator[Problem]:
    for field in ("allowed_cidrs", "admin_allowed_cidrs"):
        for cidr in getattr(env.edge, field):
            try:
                network = ipaddress.ip_network(cidr, strict=True)
            except ValueError as exc:
                yield Problem(env.name, f"edge.{field}", cidr, f"not a CIDR block ({exc})")
                continue
            if field == "admin_allowed_cidrs" and network.prefixlen < 8:
                yield Problem(
                    env.name,
                    f"edge.{field}",
                    cidr,
                    "too broad to restrict anything: name the admin networks (prefix /8 or longer)",
                )
    for path in env.edge.admin_paths:
        if not re.fullmatch(r"/[A-Za-z0-9._~/-]*", path):
            yield Problem(env.name, "edge.admin_paths", path, "must be a URL path like '/docs'")


#: The API's HTTP keep-alive (uvicorn --timeout-keep-alive): the ALB must close idle
#: connections first, or it may reuse one the app has just closed (a 502).
APP_KEEPALIVE_SECONDS = 75


def _edge_rules(env: Environment) -> Iterator[Problem]:
    if env.edge.idle_timeout_seconds >= APP_KEEPALIVE_SECONDS:
        yield Problem(
            env.name,
            "edge.idle_timeout_seconds",
            env.edge.idle_timeout_seconds,
            f"must be below the API's keep-alive ({APP_KEEPALIVE_SECONDS} s)",
        )
    # The load balancer is IPv4-only and the WAF IP set is an IPv4 set.
    for field in ("allowed_cidrs", "admin_allowed_cidrs"):
        for cidr in getattr(env.edge, field):
            try:
                network = ipaddress.ip_network(cidr, strict=True)
            except ValueError:
                continue  # reported by _cidr_list_rules
            if network.version != 4:
                yield Problem(
                    env.name,
                    f"edge.{field}",
                    cidr,
                    "must be IPv4 (the ALB and WAF IP set are IPv4)",
                )


def _domain_in_zone(env: Environment) -> Iterator[Problem]:
    zone = env.edge.hosted_zone_name
    if env.domain_name != zone and not env.domain_name.endswith("." + zone):
        yield Problem(
            env.name,
            "domain_name",
            env.domain_name,
            f"must be inside edge.hosted_zone_name ({zone})",
        )


RULES: tuple[Rule, ...] = (
    _acu_rules,
    _production_rules,
    _service_rules,
    _connection_budget,
    _retention_rules,
    _cidr_list_rules,
    _edge_rules,
    _domain_in_zone,
)


def _cross_environment_problems(envs: dict[str, Environment]) -> Iterator[Problem]:
    items = sorted(envs.items())
    for i, (name_a, a) in enumerate(items):
        net_a = ipaddress.IPv4Network(a.network.vpc_cidr)
        for name_b, b in items[i + 1 :]:
            net_b = ipaddress.IPv4Network(b.network.vpc_cidr)
            if net_a.overlaps(net_b):
                yield Problem(
                    name_b,
                    "network.vpc_cidr",
                    b.network.vpc_cidr,
                    f"overlaps {name_a}'s {a.network.vpc_cidr}; VPC CIDRs must be "
                    "disjoint so environments can be peered",
                )
            if a.domain_name == b.domain_name:
                yield Problem(name_b, "domain_name", b.domain_name, f"already used by {name_a}")


def _format_pydantic(env: str, error: ValidationError) -> Iterator[Problem]:
    for err in error.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-"))
        # Discriminated unions put the tag name in the location; keep the user's field path.
        loc = re.sub(r"\.(serverless|provisioned)(?=\.|$)", "", loc)
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown key (typo?); see stacks/environments/model.py for the fields"
        value = err.get("input")
        if isinstance(value, dict):
            value = "{...}"
        yield Problem(env, loc or "<file>", value, message)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The config models an annotation (possibly a union) can hold."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def _known_keys_only(model: type[BaseModel], data: Any) -> Any:
    """A copy of ``data`` keeping only the keys ``model`` declares, recursively."""
    if not isinstance(data, dict):
        return data
    kept: dict[str, Any] = {}
    for key, value in data.items():
        field = model.model_fields.get(key)
        if field is None:
            continue
        candidates = _models_in(field.annotation)
        if len(candidates) > 1 and isinstance(value, dict):  # a union tagged by ``kind``
            candidates = [
                m
                for m in candidates
                if "kind" in m.model_fields
                and get_args(m.model_fields["kind"].annotation) == (value.get("kind"),)
            ]
        kept[key] = _known_keys_only(candidates[0], value) if len(candidates) == 1 else value
    return kept


def _parse(name: str, data: Any) -> tuple[Environment | None, Environment | None, list[Problem]]:
    """(the environment or None, a best-effort reading for further checks, problems).

    When the only structural problems are unknown keys (typos), the file is read once more
    without them, so the cross-field and cross-environment rules still run and every
    problem of the file is reported in one go rather than one round at a time."""
    if not isinstance(data, dict):
        return None, None, [Problem(name, "<file>", type(data).__name__, "must be a mapping")]
    if data.get("name", name) != name:
        problem = Problem(name, "name", data.get("name"), f"must match the file name {name!r}")
        return None, None, [problem]
    raw = {"name": name, **data}
    try:
        env = Environment.model_validate(raw)
    except ValidationError as exc:
        problems = list(_format_pydantic(name, exc))
        try:
            best_effort = Environment.model_validate(_known_keys_only(Environment, raw))
        except ValidationError:
            return None, None, problems
        return None, best_effort, problems + [p for rule in RULES for p in rule(best_effort)]
    return env, env, [problem for rule in RULES for problem in rule(env)]


def parse_environment(name: str, data: Any) -> tuple[Environment | None, list[Problem]]:
    """Validate one environment's raw data; return it (or None) and its problems."""
    env, _, problems = _parse(name, data)
    return env, problems


def env_order(name: str) -> tuple[int, str]:
    """Promotion order: dev, staging, prod, then any other environment alphabetically."""
    return ({"dev": 0, "staging": 1, "prod": 2}.get(name, 3), name)


def load_environments(
    directory: Path = ENVIRONMENTS_DIR, raw: dict[str, Any] | None = None
) -> dict[str, Environment]:
    """Load and validate every environment; raise one ConfigError listing every problem.

    ``raw`` (name -> parsed YAML) replaces the files, for tests and tooling.
    """
    if raw is None:
        raw = {}
        for path in sorted(directory.glob("*.yaml")):
            if path.name == DELIVERY_FILE:
                continue
            try:
                raw[path.stem] = yaml.safe_load(path.read_text(encoding="utf-8"))
            except yaml.YAMLError as exc:
                raw[path.stem] = _YamlFailure(str(exc))
    problems: list[Problem] = []
    envs: dict[str, Environment] = {}
    readable: dict[str, Environment] = {}  # valid, or valid once unknown keys are dropped
    if not raw:
        problems.append(Problem("<none>", str(directory), None, "no environment files found"))
    for name, data in sorted(raw.items(), key=lambda item: env_order(item[0])):
        if isinstance(data, _YamlFailure):
            problems.append(Problem(name, "<file>", None, f"not valid YAML: {data.reason}"))
            continue
        env, best_effort, env_problems = _parse(name, data)
        problems.extend(env_problems)
        if env is not None:
            envs[name] = env
        if best_effort is not None:
            readable[name] = best_effort
    problems.extend(_cross_environment_problems(readable))
    if problems:
        raise ConfigError(problems)
    return envs


@dataclass(frozen=True)
class _YamlFailure:
    reason: str


def load_delivery(directory: Path = ENVIRONMENTS_DIR) -> DeliveryConfig:
    """Load and validate ``delivery.yaml``; raise one ConfigError listing every problem."""
    path = directory / DELIVERY_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(
            [Problem("delivery", "<file>", str(path), f"unreadable: {exc}")]
        ) from None
    if not isinstance(data, dict):
        raise ConfigError([Problem("delivery", "<file>", type(data).__name__, "must be a mapping")])
    try:
        return DeliveryConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(list(_format_pydantic("delivery", exc))) from None
