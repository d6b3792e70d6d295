"""VPC flow logs (all traffic) to an encrypted, retention-bounded CloudWatch log group."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from modules.iam import Statement, policy_document, service_role
from modules.observability.log_group import EncryptedLogGroup, EncryptedLogGroupProps
from modules.security.kms_key import KmsKey

#: What the flow-logs service needs on its log group (AWS documentation, IAM role for
#: publishing flow logs to CloudWatch Logs).
FLOW_LOG_ACTIONS = (
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "logs:DescribeLogGroups",
    "logs:DescribeLogStreams",
)


@dataclass(frozen=True, kw_only=True)
class VpcFlowLogsProps:
    """Props of :class:`VpcFlowLogs`.

    ``name``: prefix for the role and log group names, e.g. ``kakehashi-dev``.
    ``account_id`` / ``region``: where the log group lives (scopes the trust policy).
    ``retention_days``: log retention. ``kms_key``: CMK admitting CloudWatch Logs.
    ``traffic_type``: ALL, ACCEPT or REJECT. Default: ALL (investigations need both).
    ``max_aggregation_interval_seconds``: 60 or 600. Default: 60 (finer timelines).
    """

    name: str
    vpc_id: str
    account_id: str
    region: str
    retention_days: int
    kms_key: KmsKey
    traffic_type: str = "ALL"
    max_aggregation_interval_seconds: int = 60


class VpcFlowLogs(Construct):
    """Guarantees: every packet decision of the VPC is logged to a CMK-encrypted group whose
    retention is bounded; the delivery role can write only to that group and can be assumed
    only by the flow-logs service for this account."""

    def __init__(self, scope: Construct, id_: str, props: VpcFlowLogsProps) -> None:
        super().__init__(scope, id_)
        if props.traffic_type not in ("ALL", "ACCEPT", "REJECT"):
            raise ValueError(
                f"VpcFlowLogs {id_}: traffic_type={props.traffic_type!r}: ALL, ACCEPT or REJECT"
            )
        if props.max_aggregation_interval_seconds not in (60, 600):
            raise ValueError(
                f"VpcFlowLogs {id_}: max_aggregation_interval_seconds="
                f"{props.max_aggregation_interval_seconds}: 60 or 600"
            )
        self.log_group = EncryptedLogGroup(
            self,
            "logs",
            EncryptedLogGroupProps(
                name=f"/{props.name.replace('-', '/', 1)}/vpc-flow-logs",
                retention_days=props.retention_days,
                kms_key=props.kms_key,
            ),
        )
        self.role = service_role(
            self,
            "role",
            name=f"{props.name}-vpc-flow-logs",
            service="vpc-flow-logs.amazonaws.com",
            sid="FlowLogsService",
            account_id=props.account_id,
            source_arn=f"arn:aws:ec2:{props.region}:{props.account_id}:vpc-flow-log/*",
        )
        IamRolePolicy(
            self,
            "publish",
            name="publish-flow-logs",
            role=self.role.id,
            policy=policy_document(
                self,
                "publish-doc",
                [
                    Statement(
                        sid="WriteFlowLogGroup",
                        actions=FLOW_LOG_ACTIONS,
                        resources=[self.log_group.arn, f"{self.log_group.arn}:*"],
                    )
                ],
            ),
        )
        self.flow_log = FlowLog(
            self,
            "flow-log",
            vpc_id=props.vpc_id,
            traffic_type=props.traffic_type,
            log_destination_type="cloud-watch-logs",
            log_destination=self.log_group.arn,
            iam_role_arn=self.role.arn,
            max_aggregation_interval=props.max_aggregation_interval_seconds,
        )
