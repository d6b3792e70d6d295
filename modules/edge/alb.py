"""An internet-facing Application Load Balancer terminating TLS in front of IP targets."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.lb import Lb, LbAccessLogs
from cdktf_cdktf_provider_aws.lb_listener import (
    LbListener,
    LbListenerDefaultAction,
    LbListenerDefaultActionRedirect,
)
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup, LbTargetGroupHealthCheck
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import (
    VpcSecurityGroupIngressRule,
)
from constructs import Construct

from modules.storage.secure_bucket import LogDelivery, SecureBucket

#: TLS 1.3 with TLS 1.2 fallback (forward-secret ciphers only).
TLS13_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


@dataclass(frozen=True, kw_only=True)
class PublicLoadBalancerProps:
    """Props of :class:`PublicLoadBalancer`.

    ``name``: load balancer name (<= 32 characters); the security group is ``<name>-alb``.
    ``vpc_id`` / ``subnet_ids``: the public subnets, one per AZ (at least two).
    ``certificate_arn``: the HTTPS listener's certificate.
    ``target_security_group_id``: the targets' security group; the ALB's only egress.
    ``access_logs_bucket``: an SSE-S3 bucket admitting the regional ELB log delivery under
    ``access_logs_prefix``.
    ``target_group_name``: <= 32 characters. Default: ``name``.
    ``allowed_cidrs``: IPv4 sources admitted on 80 and 443. Default: the whole internet.
    ``target_port``: Default: 8000 (the API container's port).
    ``health_check_path``: the targets' liveness path. Default: ``/healthz``.
    ``health_check_interval_seconds`` / ``healthy_threshold`` / ``unhealthy_threshold``:
    Default: 15 s, 2, 3.
    ``deregistration_delay_seconds``: draining time; keep it below the task's stop timeout.
    Default: 20.
    ``idle_timeout_seconds``: keep it below the app's keep-alive (75 s). Default: 60.
    ``deletion_protection``: Default: true.
    ``access_logs_prefix``: Default: ``alb``.
    ``ssl_policy``: Default: :data:`TLS13_POLICY`.
    """

    name: str
    vpc_id: str
    subnet_ids: Sequence[str]
    certificate_arn: str
    target_security_group_id: str
    access_logs_bucket: SecureBucket
    target_group_name: str | None = None
    allowed_cidrs: Sequence[str] = ("0.0.0.0/0",)
    target_port: int = 8000
    health_check_path: str = "/healthz"
    health_check_interval_seconds: int = 15
    healthy_threshold: int = 2
    unhealthy_threshold: int = 3
    deregistration_delay_seconds: int = 20
    idle_timeout_seconds: int = 60
    deletion_protection: bool = True
    access_logs_prefix: str = "alb"
    ssl_policy: str = TLS13_POLICY


class PublicLoadBalancer(Construct):
    """Guarantees: HTTPS only (port 80 answers nothing but a 301 to HTTPS); TLS 1.3 policy;
    invalid header fields dropped; access logs on; the security group admits 80/443 from the
    allowed CIDRs only and sends traffic nowhere but the targets' security group on the
    target port; the target group health-checks the liveness path expecting exactly 200.
    """

    def __init__(self, scope: Construct, id_: str, props: PublicLoadBalancerProps) -> None:
        super().__init__(scope, id_)
        problems = []
        if len(props.name) > 32:
            problems.append(f"name={props.name!r}: at most 32 characters (ELB limit)")
        if props.target_group_name is not None and len(props.target_group_name) > 32:
            problems.append(f"target_group_name={props.target_group_name!r}: at most 32 characters")
        if len(props.subnet_ids) < 2:
            problems.append("subnet_ids: an ALB needs subnets in at least two AZs")
        for cidr in props.allowed_cidrs:
            try:
                if ipaddress.ip_network(cidr, strict=True).version != 4:
                    problems.append(f"allowed_cidrs: {cidr!r} is not IPv4 (the ALB is IPv4)")
            except ValueError:
                problems.append(f"allowed_cidrs: {cidr!r} is not a CIDR block")
        if not 1 <= props.idle_timeout_seconds <= 4000:
            problems.append(f"idle_timeout_seconds={props.idle_timeout_seconds}: 1-4000")
        if not 0 <= props.deregistration_delay_seconds <= 3600:
            problems.append(
                f"deregistration_delay_seconds={props.deregistration_delay_seconds}: 0-3600"
            )
        if not props.health_check_path.startswith("/"):
            problems.append(f"health_check_path={props.health_check_path!r}: must start with /")
        if props.access_logs_bucket.props.encryption != "SSE-S3":
            problems.append("access_logs_bucket: ALB access logs need an SSE-S3 bucket")
        if problems:
            raise ValueError(f"PublicLoadBalancer {id_}: " + "; ".join(problems))

        self.security_group = SecurityGroup(
            self,
            "sg",
            name=f"{props.name}-alb",
            description="Internet-facing ALB: 80/443 in, the service tasks out",
            vpc_id=props.vpc_id,
            tags={"Name": f"{props.name}-alb"},
        )
        for index, cidr in enumerate(props.allowed_cidrs):
            for port in (443, 80):
                VpcSecurityGroupIngressRule(
                    self,
                    f"ingress-{port}-{index}",
                    security_group_id=self.security_group.id,
                    description=f"{'HTTPS' if port == 443 else 'HTTP (redirect)'} from {cidr}",
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    cidr_ipv4=cidr,
                )
        VpcSecurityGroupEgressRule(
            self,
            "egress-targets",
            security_group_id=self.security_group.id,
            description="To the service tasks on the container port",
            ip_protocol="tcp",
            from_port=props.target_port,
            to_port=props.target_port,
            referenced_security_group_id=props.target_security_group_id,
        )

        self.load_balancer = Lb(
            self,
            "alb",
            name=props.name,
            load_balancer_type="application",
            internal=False,
            ip_address_type="ipv4",
            subnets=list(props.subnet_ids),
            security_groups=[self.security_group.id],
            drop_invalid_header_fields=True,
            desync_mitigation_mode="defensive",
            enable_deletion_protection=props.deletion_protection,
            idle_timeout=props.idle_timeout_seconds,
            enable_http2=True,
            access_logs=LbAccessLogs(
                bucket=props.access_logs_bucket.name,
                prefix=props.access_logs_prefix,
                enabled=True,
            ),
            # The ALB checks at creation that it may write to the bucket.
            depends_on=[props.access_logs_bucket.policy],
            tags={"Name": props.name},
        )
        self.target_group = LbTargetGroup(
            self,
            "targets",
            name=props.target_group_name or props.name,
            target_type="ip",
            protocol="HTTP",
            protocol_version="HTTP1",
            port=props.target_port,
            vpc_id=props.vpc_id,
            deregistration_delay=str(props.deregistration_delay_seconds),
            health_check=LbTargetGroupHealthCheck(
                enabled=True,
                protocol="HTTP",
                port="traffic-port",
                path=props.health_check_path,
                matcher="200",
                interval=props.health_check_interval_seconds,
                timeout=min(5, props.health_check_interval_seconds - 1),
                healthy_threshold=props.healthy_threshold,
                unhealthy_threshold=props.unhealthy_threshold,
            ),
            tags={"Name": props.name},
        )
        self.https_listener = LbListener(
            self,
            "https",
            load_balancer_arn=self.load_balancer.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=props.ssl_policy,
            certificate_arn=props.certificate_arn,
            default_action=[
                LbListenerDefaultAction(type="forward", target_group_arn=self.target_group.arn)
            ],
        )
        self.http_listener = LbListener(
            self,
            "http-redirect",
            load_balancer_arn=self.load_balancer.arn,
            port=80,
            protocol="HTTP",
            default_action=[
                LbListenerDefaultAction(
                    type="redirect",
                    redirect=LbListenerDefaultActionRedirect(
                        protocol="HTTPS", port="443", status_code="HTTP_301"
                    ),
                )
            ],
        )

    @property
    def arn(self) -> str:
        return self.load_balancer.arn

    @property
    def arn_suffix(self) -> str:
        """The ``LoadBalancer`` dimension of CloudWatch metrics."""
        return self.load_balancer.arn_suffix

    @property
    def target_group_arn_suffix(self) -> str:
        """The ``TargetGroup`` dimension of CloudWatch metrics."""
        return self.target_group.arn_suffix


#: The Elastic Load Balancing account that writes access logs, per supported region
#: (regions opened before August 2022 use an account principal, not a service principal).
ELB_LOG_DELIVERY_ACCOUNTS = {
    "ap-northeast-1": "582318560864",
    "ap-northeast-3": "383597477331",
}


def elb_log_delivery(region: str, account_id: str, key_prefix: str) -> LogDelivery:
    """The bucket-policy grant letting the regional ELB account write this account's access
    logs under ``<key_prefix>/AWSLogs/<account_id>/``."""
    if region not in ELB_LOG_DELIVERY_ACCOUNTS:
        raise ValueError(
            f"elb_log_delivery: region={region!r}: no ELB log-delivery account known; "
            f"supported: {sorted(ELB_LOG_DELIVERY_ACCOUNTS)}"
        )
    return LogDelivery(
        sid="ElbAccessLogDelivery",
        principals={"AWS": [f"arn:aws:iam::{ELB_LOG_DELIVERY_ACCOUNTS[region]}:root"]},
        key_prefix=f"{key_prefix}/AWSLogs/{account_id}/",
    )
