"""An S3 bucket that is private, encrypted, versioned, expiring and TLS-only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_logging import S3BucketLoggingA
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from constructs import Construct

from modules.iam import Condition, Statement, policy_document
from modules.security.kms_key import KmsKey

READ_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion")
LIST_ACTIONS = ("s3:ListBucket",)
WRITE_ACTIONS = ("s3:PutObject", "s3:DeleteObject")
#: Read objects and add new ones, never delete: what a pipeline or build role needs on an
#: artifact store (read its inputs, write its outputs).
READ_WRITE_ACTIONS = (*READ_ACTIONS, "s3:PutObject")


@dataclass(frozen=True, kw_only=True)
class LogDelivery:
    """Lets a log-delivery principal write objects under ``key_prefix`` of the bucket.

    ``principals``: e.g. ``{"Service": ["logging.s3.amazonaws.com"]}`` or the regional ELB
    account ``{"AWS": ["arn:aws:iam::582318560864:root"]}``.
    ``key_prefix``: object key prefix, ending with ``/``.
    ``conditions``: narrow the grant (``aws:SourceAccount``, ``aws:SourceArn``).
    Default: none.
    """

    sid: str
    principals: Mapping[str, Sequence[str]]
    key_prefix: str
    conditions: Sequence[Condition] = ()


@dataclass(frozen=True, kw_only=True)
class SecureBucketProps:
    """Props of :class:`SecureBucket`.

    ``name``: the globally unique bucket name (see stacks/naming.py).
    ``encryption``: ``SSE-KMS`` with ``kms_key`` (required then), or ``SSE-S3`` for buckets a
    service can only write with S3-managed keys (ALB access logs, S3 server access logs).
    Default: ``SSE-KMS``.
    ``kms_key``: the CMK for ``SSE-KMS``. Default: none (only valid with ``SSE-S3``).
    ``expiration_days``: current object versions expire after this. Default: never.
    ``noncurrent_expiration_days``: overwritten/deleted versions are removed after this.
    Default: 30.
    ``access_log_bucket``: where S3 server access logs of this bucket go (that bucket must
    admit ``logging.s3.amazonaws.com`` under ``access_log_prefix``). Default: not logged —
    only for the log bucket itself (logging a log bucket into itself would loop).
    ``access_log_prefix``: key prefix in ``access_log_bucket``. Default: ``s3/<name>/``.
    ``log_deliveries``: log-delivery principals that may write into this bucket. Default:
    none.
    ``force_destroy``: allow ``terraform destroy`` to delete a non-empty bucket. Default:
    false.
    ``abort_incomplete_upload_days``: incomplete multipart uploads are removed after this.
    Default: 7.
    ``deny_other_encryption_uploads``: the bucket policy also denies uploads that ask for an
    encryption other than SSE-KMS (uploads that name none get the default encryption); only
    with ``SSE-KMS``. Default: false (an upload may ask for SSE-S3).
    """

    name: str
    encryption: Literal["SSE-KMS", "SSE-S3"] = "SSE-KMS"
    kms_key: KmsKey | None = None
    expiration_days: int | None = None
    noncurrent_expiration_days: int = 30
    access_log_bucket: SecureBucket | None = None
    access_log_prefix: str | None = None
    log_deliveries: Sequence[LogDelivery] = field(default_factory=tuple)
    force_destroy: bool = False
    abort_incomplete_upload_days: int = 7
    deny_other_encryption_uploads: bool = False


class SecureBucket(Construct):
    """Guarantees: every public access path blocked; ACLs disabled (bucket owner enforced);
    default encryption (SSE-KMS with a bucket key, or SSE-S3); versioning on; a lifecycle that
    removes noncurrent versions and incomplete uploads (and current objects when
    ``expiration_days`` is set); a bucket policy denying any request not made over TLS (and,
    with ``deny_other_encryption_uploads``, any upload asking for another encryption).
    """

    def __init__(self, scope: Construct, id_: str, props: SecureBucketProps) -> None:
        super().__init__(scope, id_)
        problems = []
        if props.encryption == "SSE-KMS" and props.kms_key is None:
            problems.append("encryption='SSE-KMS' needs kms_key")
        if props.encryption == "SSE-S3" and props.kms_key is not None:
            problems.append("kms_key is only used with encryption='SSE-KMS'")
        if props.expiration_days is not None and props.expiration_days < 1:
            problems.append(f"expiration_days={props.expiration_days}: must be >= 1")
        if props.noncurrent_expiration_days < 1:
            problems.append(
                f"noncurrent_expiration_days={props.noncurrent_expiration_days}: must be >= 1"
            )
        if props.abort_incomplete_upload_days < 1:
            problems.append(
                f"abort_incomplete_upload_days={props.abort_incomplete_upload_days}: must be >= 1"
            )
        if props.deny_other_encryption_uploads and props.encryption != "SSE-KMS":
            problems.append("deny_other_encryption_uploads needs encryption='SSE-KMS'")
        for delivery in props.log_deliveries:
            if not delivery.key_prefix.endswith("/"):
                problems.append(f"log_deliveries[{delivery.sid}].key_prefix must end with '/'")
        if problems:
            raise ValueError(f"SecureBucket {id_}: " + "; ".join(problems))
        self.props = props
        self.bucket = S3Bucket(self, "bucket", bucket=props.name, force_destroy=props.force_destroy)
        S3BucketPublicAccessBlock(
            self,
            "public-access-block",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        S3BucketOwnershipControls(
            self,
            "ownership",
            bucket=self.bucket.id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
        )
        kms = props.kms_key
        S3BucketServerSideEncryptionConfigurationA(
            self,
            "encryption",
            bucket=self.bucket.id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=(
                        S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                            sse_algorithm="aws:kms" if kms else "AES256",
                            kms_master_key_id=kms.arn if kms else None,
                        )
                    ),
                    bucket_key_enabled=True if kms else None,
                )
            ],
        )
        versioning = S3BucketVersioningA(
            self,
            "versioning",
            bucket=self.bucket.id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
        )
        S3BucketLifecycleConfiguration(
            self,
            "lifecycle",
            bucket=self.bucket.id,
            rule=[
                S3BucketLifecycleConfigurationRule(
                    id="expire",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    expiration=[
                        S3BucketLifecycleConfigurationRuleExpiration(days=props.expiration_days)
                    ]
                    if props.expiration_days
                    else None,
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=props.noncurrent_expiration_days
                        )
                    ],
                    abort_incomplete_multipart_upload=[
                        S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                            days_after_initiation=props.abort_incomplete_upload_days
                        )
                    ],
                )
            ],
            depends_on=[versioning],
        )
        if props.access_log_bucket is not None:
            S3BucketLoggingA(
                self,
                "access-logging",
                bucket=self.bucket.id,
                target_bucket=props.access_log_bucket.bucket.id,
                target_prefix=props.access_log_prefix or f"s3/{props.name}/",
            )
        statements = [
            Statement(
                sid="DenyInsecureTransport",
                effect="Deny",
                actions=["s3:*"],
                resources=[self.arn, self.objects_arn()],
                principals={"AWS": ["*"]},
                conditions=[
                    Condition(test="Bool", variable="aws:SecureTransport", values=["false"])
                ],
            )
        ]
        if props.deny_other_encryption_uploads:
            statements.append(
                Statement(
                    sid="DenyOtherEncryption",
                    effect="Deny",
                    actions=["s3:PutObject"],
                    resources=[self.objects_arn()],
                    principals={"AWS": ["*"]},
                    conditions=[
                        Condition(
                            test="StringNotEqualsIfExists",
                            variable="s3:x-amz-server-side-encryption",
                            values=["aws:kms"],
                        )
                    ],
                )
            )
        statements += [
            Statement(
                sid=d.sid,
                actions=["s3:PutObject"],
                resources=[self.objects_arn(d.key_prefix)],
                principals=d.principals,
                conditions=d.conditions,
            )
            for d in props.log_deliveries
        ]
        self.policy = S3BucketPolicy(
            self,
            "policy",
            bucket=self.bucket.id,
            policy=policy_document(self, "policy-doc", statements),
        )

    @property
    def name(self) -> str:
        """The bucket name (a plain string: names are decided at synth time)."""
        return self.props.name

    @property
    def arn(self) -> str:
        return f"arn:aws:s3:::{self.props.name}"

    def objects_arn(self, key_prefix: str = "") -> str:
        """ARN pattern of the objects under ``key_prefix`` (all objects by default)."""
        return f"{self.arn}/{key_prefix}*"

    def grant_read(self, role: IamRole, id_: str = "s3-read") -> None:
        """Inline policy on ``role``: list the bucket, read its objects, decrypt with its key."""
        statements = [
            Statement(sid="ListBucket", actions=list(LIST_ACTIONS), resources=[self.arn]),
            Statement(
                sid="ReadObjects", actions=list(READ_ACTIONS), resources=[self.objects_arn()]
            ),
        ]
        if self.props.kms_key is not None:
            statements.append(
                Statement(
                    sid="DecryptObjects",
                    actions=["kms:Decrypt"],
                    resources=[self.props.kms_key.arn],
                )
            )
        IamRolePolicy(
            role,
            id_,
            name=id_,
            role=role.id,
            policy=policy_document(role, f"{id_}-doc", statements),
        )
