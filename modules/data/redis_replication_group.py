"""An ElastiCache (Valkey or Redis OSS) replication group: TLS only, AUTH, CMK, logs."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from cdktf_cdktf_provider_aws.elasticache_parameter_group import (
    ElasticacheParameterGroup,
    ElasticacheParameterGroupParameter,
)
from cdktf_cdktf_provider_aws.elasticache_replication_group import (
    ElasticacheReplicationGroup,
    ElasticacheReplicationGroupLogDeliveryConfiguration,
)
from cdktf_cdktf_provider_aws.elasticache_subnet_group import ElasticacheSubnetGroup
from cdktf_cdktf_provider_aws.iam_role import IamRole
from constructs import Construct

from modules.network.client_port_security_group import client_port_security_group
from modules.observability.log_group import EncryptedLogGroup, EncryptedLogGroupProps
from modules.observability.retention import retention_problem
from modules.security.generated_secret_value import (
    GeneratedSecretValue,
    GeneratedSecretValueProps,
)
from modules.security.kms_key import KmsKey
from modules.security.secret import Secret, SecretProps

#: Oldest versions with ``transit_encryption_mode`` and AUTH over TLS: Redis OSS 7.0,
#: Valkey 7.2 (ElastiCache's first Valkey).
MIN_VERSION: dict[str, tuple[int, int]] = {"redis": (7, 0), "valkey": (7, 2)}
#: ElastiCache log types, each delivered to its own log group.
LOG_TYPES = ("slow-log", "engine-log")
_HHMM = r"([01]\d|2[0-3]):([0-5]\d)"
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, kw_only=True)
class RedisReplicationGroupProps:
    """Props of :class:`RedisReplicationGroup`.

    ``replication_group_id``: physical name (see stacks/naming.py), 1-40 of ``[a-z0-9-]``;
    also names the subnet, parameter and security groups.
    ``engine`` / ``engine_version``: ``valkey`` (>= 7.2) or ``redis`` (>= 7.0), pinned
    ``major.minor``. Default engine: ``valkey``.
    ``node_type``: e.g. ``cache.t4g.micro``.
    ``num_cache_clusters``: primary plus replicas, 1-6. With 2 or more, Multi-AZ and
    automatic failover are on (a replica in another AZ is promoted), placed round-robin
    over ``availability_zones``.
    ``vpc_id`` / ``subnet_ids``: the isolated-data subnets.
    ``client_security_group_id``: the only group admitted on ``port``.
    ``kms_key``: CMK for data at rest, snapshots and the AUTH token secret.
    ``logs_key``: CMK of the slow-log and engine-log groups.
    ``region``: scope of the secret-read grant.
    ``auth_secret_name``: Secrets Manager name of the generated AUTH token.
    ``log_group_prefix``: the two log groups are ``<prefix>/slow-log`` and
    ``<prefix>/engine-log``.
    ``log_retention_days``: Default 30.
    ``snapshot_retention_days``: 0-35 (0 turns snapshots off). Default 1.
    ``snapshot_window``: UTC ``hh:mm-hh:mm``, at least 60 minutes, not overlapping the
    maintenance window. Default ``16:00-17:00``.
    ``maintenance_window``: ``ddd:hh:mm-ddd:hh:mm`` UTC. Default ``sun:19:30-sun:20:30``.
    ``final_snapshot_identifier``: snapshot taken on destroy. Default: none.
    ``maxmemory_policy``: eviction when full. Default ``volatile-lru``: only keys with a TTL
    (cache entries, rate-limit windows) are evicted, never keys the service relies on.
    ``port``: Default 6379.
    ``auth_token_generation``: bump to rotate the token (ElastiCache ``ROTATE`` strategy
    keeps the previous token valid until the next change). Default 1.
    """

    replication_group_id: str
    engine_version: str
    node_type: str
    num_cache_clusters: int
    vpc_id: str
    subnet_ids: Sequence[str]
    availability_zones: Sequence[str]
    client_security_group_id: str
    kms_key: KmsKey
    logs_key: KmsKey
    region: str
    auth_secret_name: str
    log_group_prefix: str
    engine: Literal["redis", "valkey"] = "valkey"
    log_retention_days: int = 30
    snapshot_retention_days: int = 1
    snapshot_window: str = "16:00-17:00"
    maintenance_window: str = "sun:19:30-sun:20:30"
    final_snapshot_identifier: str | None = None
    maxmemory_policy: str = "volatile-lru"
    port: int = 6379
    auth_token_generation: int = 1


def _minutes(hhmm: re.Match[str], offset: int = 0) -> int:
    return int(hhmm.group(1 + offset)) * 60 + int(hhmm.group(2 + offset))


def _window_problems(p: RedisReplicationGroupProps) -> list[str]:
    problems = []
    snap = re.fullmatch(f"{_HHMM}-{_HHMM}", p.snapshot_window)
    maint = re.fullmatch(
        rf"({'|'.join(_DAYS)}):{_HHMM}-({'|'.join(_DAYS)}):{_HHMM}", p.maintenance_window
    )
    if not snap:
        problems.append(f"snapshot_window={p.snapshot_window!r}: 'hh:mm-hh:mm' (UTC)")
    elif (_minutes(snap, 2) - _minutes(snap)) % 1440 < 60:
        problems.append(f"snapshot_window={p.snapshot_window!r}: at least 60 minutes")
    if not maint:
        problems.append(f"maintenance_window={p.maintenance_window!r}: 'ddd:hh:mm-ddd:hh:mm' (UTC)")
    if snap and maint:
        week = 7 * 1440

        def minute_of_week(day: str, hour: str, minute: str) -> int:
            return _DAYS.index(day) * 1440 + int(hour) * 60 + int(minute)

        m_start = minute_of_week(*maint.group(1, 2, 3))
        m_len = (minute_of_week(*maint.group(4, 5, 6)) - m_start) % week
        s_start, s_len = _minutes(snap), (_minutes(snap, 2) - _minutes(snap)) % 1440
        # The snapshot window repeats daily; the maintenance window once a week.
        for day in range(8):
            start = (day - 1) * 1440 + s_start
            for m in (m_start - week, m_start, m_start + week):
                if start < m + m_len and m < start + s_len:
                    problems.append(
                        f"snapshot_window={p.snapshot_window!r}: overlaps maintenance_window "
                        f"{p.maintenance_window!r}"
                    )
                    return problems
    return problems


def _problems(p: RedisReplicationGroupProps) -> list[str]:
    problems: list[str] = []
    if not re.fullmatch(r"[a-z][a-z0-9-]{0,39}", p.replication_group_id) or (
        "--" in p.replication_group_id or p.replication_group_id.endswith("-")
    ):
        problems.append(
            f"replication_group_id={p.replication_group_id!r}: 1-40 of [a-z0-9-], starting a-z"
        )
    version = re.fullmatch(r"(\d+)\.(\d+)", p.engine_version)
    if p.engine not in MIN_VERSION:
        problems.append(f"engine={p.engine!r}: 'valkey' or 'redis'")
    elif not version:
        problems.append(f"engine_version={p.engine_version!r}: pin 'major.minor', e.g. '8.0'")
    elif (int(version.group(1)), int(version.group(2))) < MIN_VERSION[p.engine]:
        low = ".".join(map(str, MIN_VERSION[p.engine]))
        problems.append(
            f"engine_version={p.engine_version!r}: {p.engine} >= {low} (required TLS mode)"
        )
    if not re.fullmatch(r"cache\.[a-z0-9]+\.[a-z0-9]+", p.node_type):
        problems.append(f"node_type={p.node_type!r}: 'cache.<family>.<size>'")
    if not 1 <= p.num_cache_clusters <= 6:
        problems.append(f"num_cache_clusters={p.num_cache_clusters}: 1-6")
    azs = list(p.availability_zones)
    if not azs or len(set(azs)) != len(azs):
        problems.append(f"availability_zones={azs}: one or more distinct AZs")
    elif p.num_cache_clusters >= 2 and len(azs) < 2:
        problems.append(f"availability_zones={azs}: Multi-AZ needs a second AZ")
    if not 0 <= p.snapshot_retention_days <= 35:
        problems.append(f"snapshot_retention_days={p.snapshot_retention_days}: 0-35")
    retention = retention_problem(p.log_retention_days)
    if retention:
        problems.append(f"log_retention_days={p.log_retention_days}: {retention}")
    if p.auth_token_generation < 1:
        problems.append(f"auth_token_generation={p.auth_token_generation}: must be >= 1")
    problems += _window_problems(p)
    return problems


class RedisReplicationGroup(Construct):
    """A replication group (cluster mode off) in its own subnet and parameter groups.

    Guarantees: in-transit encryption **required** (plain-text connections refused) and
    at-rest encryption with the given CMK; AUTH token generated by AWS (64 alphanumeric
    characters, never a literal, never in the synthesized JSON; see
    :class:`~modules.security.generated_secret_value.GeneratedSecretValue`) and kept in a
    CMK-encrypted secret; Multi-AZ with automatic failover whenever there are >= 2 nodes;
    slow log and engine log delivered as JSON to CMK-encrypted, retention-bounded log
    groups; only ``client_security_group_id`` admitted, on ``port`` only, no egress; minor
    versions upgraded in the maintenance window.
    """

    def __init__(self, scope: Construct, id_: str, props: RedisReplicationGroupProps) -> None:
        super().__init__(scope, id_)
        problems = _problems(props)
        if problems:
            raise ValueError(f"RedisReplicationGroup {id_}: " + "; ".join(problems))
        self.props = props
        name = props.replication_group_id
        major = props.engine_version.split(".")[0]

        self.subnet_group = ElasticacheSubnetGroup(
            self,
            "subnet-group",
            name=name,
            description=f"{name}: isolated data subnets",
            subnet_ids=list(props.subnet_ids),
        )
        self.security_group = client_port_security_group(
            self,
            name=f"{name}-cache",
            description=f"{name} {props.engine}: {props.port} from the service only",
            vpc_id=props.vpc_id,
            port=props.port,
            client_security_group_id=props.client_security_group_id,
            rule_description=f"{props.engine} (TLS) from the service tasks",
        )
        self.parameter_group = ElasticacheParameterGroup(
            self,
            "parameter-group",
            name=f"{name}-{props.engine}{major}",
            family=f"{props.engine}{major}",
            description=f"{name}: eviction policy and slow log threshold",
            parameter=[
                ElasticacheParameterGroupParameter(name=key, value=value)
                for key, value in self.parameters
            ],
        )
        self.auth_secret = Secret(
            self,
            "auth-secret",
            SecretProps(
                name=props.auth_secret_name,
                description=f"AUTH token of {name} (generated; plain string)",
                kms_key=props.kms_key,
                region=props.region,
            ),
        )
        self.auth_token = GeneratedSecretValue(
            self,
            "auth-token",
            GeneratedSecretValueProps(
                secret=self.auth_secret,
                length=64,
                alphanumeric_only=True,
                generation=props.auth_token_generation,
            ),
        )
        self.log_groups = {
            log_type: EncryptedLogGroup(
                self,
                f"{log_type}-group",
                EncryptedLogGroupProps(
                    name=f"{props.log_group_prefix}/{log_type}",
                    retention_days=props.log_retention_days,
                    kms_key=props.logs_key,
                ),
            )
            for log_type in LOG_TYPES
        }
        multi_az = props.num_cache_clusters >= 2
        azs = list(props.availability_zones)
        self.replication_group = ElasticacheReplicationGroup(
            self,
            "replication-group",
            replication_group_id=name,
            description=f"kakehashi cache ({name})",
            engine=props.engine,
            engine_version=props.engine_version,
            node_type=props.node_type,
            num_cache_clusters=props.num_cache_clusters,
            preferred_cache_cluster_azs=[
                azs[i % len(azs)] for i in range(props.num_cache_clusters)
            ],
            port=props.port,
            subnet_group_name=self.subnet_group.name,
            security_group_ids=[self.security_group.id],
            parameter_group_name=self.parameter_group.name,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            at_rest_encryption_enabled="true",
            kms_key_id=props.kms_key.arn,
            auth_token=self.auth_token.value,
            auth_token_update_strategy="ROTATE",  # noqa: S106 - a strategy name, not a secret
            multi_az_enabled=multi_az,
            automatic_failover_enabled=multi_az,
            auto_minor_version_upgrade="true",
            snapshot_retention_limit=props.snapshot_retention_days,
            snapshot_window=props.snapshot_window,
            maintenance_window=props.maintenance_window,
            final_snapshot_identifier=props.final_snapshot_identifier,
            apply_immediately=False,
            log_delivery_configuration=[
                ElasticacheReplicationGroupLogDeliveryConfiguration(
                    destination=group.name,
                    destination_type="cloudwatch-logs",
                    log_format="json",
                    log_type=log_type,
                )
                for log_type, group in self.log_groups.items()
            ],
        )

    @property
    def parameters(self) -> list[tuple[str, str]]:
        """``(name, value)`` of the parameter group."""
        return [
            ("maxmemory-policy", self.props.maxmemory_policy),
            # Microseconds: log commands slower than 10 ms, keep the last 128.
            ("slowlog-log-slower-than", "10000"),
            ("slowlog-max-len", "128"),
        ]

    @property
    def primary_endpoint(self) -> str:
        """Follows failover; the service connects with ``rediss://`` (TLS) and AUTH."""
        return self.replication_group.primary_endpoint_address

    @property
    def reader_endpoint(self) -> str:
        return self.replication_group.reader_endpoint_address

    @property
    def port(self) -> int:
        return self.props.port

    @property
    def auth_secret_arn(self) -> str:
        """The secret holding the AUTH token as a plain string (not JSON)."""
        return self.auth_secret.arn

    @property
    def security_group_id(self) -> str:
        return self.security_group.id

    def grant_read_auth_secret(self, role: IamRole, id_: str = "read-redis-auth-secret") -> None:
        self.auth_secret.grant_read(role, id_)
