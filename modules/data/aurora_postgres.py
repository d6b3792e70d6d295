"""An Aurora PostgreSQL cluster with production defaults and intent-named grants."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from cdktf import Fn
from cdktf_cdktf_provider_aws.db_subnet_group import DbSubnetGroup
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.rds_cluster import (
    RdsCluster,
    RdsClusterServerlessv2ScalingConfiguration,
)
from cdktf_cdktf_provider_aws.rds_cluster_instance import RdsClusterInstance
from cdktf_cdktf_provider_aws.rds_cluster_parameter_group import (
    RdsClusterParameterGroup,
    RdsClusterParameterGroupParameter,
)
from constructs import Construct

from modules.data.aurora_capacity import serverless_capacity_problems
from modules.iam import Statement, policy_document, service_role
from modules.network.client_port_security_group import client_port_security_group
from modules.observability.log_group import EncryptedLogGroup, EncryptedLogGroupProps
from modules.observability.retention import retention_problem
from modules.security.kms_key import KmsKey
from modules.security.secret import grant_read_secret

SERVERLESS = "db.serverless"
#: The only log type Aurora PostgreSQL exports (the upgrade log is for major upgrades).
LOG_EXPORTS = ("postgresql",)
#: Enhanced monitoring granularities RDS accepts (0 would turn it off: not offered).
MONITORING_INTERVALS = (1, 5, 10, 15, 30, 60)
ENHANCED_MONITORING_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
CONNECT_ACTIONS = ("rds-db:connect",)
_IDENT = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_CLUSTER_ID = re.compile(r"^[a-z][a-z0-9-]{0,61}[a-z0-9]$")
#: Names PostgreSQL or RDS reserve; RDS refuses them as master user.
_RESERVED_USERS = frozenset({"postgres", "rdsadmin", "rds_superuser", "admin", "public"})


@dataclass(frozen=True, kw_only=True)
class AuroraPostgresProps:
    """Props of :class:`AuroraPostgres`.

    ``cluster_identifier``: physical name (see stacks/naming.py); also names the subnet
    group, parameter group, security group, monitoring role and log group.
    ``engine_version``: pinned ``major.minor`` (e.g. ``16.6``); minor upgrades are applied
    in the maintenance window (``auto_minor_version_upgrade``), majors never automatically.
    ``database_name`` / ``master_username``: lower-case identifiers. Default master user:
    ``kakehashi_admin``; its password is generated and rotated by RDS in Secrets Manager.
    ``iam_database_user``: the database user :meth:`AuroraPostgres.grant_connect` lets a
    role log in as with an IAM token (the user is created by a migration and granted
    ``rds_iam``). Default: ``kakehashi_app``.
    ``vpc_id`` / ``subnet_ids``: the isolated-data subnets, one per AZ.
    ``availability_zones``: instances are placed round-robin over these, writer first.
    ``client_security_group_id``: the only group admitted on ``port``.
    ``kms_key``: CMK for storage, the master secret and Performance Insights.
    ``logs_key``: CMK of the ``postgresql`` export log group.
    ``account_id`` / ``region``: build the ``rds-db:connect`` and Secrets Manager scopes.
    ``instance_count``: writer plus readers, 1-15.
    ``instance_class``: Default ``db.serverless`` (Serverless v2), which then needs
    ``serverless_min_acu`` and ``serverless_max_acu`` (0-256 / 1-256 in 0.5 steps) and
    accepts ``seconds_until_auto_pause`` (300-86400, only with a minimum of 0). Any
    ``db.<family>.<size>`` gives provisioned instances, and then the three must be unset.
    ``max_connections``: Postgres ``max_connections`` (static: applied at next reboot).
    ``port``: Default 5432.
    ``backup_retention_days``: 1-35. Default 14. Windows are UTC ``hh:mm-hh:mm`` and
    ``ddd:hh:mm-ddd:hh:mm``; Default ``17:00-18:00`` and ``sun:18:30-sun:19:30`` (Tokyo
    night).
    ``deletion_protection``: Default True. ``skip_final_snapshot``: Default False (a
    destroy leaves ``<cluster_identifier>-final``); set True only outside production.
    ``log_retention_days``: retention of the exported Postgres log. Default 90.
    ``performance_insights_retention_days``: 7 (free tier) or a multiple of 31 up to 731.
    Default 7.
    ``monitoring_interval_seconds``: enhanced monitoring granularity. Default 60.
    ``log_min_duration_statement_ms``: statements slower than this are logged. Default 1000.
    ``statement_timeout_ms``: server-side cap on one statement; migrations that need longer
    run ``SET statement_timeout`` in their own session. Default 60000 (the ALB idle timeout:
    nothing a request waits on may run longer). 0 disables (not allowed here).
    ``idle_in_transaction_session_timeout_ms``: sessions idle inside a transaction (holding
    locks and a connection) are ended. Default 60000.
    ``ca_cert_identifier``: the server certificate authority. Default ``rds-ca-rsa2048-g1``.
    """

    cluster_identifier: str
    engine_version: str
    database_name: str
    vpc_id: str
    subnet_ids: Sequence[str]
    availability_zones: Sequence[str]
    client_security_group_id: str
    kms_key: KmsKey
    logs_key: KmsKey
    account_id: str
    region: str
    instance_count: int
    max_connections: int
    master_username: str = "kakehashi_admin"
    iam_database_user: str = "kakehashi_app"
    instance_class: str = SERVERLESS
    serverless_min_acu: Decimal | None = None
    serverless_max_acu: Decimal | None = None
    seconds_until_auto_pause: int | None = None
    port: int = 5432
    backup_retention_days: int = 14
    preferred_backup_window: str = "17:00-18:00"
    preferred_maintenance_window: str = "sun:18:30-sun:19:30"
    deletion_protection: bool = True
    skip_final_snapshot: bool = False
    log_retention_days: int = 90
    performance_insights_retention_days: int = 7
    monitoring_interval_seconds: int = 60
    log_min_duration_statement_ms: int = 1000
    statement_timeout_ms: int = 60_000
    idle_in_transaction_session_timeout_ms: int = 60_000
    ca_cert_identifier: str = "rds-ca-rsa2048-g1"


def _problems(p: AuroraPostgresProps) -> list[str]:
    problems: list[str] = []

    def bad(field: str, value: object, allowed: str) -> None:
        problems.append(f"{field}={value!r}: {allowed}")

    if not _CLUSTER_ID.match(p.cluster_identifier) or "--" in p.cluster_identifier:
        bad("cluster_identifier", p.cluster_identifier, "1-63 of [a-z0-9-], starting a-z")
    if not re.fullmatch(r"\d+\.\d+", p.engine_version):
        bad("engine_version", p.engine_version, "pin 'major.minor', e.g. '16.6'")
    for field, ident in (
        ("database_name", p.database_name),
        ("master_username", p.master_username),
        ("iam_database_user", p.iam_database_user),
    ):
        if not _IDENT.match(ident):
            bad(field, ident, "a lower-case identifier of [a-z0-9_], starting a-z")
    if p.master_username in _RESERVED_USERS:
        bad("master_username", p.master_username, "reserved by PostgreSQL/RDS")
    if p.iam_database_user == p.master_username:
        bad("iam_database_user", p.iam_database_user, "must differ from master_username")
    if not 1 <= p.instance_count <= 15:
        bad("instance_count", p.instance_count, "writer plus readers: 1-15")
    if len(p.availability_zones) < 1 or len(set(p.availability_zones)) != len(p.availability_zones):
        bad("availability_zones", list(p.availability_zones), "one or more distinct AZs")
    elif p.instance_count >= 2 and len(p.availability_zones) < 2:
        bad("availability_zones", list(p.availability_zones), "readers need a second AZ")
    serverless_fields = (p.serverless_min_acu, p.serverless_max_acu, p.seconds_until_auto_pause)
    if p.instance_class == SERVERLESS:
        if p.serverless_min_acu is None or p.serverless_max_acu is None:
            bad(
                "serverless_min_acu/serverless_max_acu",
                (p.serverless_min_acu, p.serverless_max_acu),
                "both required with instance_class db.serverless",
            )
        else:
            for field, value, allowed in serverless_capacity_problems(
                p.serverless_min_acu, p.serverless_max_acu, p.seconds_until_auto_pause
            ):
                bad(field, value, allowed)
    elif not re.fullmatch(r"db\.[a-z0-9]+\.[a-z0-9]+", p.instance_class):
        bad("instance_class", p.instance_class, "'db.serverless' or 'db.<family>.<size>'")
    elif any(v is not None for v in serverless_fields):
        bad("serverless_*", serverless_fields, "only with instance_class db.serverless")
    if not 20 <= p.max_connections <= 5000:
        bad("max_connections", p.max_connections, "20-5000")
    if not 1 <= p.port <= 65535 or p.port in (1434, 3389):
        bad("port", p.port, "1-65535, not 1434 or 3389 (RDS reserves them)")
    if not 1 <= p.backup_retention_days <= 35:
        bad("backup_retention_days", p.backup_retention_days, "1-35")
    if not re.fullmatch(
        r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", p.preferred_backup_window
    ):
        bad("preferred_backup_window", p.preferred_backup_window, "'hh:mm-hh:mm' (UTC)")
    retention = retention_problem(p.log_retention_days)
    if retention:
        bad("log_retention_days", p.log_retention_days, retention)
    pi = p.performance_insights_retention_days
    if not (pi == 7 or (pi % 31 == 0 and 31 <= pi <= 731)):
        bad("performance_insights_retention_days", pi, "7, or a multiple of 31 up to 731")
    if p.monitoring_interval_seconds not in MONITORING_INTERVALS:
        bad("monitoring_interval_seconds", p.monitoring_interval_seconds, str(MONITORING_INTERVALS))
    for field, ms in (
        ("log_min_duration_statement_ms", p.log_min_duration_statement_ms),
        ("statement_timeout_ms", p.statement_timeout_ms),
        ("idle_in_transaction_session_timeout_ms", p.idle_in_transaction_session_timeout_ms),
    ):
        if not 1 <= ms <= 2_147_483_647:
            bad(field, ms, "1 to 2147483647 ms (0 would disable it)")
    if p.deletion_protection and p.skip_final_snapshot:
        bad("skip_final_snapshot", True, "a deletion-protected cluster keeps its final snapshot")
    return problems


class AuroraPostgres(Construct):
    """Aurora PostgreSQL in its own subnet group and security group.

    Guarantees: storage, master secret and Performance Insights encrypted with the given
    CMK; the master password is generated and kept by RDS in Secrets Manager (never in
    Terraform); IAM database authentication on; TLS required (``rds.force_ssl``, TLS >= 1.2)
    and scram-sha-256 password hashing; the ``postgresql`` log exported to a pre-created
    CMK-encrypted log group with bounded retention (created before the cluster, so RDS
    never creates an unencrypted, never-expiring one); enhanced monitoring and Performance
    Insights on every instance; instances spread round-robin over the AZs; nothing but
    ``client_security_group_id`` admitted, on ``port`` only, and no egress at all;
    copy-tags-to-snapshot; minor versions upgraded automatically, majors never.
    """

    def __init__(self, scope: Construct, id_: str, props: AuroraPostgresProps) -> None:
        super().__init__(scope, id_)
        problems = _problems(props)
        if problems:
            raise ValueError(f"AuroraPostgres {id_}: " + "; ".join(problems))
        self.props = props
        name = props.cluster_identifier
        major = props.engine_version.split(".")[0]

        self.subnet_group = DbSubnetGroup(
            self,
            "subnet-group",
            name=name,
            description=f"{name}: isolated data subnets",
            subnet_ids=list(props.subnet_ids),
        )
        self.security_group = client_port_security_group(
            self,
            name=f"{name}-aurora",
            description=f"{name} Aurora PostgreSQL: {props.port} from the service only",
            vpc_id=props.vpc_id,
            port=props.port,
            client_security_group_id=props.client_security_group_id,
            rule_description="PostgreSQL from the service tasks",
        )
        self.parameter_group = RdsClusterParameterGroup(
            self,
            "parameter-group",
            name=f"{name}-aurora-postgresql{major}",
            family=f"aurora-postgresql{major}",
            description=f"{name}: TLS only, statement logging and timeouts",
            parameter=[
                RdsClusterParameterGroupParameter(name=key, value=value, apply_method=apply_method)
                for key, value, apply_method in self.parameters
            ],
        )
        self.log_group = EncryptedLogGroup(
            self,
            "postgresql-log",
            EncryptedLogGroupProps(
                name=f"/aws/rds/cluster/{name}/postgresql",
                retention_days=props.log_retention_days,
                kms_key=props.logs_key,
            ),
        )
        self.monitoring_role = service_role(
            self,
            "monitoring-role",
            name=f"{name}-rds-monitoring",
            description=f"Enhanced monitoring of {name}",
            service="monitoring.rds.amazonaws.com",
            sid="RdsEnhancedMonitoring",
            # The trust has never had source conditions; adding them is its own change.
            account_id=None,
        )
        IamRolePolicyAttachment(
            self,
            "monitoring-policy",
            role=self.monitoring_role.name,
            policy_arn=ENHANCED_MONITORING_POLICY,
        )
        serverless = props.instance_class == SERVERLESS
        self.cluster = RdsCluster(
            self,
            "cluster",
            cluster_identifier=name,
            engine="aurora-postgresql",
            engine_mode="provisioned",
            engine_version=props.engine_version,
            allow_major_version_upgrade=False,
            database_name=props.database_name,
            master_username=props.master_username,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=props.kms_key.arn,
            storage_encrypted=True,
            kms_key_id=props.kms_key.arn,
            iam_database_authentication_enabled=True,
            port=props.port,
            db_subnet_group_name=self.subnet_group.name,
            vpc_security_group_ids=[self.security_group.id],
            db_cluster_parameter_group_name=self.parameter_group.name,
            backup_retention_period=props.backup_retention_days,
            preferred_backup_window=props.preferred_backup_window,
            preferred_maintenance_window=props.preferred_maintenance_window,
            copy_tags_to_snapshot=True,
            deletion_protection=props.deletion_protection,
            skip_final_snapshot=props.skip_final_snapshot,
            final_snapshot_identifier=None if props.skip_final_snapshot else f"{name}-final",
            enabled_cloudwatch_logs_exports=list(LOG_EXPORTS),
            serverlessv2_scaling_configuration=(
                RdsClusterServerlessv2ScalingConfiguration(
                    min_capacity=float(props.serverless_min_acu or 0),
                    max_capacity=float(props.serverless_max_acu or 0),
                    seconds_until_auto_pause=props.seconds_until_auto_pause,
                )
                if serverless
                else None
            ),
            depends_on=[self.log_group.log_group],
        )
        azs = list(props.availability_zones)
        self.instances = [
            RdsClusterInstance(
                self,
                f"instance-{index + 1}",
                identifier=f"{name}-{index + 1}",
                cluster_identifier=self.cluster.id,
                engine=self.cluster.engine,
                engine_version=self.cluster.engine_version,
                instance_class=props.instance_class,
                availability_zone=azs[index % len(azs)],
                # Failover promotes the lowest tier: readers in creation order, so the
                # first reader (in the next AZ) is the writer's standby.
                promotion_tier=min(index, 15),
                db_subnet_group_name=self.subnet_group.name,
                publicly_accessible=False,
                auto_minor_version_upgrade=True,
                copy_tags_to_snapshot=True,
                ca_cert_identifier=props.ca_cert_identifier,
                # Same window as the cluster: instance patching never lands at a random time.
                preferred_maintenance_window=props.preferred_maintenance_window,
                performance_insights_enabled=True,
                performance_insights_kms_key_id=props.kms_key.arn,
                performance_insights_retention_period=props.performance_insights_retention_days,
                monitoring_interval=props.monitoring_interval_seconds,
                monitoring_role_arn=self.monitoring_role.arn,
            )
            for index in range(props.instance_count)
        ]

    @property
    def parameters(self) -> list[tuple[str, str, str]]:
        """``(name, value, apply_method)`` of the cluster parameter group. Static
        parameters (preloaded libraries, max_connections) apply at the next reboot."""
        p = self.props
        return [
            ("rds.force_ssl", "1", "immediate"),
            ("ssl_min_protocol_version", "TLSv1.2", "immediate"),
            ("password_encryption", "scram-sha-256", "immediate"),
            ("log_min_duration_statement", str(p.log_min_duration_statement_ms), "immediate"),
            ("log_connections", "1", "immediate"),
            ("log_disconnections", "1", "immediate"),
            ("log_lock_waits", "1", "immediate"),
            ("log_statement", "ddl", "immediate"),
            ("log_autovacuum_min_duration", "10000", "immediate"),
            ("statement_timeout", str(p.statement_timeout_ms), "immediate"),
            (
                "idle_in_transaction_session_timeout",
                str(p.idle_in_transaction_session_timeout_ms),
                "immediate",
            ),
            ("max_connections", str(p.max_connections), "pending-reboot"),
            ("shared_preload_libraries", "pg_stat_statements", "pending-reboot"),
            ("pg_stat_statements.track", "top", "immediate"),
        ]

    # -- what the service needs ---------------------------------------------------------

    @property
    def endpoint(self) -> str:
        """The cluster (writer) endpoint: follows failover, unlike an instance endpoint."""
        return self.cluster.endpoint

    @property
    def reader_endpoint(self) -> str:
        return self.cluster.reader_endpoint

    @property
    def port(self) -> int:
        return self.props.port

    @property
    def master_username(self) -> str:
        return self.props.master_username

    @property
    def database_name(self) -> str:
        return self.props.database_name

    @property
    def iam_database_user(self) -> str:
        return self.props.iam_database_user

    @property
    def master_secret_arn(self) -> str:
        """The RDS-managed secret (JSON with ``username`` and ``password``)."""
        return self.cluster.master_user_secret.get(0).secret_arn

    @property
    def security_group_id(self) -> str:
        return self.security_group.id

    def grant_connect(self, role: IamRole, id_: str = "rds-connect") -> None:
        """Let ``role`` log in as ``iam_database_user`` with an IAM auth token, on this
        cluster only (no KMS involved: the token is signed with the role's credentials)."""
        p = self.props
        user_arn = Fn.format(
            "arn:aws:rds-db:%s:%s:dbuser:%s/%s",
            [p.region, p.account_id, self.cluster.cluster_resource_id, p.iam_database_user],
        )
        IamRolePolicy(
            role,
            id_,
            name=id_,
            role=role.id,
            policy=policy_document(
                role,
                f"{id_}-doc",
                [Statement(sid="ConnectAsAppUser", actions=CONNECT_ACTIONS, resources=[user_arn])],
            ),
        )

    def grant_read_master_secret(
        self, role: IamRole, id_: str = "read-database-master-secret"
    ) -> None:
        """Let ``role`` read the master secret, decrypting via Secrets Manager only."""
        grant_read_secret(
            role,
            id_,
            secret_arn=self.master_secret_arn,
            kms_key=self.props.kms_key,
            region=self.props.region,
        )
