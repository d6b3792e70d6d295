"""A CloudWatch log group that is always encrypted and always expires."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from constructs import Construct

from modules.observability.retention import retention_problem
from modules.security.kms_key import KmsKey


@dataclass(frozen=True, kw_only=True)
class EncryptedLogGroupProps:
    """Props of :class:`EncryptedLogGroup`.

    ``name``: full log group name (e.g. ``/kakehashi/dev/vpc-flow-logs``).
    ``retention_days``: a value CloudWatch accepts, at most 731 (bounded by policy).
    ``kms_key``: the CMK encrypting the group; its policy must admit CloudWatch Logs
    (see :func:`modules.security.kms_key.logs_service_use`).
    """

    name: str
    retention_days: int
    kms_key: KmsKey


class EncryptedLogGroup(Construct):
    """Guarantees: KMS-encrypted with a CMK; bounded retention."""

    def __init__(self, scope: Construct, id_: str, props: EncryptedLogGroupProps) -> None:
        super().__init__(scope, id_)
        problem = retention_problem(props.retention_days)
        if problem:
            raise ValueError(
                f"EncryptedLogGroup {id_}: retention_days={props.retention_days}: {problem}"
            )
        self.log_group = CloudwatchLogGroup(
            self,
            "group",
            name=props.name,
            retention_in_days=props.retention_days,
            kms_key_id=props.kms_key.arn,
        )

    @property
    def arn(self) -> str:
        return self.log_group.arn

    @property
    def name(self) -> str:
        return self.log_group.name
