"""The pipeline's artifact store: a private, versioned, CMK-encrypted, TLS-only S3 bucket."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
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

#: What a pipeline or build role needs on the artifacts (read inputs, write outputs).
READ_WRITE_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion", "s3:PutObject")
READ_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion")


@dataclass(frozen=True, kw_only=True)
class ArtifactBucketProps:
    """Props of :class:`ArtifactBucket`.

    ``name``: globally unique bucket name (include the account id).
    ``kms_key``: CMK for SSE-KMS (with an S3 bucket key, to bound KMS calls).
    ``expiry_days``: artifacts (and their old versions) expire after. Default: 30 (a
    release's artifacts only matter while it is being promoted).
    """

    name: str
    kms_key: KmsKey
    expiry_days: int = 30


class ArtifactBucket(Construct):
    """Guarantees: all public access blocked; ACLs disabled (bucket owner enforced);
    versioned; SSE-KMS with the CMK by default; requests without TLS and uploads with another
    encryption are denied; artifacts expire."""

    def __init__(self, scope: Construct, id_: str, props: ArtifactBucketProps) -> None:
        super().__init__(scope, id_)
        if not 1 <= props.expiry_days <= 365:
            raise ValueError(f"ArtifactBucket {id_}: expiry_days={props.expiry_days}: 1-365")
        self.name = props.name
        self.bucket = S3Bucket(self, "bucket", bucket=props.name)
        S3BucketPublicAccessBlock(
            self,
            "public-access",
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
        S3BucketVersioningA(
            self,
            "versioning",
            bucket=self.bucket.id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
        )
        S3BucketServerSideEncryptionConfigurationA(
            self,
            "encryption",
            bucket=self.bucket.id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                        sse_algorithm="aws:kms", kms_master_key_id=props.kms_key.arn
                    ),
                    bucket_key_enabled=True,
                )
            ],
        )
        S3BucketLifecycleConfiguration(
            self,
            "lifecycle",
            bucket=self.bucket.id,
            rule=[
                S3BucketLifecycleConfigurationRule(
                    id="expire-artifacts",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    expiration=[
                        S3BucketLifecycleConfigurationRuleExpiration(days=props.expiry_days)
                    ],
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=props.expiry_days
                        )
                    ],
                    abort_incomplete_multipart_upload=[
                        S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                            days_after_initiation=1
                        )
                    ],
                )
            ],
        )
        bucket_arn = f"arn:aws:s3:::{props.name}"
        S3BucketPolicy(
            self,
            "policy",
            bucket=self.bucket.id,
            policy=policy_document(
                self,
                "policy-doc",
                [
                    Statement(
                        sid="DenyInsecureTransport",
                        effect="Deny",
                        actions=["s3:*"],
                        resources=[bucket_arn, f"{bucket_arn}/*"],
                        principals={"AWS": ["*"]},
                        conditions=[
                            Condition(test="Bool", variable="aws:SecureTransport", values=["false"])
                        ],
                    ),
                    Statement(
                        sid="DenyOtherEncryption",
                        effect="Deny",
                        actions=["s3:PutObject"],
                        resources=[f"{bucket_arn}/*"],
                        principals={"AWS": ["*"]},
                        conditions=[
                            Condition(
                                test="StringNotEqualsIfExists",
                                variable="s3:x-amz-server-side-encryption",
                                values=["aws:kms"],
                            )
                        ],
                    ),
                ],
            ),
        )

    @property
    def arn(self) -> str:
        """The bucket ARN (derived from the name: no token, usable in any policy)."""
        return f"arn:aws:s3:::{self.name}"

    @property
    def objects_arn(self) -> str:
        return f"arn:aws:s3:::{self.name}/*"
