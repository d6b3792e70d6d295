"""AWS Backup for a resource: an encrypted vault, a daily plan and its selection."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.backup_plan import (
    BackupPlan as _BackupPlan,
)
from cdktf_cdktf_provider_aws.backup_plan import (
    BackupPlanRule,
    BackupPlanRuleLifecycle,
)
from cdktf_cdktf_provider_aws.backup_selection import BackupSelection
from cdktf_cdktf_provider_aws.backup_vault import BackupVault
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from modules.iam import service_role
from modules.security.kms_key import KmsKey

#: AWS managed policies AWS Backup needs to take and restore recovery points.
BACKUP_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"
RESTORE_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores"


@dataclass(frozen=True, kw_only=True)
class BackupPlanProps:
    """Props of :class:`BackupPlan`.

    ``name``: vault, plan and role name prefix, e.g. ``kakehashi-prod-aurora``.
    ``resource_arns``: what is backed up (e.g. the Aurora cluster ARN).
    ``kms_key``: CMK encrypting the vault's recovery points.
    ``retention_days``: how long daily recovery points are kept, 1-36500.
    ``schedule``: AWS Backup cron expression (UTC). Default: daily at 19:00 UTC (04:00 JST),
    after the Aurora automated backup window.
    """

    name: str
    account_id: str
    resource_arns: Sequence[str]
    kms_key: KmsKey
    retention_days: int
    schedule: str = "cron(0 19 * * ? *)"


class BackupPlan(Construct):
    """Guarantees: recovery points independent of the resource's own automated backups
    (they survive the resource's deletion), encrypted with a CMK, kept for a bounded time;
    the backup role is assumable only by AWS Backup for this account."""

    def __init__(self, scope: Construct, id_: str, props: BackupPlanProps) -> None:
        super().__init__(scope, id_)
        problems = []
        if not 1 <= props.retention_days <= 36500:
            problems.append(f"retention_days={props.retention_days}: must be 1-36500")
        if not props.resource_arns:
            problems.append("resource_arns: give at least one resource")
        if not props.schedule.startswith("cron("):
            problems.append(f"schedule={props.schedule!r}: an AWS Backup cron(...) expression")
        if problems:
            raise ValueError(f"BackupPlan {id_}: " + "; ".join(problems))
        self.vault = BackupVault(self, "vault", name=props.name, kms_key_arn=props.kms_key.arn)
        self.plan = _BackupPlan(
            self,
            "plan",
            name=props.name,
            rule=[
                BackupPlanRule(
                    rule_name="daily",
                    target_vault_name=self.vault.name,
                    schedule=props.schedule,
                    start_window=60,
                    completion_window=360,
                    lifecycle=BackupPlanRuleLifecycle(delete_after=props.retention_days),
                )
            ],
        )
        self.role = service_role(
            self,
            "role",
            name=f"{props.name}-backup",
            service="backup.amazonaws.com",
            sid="AwsBackup",
            account_id=props.account_id,
        )
        for index, arn in enumerate((BACKUP_POLICY_ARN, RESTORE_POLICY_ARN)):
            IamRolePolicyAttachment(self, f"managed-{index}", role=self.role.name, policy_arn=arn)
        # AWS Backup encrypts recovery points with the vault key on the service's behalf.
        props.kms_key.grant_encrypt_decrypt(self.role, "backup-vault-key")
        BackupSelection(
            self,
            "selection",
            name=props.name,
            plan_id=self.plan.id,
            iam_role_arn=self.role.arn,
            resources=list(props.resource_arns),
        )
