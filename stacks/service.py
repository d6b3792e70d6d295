"""``kakehashi-<env>-service``: ALB + WAF, the ECS Fargate API service, its S3 buckets and
the environment's alarms and dashboard.

Built on the network stack (VPC, logs key, the tasks' security group) and the data stack
(database, cache, carrier secret, JWT key); cross-stack references become Terraform remote
state lookups.
"""

from __future__ import annotations

from dataclasses import replace

from cdktf import Fn, TerraformOutput, Token
from cdktf_cdktf_provider_aws.data_aws_route53_zone import DataAwsRoute53Zone
from cdktf_cdktf_provider_aws.route53_record import Route53Record, Route53RecordAlias
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import (
    VpcSecurityGroupIngressRule,
)
from constructs import Construct

from modules.compute.autoscaling import ServiceAutoscaling, ServiceAutoscalingProps
from modules.compute.cluster import FargateCluster, FargateClusterProps
from modules.compute.fargate_service import FargateService, FargateServiceProps
from modules.compute.task_definition import (
    ContainerHealthCheck,
    ContainerTaskDefinition,
    TaskDefinitionProps,
)
from modules.compute.task_roles import TaskRoles, TaskRolesProps
from modules.edge.alb import PublicLoadBalancer, PublicLoadBalancerProps, elb_log_delivery
from modules.edge.certificate import DnsValidatedCertificate, DnsValidatedCertificateProps
from modules.edge.web_acl import WebAcl, WebAclProps
from modules.iam import source_conditions
from modules.observability.alarm_topic import AlarmTopic, AlarmTopicProps
from modules.observability.alarms import Alarms, AlarmsProps
from modules.observability.dashboard import Dashboard, DashboardProps
from modules.observability.log_group import EncryptedLogGroup, EncryptedLogGroupProps
from modules.security.kms_key import KmsKey, KmsKeyProps
from modules.storage.secure_bucket import LogDelivery, SecureBucket, SecureBucketProps
from stacks import naming
from stacks.base import KakehashiStack
from stacks.data import DataStack
from stacks.environments import Environment
from stacks.monitoring import ServiceMonitoring
from stacks.network import NetworkStack
from stacks.release import Release

#: The container contract (see the brief and app/core/config.py).
CONTAINER_PORT = 8000
LIVENESS_PATH = "/healthz"
JWT_AUDIENCE = "kakehashi-api"
MIGRATION_COMMAND = ("alembic", "upgrade", "head")
#: Target draining before ECS sends SIGTERM: in-flight requests (bounded by the app's own
#: timeouts, a few seconds) finish; then the app's 30 s graceful shutdown runs well inside
#: the 120 s stop timeout. Longer only slows every deployment down.
DEREGISTRATION_DELAY_SECONDS = 20
#: Alarms whose firing during a deployment rolls the service back.
ROLLBACK_ALARMS = ("alb-5xx-rate", "target-5xx-rate", "target-latency-p99")
HEALTH_CHECK_COMMAND = (
    "CMD",
    "python",
    "-c",
    "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/healthz', timeout=3)",
)


def _text(value: str | float | int) -> str:
    """A container environment value: ECS wants strings, tokens stay tokens."""
    if isinstance(value, str):
        return value
    if Token.is_unresolved(value):
        return Fn.tostring(value)
    return str(int(value))


class ServiceStack(KakehashiStack):
    """Exposes ``alb``, ``web_acl``, ``cluster``, ``service``, ``task_definition``,
    ``migration_task_definition``, ``roles``, ``alarms``, ``alarm_topic``,
    ``static_bucket`` and ``access_logs_bucket``."""

    def __init__(
        self,
        scope: Construct,
        env: Environment,
        network: NetworkStack,
        data: DataStack,
        release: Release,
    ) -> None:
        super().__init__(scope, env=env, component="service")
        self.release = release
        service_sg = network.service_security_group

        # ---- storage ----------------------------------------------------------------------
        static_name = naming.static_bucket(env.name, env.account_id)
        self.access_logs_bucket = SecureBucket(
            self,
            "access-logs",
            SecureBucketProps(
                name=naming.access_logs_bucket(env.name, env.account_id),
                encryption="SSE-S3",  # ALB and S3 access log delivery support only SSE-S3
                expiration_days=env.edge.access_log_expiration_days,
                log_deliveries=[
                    elb_log_delivery(env.region, env.account_id, "alb"),
                    LogDelivery(
                        sid="S3ServerAccessLogDelivery",
                        principals={"Service": ["logging.s3.amazonaws.com"]},
                        key_prefix="s3/",
                        conditions=source_conditions(env.account_id, f"arn:aws:s3:::{static_name}"),
                    ),
                ],
            ),
        )
        self.static_key = KmsKey(
            self,
            "static-key",
            KmsKeyProps(
                alias=f"kakehashi/{env.name}/static",
                description=f"S3 static files of kakehashi {env.name}",
                account_id=env.account_id,
            ),
        )
        self.static_bucket = SecureBucket(
            self,
            "static",
            SecureBucketProps(
                name=static_name,
                encryption="SSE-KMS",
                kms_key=self.static_key,
                access_log_bucket=self.access_logs_bucket,
                access_log_prefix="s3/static/",
            ),
        )

        # ---- edge -------------------------------------------------------------------------
        zone = DataAwsRoute53Zone(self, "zone", name=env.edge.hosted_zone_name, private_zone=False)
        if env.edge.certificate_arn:
            certificate_arn = env.edge.certificate_arn
        else:
            certificate_arn = DnsValidatedCertificate(
                self,
                "certificate",
                DnsValidatedCertificateProps(domain_name=env.domain_name, zone_id=zone.zone_id),
            ).certificate_arn
        self.alb = PublicLoadBalancer(
            self,
            "alb",
            PublicLoadBalancerProps(
                name=naming.load_balancer(env.name),
                target_group_name=naming.target_group(env.name),
                vpc_id=network.vpc.vpc_id,
                subnet_ids=network.vpc.subnet_ids("public"),
                certificate_arn=certificate_arn,
                target_security_group_id=service_sg.id,
                access_logs_bucket=self.access_logs_bucket,
                allowed_cidrs=env.edge.allowed_cidrs,
                target_port=CONTAINER_PORT,
                health_check_path=LIVENESS_PATH,
                health_check_interval_seconds=env.edge.health_check_interval_seconds,
                healthy_threshold=env.edge.healthy_threshold,
                unhealthy_threshold=env.edge.unhealthy_threshold,
                deregistration_delay_seconds=DEREGISTRATION_DELAY_SECONDS,
                idle_timeout_seconds=env.edge.idle_timeout_seconds,
                deletion_protection=env.alb_deletion_protection,
            ),
        )
        Route53Record(
            self,
            "alias",
            zone_id=zone.zone_id,
            name=env.domain_name,
            type="A",
            alias=Route53RecordAlias(
                name=self.alb.load_balancer.dns_name,
                zone_id=self.alb.load_balancer.zone_id,
                evaluate_target_health=True,
            ),
        )
        self.web_acl = WebAcl(
            self,
            "waf",
            WebAclProps(
                name=naming.web_acl(env.name),
                resource_arn=self.alb.arn,
                account_id=env.account_id,
                region=env.region,
                log_group_name=naming.waf_log_group(env.name),
                logs_key=network.logs_key,
                log_retention_days=env.edge.waf_log_retention_days,
                rate_limit=env.edge.waf_rate_limit,
                admin_paths=env.edge.admin_paths,
                admin_allowed_cidrs=env.edge.admin_allowed_cidrs,
                mode=env.edge.waf_mode,
            ),
        )

        # ---- the tasks' network rules (the group itself belongs to the network stack) ------
        VpcSecurityGroupIngressRule(
            self,
            "service-from-alb",
            security_group_id=service_sg.id,
            description="API port from the load balancer only",
            ip_protocol="tcp",
            from_port=CONTAINER_PORT,
            to_port=CONTAINER_PORT,
            referenced_security_group_id=self.alb.security_group.id,
        )
        # (id, description, port, peer security group, peer CIDR)
        egress: list[tuple[str, str, int, str | None, str | None]] = [
            (
                "service-to-database",
                "PostgreSQL (Aurora)",
                data.database.port,
                data.database.security_group_id,
                None,
            ),
            (
                "service-to-cache",
                "Redis/Valkey (TLS)",
                data.cache.port,
                data.cache.security_group_id,
                None,
            ),
            (
                "service-to-endpoints",
                "AWS APIs through the VPC interface endpoints",
                443,
                network.endpoints.security_group.id,
                None,
            ),
            (
                "service-to-https",
                "HTTPS to the carrier API and S3 (gateway endpoint)",
                443,
                None,
                "0.0.0.0/0",
            ),
        ]
        for rule_id, description, port, peer_sg, peer_cidr in egress:
            VpcSecurityGroupEgressRule(
                self,
                rule_id,
                security_group_id=service_sg.id,
                description=description,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                referenced_security_group_id=peer_sg,
                cidr_ipv4=peer_cidr,
            )

        # ---- compute ----------------------------------------------------------------------
        self.log_group = EncryptedLogGroup(
            self,
            "api-logs",
            EncryptedLogGroupProps(
                name=naming.api_log_group(env.name),
                retention_days=env.service.log_retention_days,
                kms_key=network.logs_key,
            ),
        )
        self.roles = TaskRoles(
            self,
            "roles",
            TaskRolesProps(
                execution_role_name=naming.execution_role(env.name),
                task_role_name=naming.task_role(env.name),
                account_id=env.account_id,
                region=env.region,
                image_repository_arn=_repository_arn(release.image_repository_uri),
                log_group_name=naming.api_log_group(env.name),
                enable_execute_command=env.service.enable_execute_command,
            ),
        )
        # The agent injects the three secrets; the app re-reads them by ARN at runtime
        # (rotation), so both roles read exactly these secrets (grants include kms:Decrypt).
        for role in (self.roles.execution_role, self.roles.task_role):
            data.database.grant_read_master_secret(role)
            data.cache.grant_read_auth_secret(role)
            data.carrier_secret.grant_read(role, "read-carrier-secret")
        data.jwt_signing_key.grant_sign(self.roles.task_role, "jwt-signing")

        self.cluster = FargateCluster(
            self, "cluster", FargateClusterProps(name=naming.ecs_cluster(env.name))
        )
        environment = self.container_environment(env, data, release)
        secrets = {
            "DATABASE_PASSWORD": Fn.join("", [data.database.master_secret_arn, ":password::"]),
            "REDIS_AUTH_TOKEN": data.cache.auth_secret_arn,
            "CARRIER_API_KEY": data.carrier_secret.arn,
        }
        release_tags = {"release": release.label}
        api_task = TaskDefinitionProps(
            family=naming.task_family(env.name),
            cpu=env.service.cpu,
            memory_mib=env.service.memory_mib,
            container_name=naming.api_container(),
            image=release.image,
            execution_role_arn=self.roles.execution_role.arn,
            task_role_arn=self.roles.task_role.arn,
            log_group_name=self.log_group.name,
            log_stream_prefix="api",
            region=env.region,
            environment=environment,
            secrets=secrets,
            container_port=CONTAINER_PORT,
            health_check=ContainerHealthCheck(command=HEALTH_CHECK_COMMAND),
            tags=release_tags,
        )
        self.task_definition = ContainerTaskDefinition(self, "task", api_task)
        # Same image, settings and secrets; a one-off command instead of the server.
        self.migration_task_definition = ContainerTaskDefinition(
            self,
            "migration-task",
            replace(
                api_task,
                family=naming.migration_task_family(env.name),
                command=MIGRATION_COMMAND,
                container_port=None,
                health_check=None,
                log_stream_prefix="migrate",
            ),
        )

        # ---- observability (before the service: its deployments roll back on alarms) -------
        self.alarm_topic = AlarmTopic(
            self,
            "alarm-topic",
            AlarmTopicProps(
                name=naming.alarm_topic(env.name),
                key_alias=f"kakehashi/{env.name}/alarms",
                account_id=env.account_id,
                email=env.alarm_email,
            ),
        )
        metrics = ServiceMonitoring(env, self.alb, self.web_acl)
        self.alarms = Alarms(
            self,
            "alarms",
            AlarmsProps(
                name_prefix=naming.alarm_prefix(env.name),
                topic_arn=self.alarm_topic.arn,
                specs=metrics.alarm_specs(),
            ),
        )

        self.service = FargateService(
            self,
            "service",
            FargateServiceProps(
                name=naming.ecs_service(env.name),
                cluster_arn=self.cluster.arn,
                task_definition_arn=self.task_definition.arn,
                subnet_ids=network.vpc.subnet_ids("private_app"),
                security_group_ids=[service_sg.id],
                target_group_arn=self.alb.target_group.arn,
                container_name=naming.api_container(),
                container_port=CONTAINER_PORT,
                desired_count=env.service.desired_count,
                rollback_alarm_names=self.alarms.names(*ROLLBACK_ALARMS),
                minimum_healthy_percent=100,
                maximum_percent=200,
                health_check_grace_seconds=env.service.health_check_grace_seconds,
                enable_execute_command=env.service.enable_execute_command,
                tags=release_tags,
                # The target group must be attached to a listener before targets register.
                depends_on=[self.alb.https_listener],
            ),
        )
        ServiceAutoscaling(
            self,
            "autoscaling",
            ServiceAutoscalingProps(
                cluster_name=self.cluster.name,
                service_name=self.service.name,
                min_capacity=env.service.min_count,
                max_capacity=env.service.max_count,
                load_balancer_arn_suffix=self.alb.arn_suffix,
                target_group_arn_suffix=self.alb.target_group_arn_suffix,
                cpu_target_percent=env.service.cpu_target_percent,
                requests_per_target=env.service.requests_per_target,
                scale_in_cooldown_seconds=env.service.scale_in_cooldown_seconds,
                scale_out_cooldown_seconds=env.service.scale_out_cooldown_seconds,
            ),
        )
        Dashboard(
            self,
            "dashboard",
            DashboardProps(
                name=naming.dashboard(env.name),
                region=env.region,
                sections=metrics.dashboard_sections(self.alarms),
            ),
        )

        # ---- outputs ----------------------------------------------------------------------
        for output, value in release.outputs().items():
            TerraformOutput(self, output, value=value)
        TerraformOutput(self, "url", value=f"https://{env.domain_name}")
        TerraformOutput(self, "alb_dns_name", value=self.alb.load_balancer.dns_name)
        TerraformOutput(self, "cluster_name", value=self.cluster.name)
        TerraformOutput(self, "service_name", value=self.service.name)
        TerraformOutput(self, "task_definition_arn", value=self.task_definition.arn)
        TerraformOutput(
            self, "migration_task_definition_arn", value=self.migration_task_definition.arn
        )
        # What `aws ecs run-task` needs for the migration task (pipelines).
        TerraformOutput(self, "task_subnet_ids", value=network.vpc.subnet_ids("private_app"))
        TerraformOutput(self, "task_security_group_id", value=service_sg.id)
        TerraformOutput(self, "static_bucket_name", value=self.static_bucket.name)
        TerraformOutput(self, "alarm_topic_arn", value=self.alarm_topic.arn)
        TerraformOutput(self, "web_acl_arn", value=self.web_acl.arn)

    @staticmethod
    def container_environment(
        env: Environment, data: DataStack, release: Release
    ) -> dict[str, str]:
        """Every non-secret setting of the container contract (secrets go in ``secrets``)."""
        return {
            "APP_ENV": env.name,
            "APP_VERSION": release.version,
            "GIT_REVISION": release.git_revision,
            "LOG_LEVEL": env.service.log_level,
            "AWS_REGION": env.region,
            "DATABASE_HOST": data.database.endpoint,
            "DATABASE_PORT": _text(data.database.port),
            "DATABASE_NAME": data.database.database_name,
            "DATABASE_USER": data.database.master_username,
            "DATABASE_SECRET_ARN": data.database.master_secret_arn,
            # The connection budget (model rule) assumes exactly this pool per task.
            "DATABASE_POOL_SIZE": str(env.service.db_pool_size),
            "DATABASE_MAX_OVERFLOW": str(env.service.db_max_overflow),
            "REDIS_HOST": data.cache.primary_endpoint,
            "REDIS_PORT": _text(data.cache.port),
            "REDIS_TLS": "true",
            "REDIS_AUTH_SECRET_ARN": data.cache.auth_secret_arn,
            "CARRIER_BASE_URL": env.service.carrier_base_url,
            "CARRIER_SECRET_ARN": data.carrier_secret.arn,
            "JWT_SIGNER": "kms",
            "JWT_KMS_KEY_ID": data.jwt_signing_key.arn,
            "JWT_ISSUER": f"https://{env.domain_name}",
            "JWT_AUDIENCE": JWT_AUDIENCE,
        }


def _repository_arn(repository_uri: str) -> str:
    """``<account>.dkr.ecr.<region>.amazonaws.com/<name>`` -> the repository ARN."""
    host, _, repository = repository_uri.partition("/")
    account, _, _, region = host.split(".")[:4]
    return f"arn:aws:ecr:{region}:{account}:repository/{repository}"
