"""The ECR repository every environment pulls the API image from, by digest."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf_cdktf_provider_aws.ecr_lifecycle_policy import EcrLifecyclePolicy
from cdktf_cdktf_provider_aws.ecr_repository import (
    EcrRepository,
    EcrRepositoryEncryptionConfiguration,
    EcrRepositoryImageScanningConfiguration,
)
from cdktf_cdktf_provider_aws.ecr_repository_policy import EcrRepositoryPolicy
from constructs import Construct

from modules.iam import Condition, Statement, policy_document
from modules.security.kms_key import KmsKey

#: What a puller needs on the repository (the puller's own account grants
#: ecr:GetAuthorizationToken, which has no resource).
PULL_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
)
#: What a publisher needs on the repository to push an image.
PUSH_ACTIONS = (
    *PULL_ACTIONS,
    "ecr:CompleteLayerUpload",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
    "ecr:DescribeImages",
)


@dataclass(frozen=True, kw_only=True)
class CrossAccountPuller:
    """Roles of another account that may pull: ``account_id`` and the role names (exact, or
    IAM wildcards) admitted through ``aws:PrincipalArn``."""

    sid: str
    account_id: str
    role_names: Sequence[str]


@dataclass(frozen=True, kw_only=True)
class ImageRepositoryProps:
    """Props of :class:`ImageRepository`.

    ``name``: repository name, e.g. ``kakehashi/api``.
    ``kms_key``: CMK encrypting the images.
    ``pullers``: other accounts' roles allowed to pull. Default: none (owning account only).
    ``keep_releases``: tagged images kept; older ones expire. Default: 50.
    ``untagged_expiry_days``: untagged images (superseded layers, failed pushes) expire
    after this many days. Default: 7.
    """

    name: str
    kms_key: KmsKey
    pullers: Sequence[CrossAccountPuller] = field(default_factory=tuple)
    keep_releases: int = 50
    untagged_expiry_days: int = 7


def lifecycle_rules(keep_releases: int, untagged_expiry_days: int) -> Mapping[str, object]:
    """The ECR lifecycle policy document (data, rendered with json.dumps: no tokens)."""
    return {
        "rules": [
            {
                "rulePriority": 1,
                "description": f"Expire untagged images after {untagged_expiry_days} days",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": untagged_expiry_days,
                },
                "action": {"type": "expire"},
            },
            {
                "rulePriority": 2,
                "description": f"Keep the last {keep_releases} tagged releases",
                "selection": {
                    "tagStatus": "tagged",
                    "tagPatternList": ["*"],
                    "countType": "imageCountMoreThan",
                    "countNumber": keep_releases,
                },
                "action": {"type": "expire"},
            },
        ]
    }


class ImageRepository(Construct):
    """Guarantees: tags are immutable (a digest and its tag never diverge); every push is
    scanned; images are encrypted with the given CMK; untagged images expire and only the
    last ``keep_releases`` tagged ones are kept; other accounts can only pull, and only the
    listed roles of theirs."""

    def __init__(self, scope: Construct, id_: str, props: ImageRepositoryProps) -> None:
        super().__init__(scope, id_)
        problems = []
        if not 3 <= props.keep_releases <= 1000:
            problems.append(f"keep_releases={props.keep_releases}: must be 3-1000")
        if not 1 <= props.untagged_expiry_days <= 90:
            problems.append(f"untagged_expiry_days={props.untagged_expiry_days}: must be 1-90")
        for puller in props.pullers:
            if not puller.role_names:
                problems.append(f"pullers[{puller.sid}].role_names: give at least one role")
        if problems:
            raise ValueError(f"ImageRepository {id_}: " + "; ".join(problems))
        self.repository = EcrRepository(
            self,
            "repository",
            name=props.name,
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=EcrRepositoryImageScanningConfiguration(scan_on_push=True),
            encryption_configuration=[
                EcrRepositoryEncryptionConfiguration(
                    encryption_type="KMS", kms_key=props.kms_key.arn
                )
            ],
        )
        EcrLifecyclePolicy(
            self,
            "lifecycle",
            repository=self.repository.name,
            policy=json.dumps(
                lifecycle_rules(props.keep_releases, props.untagged_expiry_days), sort_keys=True
            ),
        )
        if props.pullers:
            # Principals are account roots narrowed by aws:PrincipalArn: ECR rejects a policy
            # naming a role that does not exist yet, and the environments' roles are created
            # after this repository.
            statements = [
                Statement(
                    sid=puller.sid,
                    actions=PULL_ACTIONS,
                    principals={"AWS": [f"arn:aws:iam::{puller.account_id}:root"]},
                    conditions=[
                        Condition(
                            test="ArnLike",
                            variable="aws:PrincipalArn",
                            values=[
                                f"arn:aws:iam::{puller.account_id}:role/{name}"
                                for name in puller.role_names
                            ],
                        )
                    ],
                )
                for puller in props.pullers
            ]
            EcrRepositoryPolicy(
                self,
                "policy",
                repository=self.repository.name,
                policy=policy_document(self, "policy-doc", statements),
            )

    @property
    def arn(self) -> str:
        return self.repository.arn

    @property
    def url(self) -> str:
        return self.repository.repository_url
