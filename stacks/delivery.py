"""``kakehashi-delivery``: the delivery account's registry, pipeline and CI identities.

One stack, not one per environment: it holds what every environment shares. The ECR
repository every environment pulls from (by digest), the CodePipeline V2 that builds the
image once and promotes that digest dev -> staging -> (manual approval) -> prod, and the
GitHub Actions OIDC provider with the roles GitHub's deploy workflow assumes.

Cross-account model (hub and spoke): nothing here can change an environment directly.
Each environment account holds one ``kakehashi-<env>-deployer`` role (bootstrapped once,
see docs/pipelines.md) that trusts exactly two principals of this account: that
environment's CodeBuild deploy project role and that environment's GitHub deploy role. So
the dev deploy of either system can never touch staging or prod.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from cdktf import TerraformOutput
from cdktf_cdktf_provider_aws.codepipeline import (
    Codepipeline,
    CodepipelineArtifactStore,
    CodepipelineArtifactStoreEncryptionKey,
    CodepipelineStage,
    CodepipelineStageAction,
    CodepipelineTrigger,
    CodepipelineTriggerGitConfiguration,
    CodepipelineTriggerGitConfigurationPush,
    CodepipelineTriggerGitConfigurationPushBranches,
)
from cdktf_cdktf_provider_aws.codestarconnections_connection import (
    CodestarconnectionsConnection,
)
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from modules.delivery.build_project import BuildProject, BuildProjectProps
from modules.delivery.github_oidc import (
    GithubActionsRole,
    GithubActionsRoleProps,
    GithubOidcProvider,
    branch_subject,
    environment_subject,
)
from modules.delivery.image_repository import (
    PUSH_ACTIONS,
    CrossAccountPuller,
    ImageRepository,
    ImageRepositoryProps,
)
from modules.iam import Statement, policy_document, service_role
from modules.security.kms_key import ENCRYPT_DECRYPT_ACTIONS, KmsKey, KmsKeyProps, logs_service_use
from modules.storage.secure_bucket import READ_WRITE_ACTIONS, SecureBucket, SecureBucketProps
from stacks import naming
from stacks.base import KakehashiStack
from stacks.environments import DeliveryConfig, Environment

BUILD_BUILDSPEC = "pipelines/buildspecs/build.yml"
DEPLOY_BUILDSPEC = "pipelines/buildspecs/deploy.yml"
#: Variables the build buildspec exports (``env.exported-variables``) for the deploy stages.
BUILD_EXPORTS = ("IMAGE_DIGEST", "IMAGE_TAG", "RELEASE_VERSION")
#: ecr:GetAuthorizationToken has no resource type: IAM only accepts "*" for it.
REGISTRY_LOGIN = Statement(
    sid="RegistryLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"]
)


def _stage_id(env_name: str) -> str:
    return f"Deploy{env_name.capitalize()}"


def _variables(pairs: dict[str, str]) -> str:
    """CodePipeline's EnvironmentVariables configuration (JSON of literal text)."""
    return json.dumps(
        [{"name": k, "value": v, "type": "PLAINTEXT"} for k, v in pairs.items()],
        separators=(",", ":"),
    )


class DeliveryStack(KakehashiStack):
    """Exposes ``repository`` (ImageRepository), ``pipeline``, ``build`` and ``deploys``
    (BuildProject per environment), ``oidc`` and ``github_deploy_roles`` (per environment)."""

    def __init__(
        self, scope: Construct, delivery: DeliveryConfig, environments: Sequence[Environment]
    ) -> None:
        super().__init__(scope, env=delivery, component="delivery", state_env="delivery")
        account, region = delivery.account_id, delivery.region
        self.delivery = delivery
        names = [env.name for env in environments]
        if len(set(names)) != len(names) or not names:
            raise ValueError(f"DeliveryStack: environments={names}: distinct and non-empty")

        # Separate keys: log readers never decrypt artifacts; the registry key's grants are
        # ECR's own.
        self.artifacts_key = KmsKey(
            self,
            "artifacts-key",
            KmsKeyProps(
                alias="kakehashi/delivery/artifacts",
                description="kakehashi pipeline artifacts, build output and approval topic",
                account_id=account,
            ),
        )
        self.logs_key = KmsKey(
            self,
            "logs-key",
            KmsKeyProps(
                alias="kakehashi/delivery/logs",
                description="kakehashi delivery CloudWatch Logs",
                account_id=account,
                services=[logs_service_use(region, account)],
            ),
        )
        self.ecr_key = KmsKey(
            self,
            "ecr-key",
            KmsKeyProps(
                alias="kakehashi/delivery/ecr",
                description="kakehashi API images",
                account_id=account,
            ),
        )

        self.repository = ImageRepository(
            self,
            "images",
            ImageRepositoryProps(
                name=delivery.ecr_repository_name,
                kms_key=self.ecr_key,
                keep_releases=delivery.ecr_keep_releases,
                untagged_expiry_days=delivery.ecr_untagged_expiry_days,
                pullers=[
                    CrossAccountPuller(
                        sid=f"Pull{env.name.capitalize()}",
                        account_id=env.account_id,
                        role_names=[naming.execution_role(env.name)],
                    )
                    for env in environments
                ],
            ),
        )
        repository_arn = f"arn:aws:ecr:{region}:{account}:repository/{delivery.ecr_repository_name}"
        push = [
            REGISTRY_LOGIN,
            Statement(sid="PushImage", actions=PUSH_ACTIONS, resources=[repository_arn]),
        ]

        self.connection = CodestarconnectionsConnection(
            self, "github", name="kakehashi-github", provider_type="GitHub"
        )
        # Artifacts (and their old versions) only matter while a release is promoted.
        self.artifacts = SecureBucket(
            self,
            "artifacts",
            SecureBucketProps(
                name=f"kakehashi-delivery-artifacts-{account}",
                kms_key=self.artifacts_key,
                expiration_days=delivery.artifact_expiry_days,
                noncurrent_expiration_days=delivery.artifact_expiry_days,
                abort_incomplete_upload_days=1,
                deny_other_encryption_uploads=True,
            ),
        )

        def project(
            id_: str,
            *,
            description: str,
            buildspec: str,
            statements: Sequence[Statement],
            environment_variables: dict[str, str],
            privileged: bool = False,
        ) -> BuildProject:
            return BuildProject(
                self,
                id_,
                BuildProjectProps(
                    name=naming.codebuild_project(id_),
                    account_id=account,
                    region=region,
                    description=description,
                    buildspec=buildspec,
                    kms_key=self.artifacts_key,
                    logs_key=self.logs_key,
                    log_retention_days=delivery.log_retention_days,
                    artifact_objects_arn=self.artifacts.objects_arn(),
                    connection_arn=self.connection.arn,
                    statements=statements,
                    environment_variables=environment_variables,
                    privileged=privileged,
                ),
            )

        self.build = project(
            "build",
            description="make lint/test/synth, then build and push the API image once",
            buildspec=BUILD_BUILDSPEC,
            privileged=True,  # docker build; the only privileged project
            statements=push,
            environment_variables={
                "IMAGE_REPOSITORY_URI": delivery.image_repository_uri(),
                "AWS_ACCOUNT_ID": account,
            },
        )
        self.deploys: dict[str, BuildProject] = {}
        for env in environments:
            deployer = f"arn:aws:iam::{env.account_id}:role/{naming.deployer_role(env.name)}"
            self.deploys[env.name] = project(
                f"deploy-{env.name}",
                description=f"Migrate, cdktf deploy and verify {env.name} with the built digest",
                buildspec=DEPLOY_BUILDSPEC,
                statements=[
                    Statement(
                        sid="AssumeEnvironmentDeployer",
                        actions=["sts:AssumeRole"],
                        resources=[deployer],
                    ),
                    Statement(
                        sid="ReadImage",
                        actions=["ecr:DescribeImages"],
                        resources=[repository_arn],
                    ),
                ],
                environment_variables={
                    "KAKEHASHI_ENV": env.name,
                    "DEPLOYER_ROLE_ARN": deployer,
                    "IMAGE_REPOSITORY_URI": delivery.image_repository_uri(),
                },
            )

        self.approval_topic = SnsTopic(
            self,
            "approval-topic",
            name=naming.approval_topic(),
            kms_master_key_id=self.artifacts_key.arn,
        )
        SnsTopicSubscription(
            self,
            "approval-email",
            topic_arn=self.approval_topic.arn,
            protocol="email",
            endpoint=delivery.alarm_email,
        )

        pipeline_arn = f"arn:aws:codepipeline:{region}:{account}:{naming.pipeline()}"
        pipeline_role = service_role(
            self,
            "pipeline-role",
            name=f"{naming.pipeline()}-codepipeline",
            service="codepipeline.amazonaws.com",
            sid="CodePipelineThisPipeline",
            account_id=account,
            source_arn=pipeline_arn,
        )
        projects = [self.build, *self.deploys.values()]
        IamRolePolicy(
            self,
            "pipeline-policy",
            name=f"{naming.pipeline()}-codepipeline",
            role=pipeline_role.id,
            policy=policy_document(
                self,
                "pipeline-policy-doc",
                [
                    Statement(
                        sid="Artifacts",
                        actions=list(READ_WRITE_ACTIONS),
                        resources=[self.artifacts.objects_arn()],
                    ),
                    Statement(
                        sid="ArtifactBucket",
                        actions=["s3:GetBucketVersioning", "s3:GetBucketLocation"],
                        resources=[self.artifacts.arn],
                    ),
                    Statement(
                        sid="ArtifactKey",
                        actions=ENCRYPT_DECRYPT_ACTIONS,
                        resources=[self.artifacts_key.arn],
                    ),
                    Statement(
                        sid="RunBuilds",
                        actions=[
                            "codebuild:StartBuild",
                            "codebuild:BatchGetBuilds",
                            "codebuild:StopBuild",
                        ],
                        resources=[p.arn for p in projects],
                    ),
                    Statement(
                        sid="Source",
                        actions=[
                            "codestar-connections:UseConnection",
                            "codeconnections:UseConnection",
                        ],
                        resources=[self.connection.arn],
                    ),
                    Statement(
                        sid="ApprovalNotification",
                        actions=["sns:Publish"],
                        resources=[self.approval_topic.arn],
                    ),
                ],
            ),
        )

        source = "source"
        built = "build"
        revision = "#{SourceVariables.CommitId}"
        stages = [
            CodepipelineStage(
                name="Source",
                action=[
                    CodepipelineStageAction(
                        name="Source",
                        category="Source",
                        owner="AWS",
                        provider="CodeStarSourceConnection",
                        version="1",
                        namespace="SourceVariables",
                        output_artifacts=[source],
                        configuration={
                            "ConnectionArn": self.connection.arn,
                            "FullRepositoryId": delivery.github_repository,
                            "BranchName": delivery.github_branch,
                            # A git clone (not a zip) so the build knows its commit.
                            "OutputArtifactFormat": "CODEBUILD_CLONE_REF",
                            "DetectChanges": "true",
                        },
                    )
                ],
            ),
            CodepipelineStage(
                name="Build",
                action=[
                    CodepipelineStageAction(
                        name="Build",
                        category="Build",
                        owner="AWS",
                        provider="CodeBuild",
                        version="1",
                        namespace="BuildVariables",
                        input_artifacts=[source],
                        output_artifacts=[built],
                        configuration={
                            "ProjectName": self.build.name,
                            "EnvironmentVariables": _variables(
                                {"KAKEHASHI_GIT_REVISION": revision}
                            ),
                        },
                    )
                ],
            ),
        ]
        for env in environments:
            if env.production:
                stages.append(
                    CodepipelineStage(
                        name=f"Approve{env.name.capitalize()}",
                        action=[
                            CodepipelineStageAction(
                                name="Approve",
                                category="Approval",
                                owner="AWS",
                                provider="Manual",
                                version="1",
                                configuration={
                                    "NotificationArn": self.approval_topic.arn,
                                    "CustomData": (
                                        f"Promote #{{BuildVariables.IMAGE_TAG}} "
                                        f"(#{{BuildVariables.IMAGE_DIGEST}}) to {env.name}"
                                    ),
                                },
                            )
                        ],
                    )
                )
            stages.append(
                CodepipelineStage(
                    name=_stage_id(env.name),
                    action=[
                        CodepipelineStageAction(
                            name="Deploy",
                            category="Build",
                            owner="AWS",
                            provider="CodeBuild",
                            version="1",
                            input_artifacts=[source, built],
                            configuration={
                                "ProjectName": self.deploys[env.name].name,
                                "PrimarySource": source,
                                "EnvironmentVariables": _variables(
                                    {
                                        "KAKEHASHI_IMAGE_DIGEST": "#{BuildVariables.IMAGE_DIGEST}",
                                        "KAKEHASHI_IMAGE_TAG": "#{BuildVariables.IMAGE_TAG}",
                                        "KAKEHASHI_GIT_REVISION": revision,
                                    }
                                ),
                            },
                        )
                    ],
                )
            )
        self.pipeline = Codepipeline(
            self,
            "pipeline",
            name=naming.pipeline(),
            pipeline_type="V2",
            execution_mode="SUPERSEDED",
            role_arn=pipeline_role.arn,
            artifact_store=[
                CodepipelineArtifactStore(
                    location=self.artifacts.name,
                    type="S3",
                    encryption_key=CodepipelineArtifactStoreEncryptionKey(
                        id=self.artifacts_key.arn, type="KMS"
                    ),
                )
            ],
            stage=stages,
            trigger=[
                CodepipelineTrigger(
                    provider_type="CodeStarSourceConnection",
                    git_configuration=CodepipelineTriggerGitConfiguration(
                        source_action_name="Source",
                        push=[
                            CodepipelineTriggerGitConfigurationPush(
                                branches=CodepipelineTriggerGitConfigurationPushBranches(
                                    includes=[delivery.github_branch]
                                )
                            )
                        ],
                    ),
                )
            ],
            depends_on=[self.artifacts.bucket],
        )

        # GitHub Actions: the same promotion, through OIDC (no long-lived keys).
        self.oidc = GithubOidcProvider(self, "github-oidc", account_id=account)
        repo = delivery.github_repository
        self.github_publish_role = GithubActionsRole(
            self,
            "github-publish",
            GithubActionsRoleProps(
                name=naming.github_publish_role(),
                description=f"GitHub Actions: push the API image from {delivery.github_branch}",
                provider=self.oidc,
                subject=branch_subject(repo, delivery.github_branch),
                statements=push,
            ),
        )
        self.github_deploy_roles: dict[str, GithubActionsRole] = {}
        for env in environments:
            deployer = f"arn:aws:iam::{env.account_id}:role/{naming.deployer_role(env.name)}"
            self.github_deploy_roles[env.name] = GithubActionsRole(
                self,
                f"github-deploy-{env.name}",
                GithubActionsRoleProps(
                    name=naming.github_deploy_role(env.name),
                    description=f"GitHub Actions environment {env.name}: assume its deployer",
                    provider=self.oidc,
                    subject=environment_subject(repo, env.name),
                    statements=[
                        Statement(
                            sid="AssumeEnvironmentDeployer",
                            actions=["sts:AssumeRole", "sts:TagSession"],
                            resources=[deployer],
                        )
                    ],
                ),
            )
        self.github_drift_role = GithubActionsRole(
            self,
            "github-drift",
            GithubActionsRoleProps(
                name=naming.github_drift_role(),
                description="GitHub Actions scheduled drift check: read-only in every env",
                provider=self.oidc,
                subject=branch_subject(repo, delivery.github_branch),
                statements=[
                    Statement(
                        sid="AssumeDriftReaders",
                        actions=["sts:AssumeRole", "sts:TagSession"],
                        resources=[
                            f"arn:aws:iam::{env.account_id}:role/"
                            f"{naming.drift_reader_role(env.name)}"
                            for env in environments
                        ],
                    )
                ],
            ),
        )

        TerraformOutput(self, "ecr_repository_url", value=self.repository.url)
        TerraformOutput(self, "pipeline_name", value=self.pipeline.name)
        TerraformOutput(
            self,
            "codestar_connection_arn",
            value=self.connection.arn,
            description="Confirm it once in the console (Developer Tools > Connections)",
        )
        TerraformOutput(self, "github_publish_role_arn", value=self.github_publish_role.arn)
        TerraformOutput(self, "github_drift_role_arn", value=self.github_drift_role.arn)
        for name, role in self.github_deploy_roles.items():
            TerraformOutput(self, f"github_deploy_role_arn_{name}", value=role.arn)
