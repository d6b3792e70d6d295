"""``kakehashi-<env>-data``: Aurora PostgreSQL, ElastiCache, the data and JWT keys, secrets."""

from __future__ import annotations

from cdktf import TerraformOutput
from constructs import Construct

from modules.data.aurora_postgres import SERVERLESS, AuroraPostgres, AuroraPostgresProps
from modules.data.redis_replication_group import (
    RedisReplicationGroup,
    RedisReplicationGroupProps,
)
from modules.security.kms_key import KmsKey, KmsKeyProps
from modules.security.secret import Secret, SecretProps
from stacks import naming
from stacks.base import KakehashiStack
from stacks.environments import Environment
from stacks.environments.model import ServerlessCapacity
from stacks.network import NetworkStack

#: Write-only attributes (the generated Redis AUTH token's secret version) need 1.11.
REQUIRED_TERRAFORM = ">= 1.11"


class DataStack(KakehashiStack):
    """Exposes, for the service stack: ``data_key`` (CMK of every data store and secret),
    ``jwt_signing_key`` (ECC_NIST_P256 SIGN_VERIFY; grant with ``grant_sign``),
    ``database`` (:class:`AuroraPostgres`), ``cache`` (:class:`RedisReplicationGroup`) and
    ``carrier_secret`` (:class:`Secret`, value set out of band).

    Two symmetric keys per environment, on purpose: this ``data`` key encrypts business
    data (database storage, snapshots, Performance Insights, the cache, every secret) while
    the network stack's ``logs`` key encrypts only CloudWatch Logs. Log readers (operators,
    SIEM exports) are granted the logs key and so can never decrypt a snapshot or secret,
    and the data key's policy admits no service principal at all: AWS services use it only
    through grants made on behalf of callers already allowed by IAM (``kms:ViaService``).
    """

    def __init__(self, scope: Construct, env: Environment, network: NetworkStack) -> None:
        super().__init__(scope, env=env, component="data")
        self.add_override("terraform.required_version", REQUIRED_TERRAFORM)
        name = naming.prefix(env.name)
        self.data_key = KmsKey(
            self,
            "data-key",
            KmsKeyProps(
                alias=f"kakehashi/{env.name}/data",
                description=f"Data at rest and secrets of kakehashi {env.name}",
                account_id=env.account_id,
            ),
        )
        # Asymmetric: the API signs JWTs with kms:Sign, verifiers use the public key; the
        # private key is generated in and never leaves KMS. Such keys cannot rotate: a new
        # key (and a JWKS carrying both) is the rotation procedure (docs/data.md).
        self.jwt_signing_key = KmsKey(
            self,
            "jwt-signing-key",
            KmsKeyProps(
                alias=f"kakehashi/{env.name}/jwt-signing",
                description=f"JWT signing (ES256) for kakehashi {env.name}",
                account_id=env.account_id,
                key_spec="ECC_NIST_P256",
                key_usage="SIGN_VERIFY",
            ),
        )
        isolated = network.vpc.subnet_ids("isolated_data")
        db = env.database
        cap = db.capacity
        min_acu = max_acu = None
        auto_pause = None
        instance_class = SERVERLESS
        if isinstance(cap, ServerlessCapacity):
            min_acu, max_acu, auto_pause = cap.min_acu, cap.max_acu, cap.seconds_until_auto_pause
        else:
            instance_class = cap.instance_class
        self.database = AuroraPostgres(
            self,
            "aurora",
            AuroraPostgresProps(
                cluster_identifier=naming.aurora_cluster(env.name),
                engine_version=db.engine_version,
                database_name=naming.database_name(),
                vpc_id=network.vpc.vpc_id,
                subnet_ids=isolated,
                availability_zones=env.availability_zones,
                client_security_group_id=network.service_security_group.id,
                kms_key=self.data_key,
                logs_key=network.logs_key,
                account_id=env.account_id,
                region=env.region,
                instance_count=db.instance_count,
                max_connections=db.max_connections,
                instance_class=instance_class,
                serverless_min_acu=min_acu,
                serverless_max_acu=max_acu,
                seconds_until_auto_pause=auto_pause,
                backup_retention_days=db.backup_retention_days,
                preferred_backup_window=db.preferred_backup_window,
                preferred_maintenance_window=db.preferred_maintenance_window,
                deletion_protection=env.deletion_protection,
                # A final snapshot is always taken in production; elsewhere a destroy is a
                # destroy (a forgotten snapshot costs money and holds data).
                skip_final_snapshot=not env.production and not env.deletion_protection,
                log_retention_days=db.log_retention_days,
            ),
        )
        cache = env.cache
        self.cache = RedisReplicationGroup(
            self,
            "cache",
            RedisReplicationGroupProps(
                replication_group_id=naming.redis_replication_group(env.name),
                engine=cache.engine,
                engine_version=cache.engine_version,
                node_type=cache.node_type,
                num_cache_clusters=cache.num_cache_clusters,
                vpc_id=network.vpc.vpc_id,
                subnet_ids=isolated,
                availability_zones=env.availability_zones,
                client_security_group_id=network.service_security_group.id,
                kms_key=self.data_key,
                logs_key=network.logs_key,
                region=env.region,
                auth_secret_name=naming.secret_name(env.name, "redis-auth"),
                log_group_prefix=naming.log_group(env.name, "elasticache"),
                log_retention_days=cache.log_retention_days,
                snapshot_retention_days=cache.snapshot_retention_days,
                snapshot_window=cache.snapshot_window,
                maintenance_window=cache.maintenance_window,
                final_snapshot_identifier=f"{name}-cache-final" if env.production else None,
                auth_token_generation=cache.auth_token_generation,
            ),
        )
        self.carrier_secret = Secret(
            self,
            "carrier-secret",
            SecretProps(
                name=naming.secret_name(env.name, "carrier-api"),
                description=(
                    "Carrier API key (plain string). Set out of band: "
                    "aws secretsmanager put-secret-value; Terraform never writes it."
                ),
                kms_key=self.data_key,
                region=env.region,
            ),
        )
        self._outputs()

    def _outputs(self) -> None:
        """Plain values for operators and the verifier. No output carries a secret value;
        the ones naming where secrets live are marked sensitive to keep them out of CI
        logs all the same."""
        db, cache = self.database, self.cache
        for key, value in (
            ("database_endpoint", db.endpoint),
            ("database_reader_endpoint", db.reader_endpoint),
            ("database_port", db.port),
            ("database_name", db.database_name),
            ("database_security_group_id", db.security_group_id),
            ("cache_primary_endpoint", cache.primary_endpoint),
            ("cache_port", cache.port),
            ("cache_security_group_id", cache.security_group_id),
            ("data_kms_key_arn", self.data_key.arn),
            ("jwt_signing_key_arn", self.jwt_signing_key.arn),
        ):
            TerraformOutput(self, key, value=value)
        for key, value in (
            ("database_master_secret_arn", db.master_secret_arn),
            ("cache_auth_secret_arn", cache.auth_secret_arn),
            ("carrier_secret_arn", self.carrier_secret.arn),
        ):
            TerraformOutput(self, key, value=value, sensitive=True)
