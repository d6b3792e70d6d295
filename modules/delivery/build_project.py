"""A CodeBuild project run by CodePipeline, with its own least-privilege role and logs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf_cdktf_provider_aws.codebuild_project import (
    CodebuildProject,
    CodebuildProjectArtifacts,
    CodebuildProjectEnvironment,
    CodebuildProjectEnvironmentEnvironmentVariable,
    CodebuildProjectLogsConfig,
    CodebuildProjectLogsConfigCloudwatchLogs,
    CodebuildProjectSource,
)
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from modules.iam import Statement, policy_document, service_role
from modules.observability.log_group import EncryptedLogGroup, EncryptedLogGroupProps
from modules.security.kms_key import ENCRYPT_DECRYPT_ACTIONS, KmsKey
from modules.storage.secure_bucket import READ_WRITE_ACTIONS

#: CodeBuild's documented log permissions, scoped to the project's own group.
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
#: Amazon Linux 2023 standard image: Python 3.11, Node 20, Docker.
DEFAULT_IMAGE = "aws/codebuild/amazonlinux-x86_64-standard:5.0"


@dataclass(frozen=True, kw_only=True)
class BuildProjectProps:
    """Props of :class:`BuildProject`.

    ``name``: project (and role) name. ``account_id`` / ``region``: where it runs.
    ``buildspec``: path of the buildspec in the source, e.g. ``pipelines/buildspecs/build.yml``.
    ``kms_key``: CMK encrypting build output and the artifacts the role reads/writes.
    ``logs_key`` / ``log_retention_days``: the project's CloudWatch log group.
    ``artifact_objects_arn``: ``arn:aws:s3:::<bucket>/*`` of the pipeline artifacts.
    ``connection_arn``: CodeStar connection used to clone the source (CODEBUILD_CLONE_REF).
    ``statements``: what the build itself needs beyond logs/artifacts. Default: nothing.
    ``environment_variables``: plain-text variables (never secrets). Default: none.
    ``privileged``: Docker daemon access. Default: off; only the image build needs it.
    ``compute_type``: Default: BUILD_GENERAL1_MEDIUM (the test suite and synth need 7 GB).
    ``image``: Default: :data:`DEFAULT_IMAGE`.
    ``timeout_minutes``: Default: 60.
    """

    name: str
    account_id: str
    region: str
    buildspec: str
    kms_key: KmsKey
    logs_key: KmsKey
    log_retention_days: int
    artifact_objects_arn: str
    connection_arn: str
    description: str
    statements: Sequence[Statement] = field(default_factory=tuple)
    environment_variables: Mapping[str, str] = field(default_factory=dict)
    privileged: bool = False
    compute_type: str = "BUILD_GENERAL1_MEDIUM"
    image: str = DEFAULT_IMAGE
    timeout_minutes: int = 60


class BuildProject(Construct):
    """Guarantees: the role is assumable only by CodeBuild for this project of this account;
    it can write only its own log group, read/write only the pipeline artifacts, use only
    the given keys and connection, plus the extra ``statements``; output is encrypted with
    the CMK; logs go to a CMK-encrypted group with bounded retention."""

    def __init__(self, scope: Construct, id_: str, props: BuildProjectProps) -> None:
        super().__init__(scope, id_)
        problems = []
        if not 5 <= props.timeout_minutes <= 480:
            problems.append(f"timeout_minutes={props.timeout_minutes}: must be 5-480")
        if not props.buildspec.endswith((".yml", ".yaml")):
            problems.append(f"buildspec={props.buildspec!r}: a YAML file in the source")
        if problems:
            raise ValueError(f"BuildProject {id_}: " + "; ".join(problems))
        self.name = props.name
        self.arn = f"arn:aws:codebuild:{props.region}:{props.account_id}:project/{props.name}"
        log_name = f"/aws/codebuild/{props.name}"
        self.log_group = EncryptedLogGroup(
            self,
            "logs",
            EncryptedLogGroupProps(
                name=log_name,
                retention_days=props.log_retention_days,
                kms_key=props.logs_key,
            ),
        )
        log_arn = f"arn:aws:logs:{props.region}:{props.account_id}:log-group:{log_name}"
        self.role = service_role(
            self,
            "role",
            name=f"{props.name}-codebuild",
            service="codebuild.amazonaws.com",
            sid="CodeBuildThisProject",
            account_id=props.account_id,
            source_arn=self.arn,
            max_session_duration_seconds=3600,
        )
        base = [
            Statement(sid="WriteOwnLogs", actions=LOG_ACTIONS, resources=[log_arn, f"{log_arn}:*"]),
            Statement(
                sid="PipelineArtifacts",
                actions=list(READ_WRITE_ACTIONS),
                resources=[props.artifact_objects_arn],
            ),
            Statement(
                sid="ArtifactKey", actions=ENCRYPT_DECRYPT_ACTIONS, resources=[props.kms_key.arn]
            ),
            Statement(
                sid="CloneSource",
                actions=["codestar-connections:UseConnection", "codeconnections:UseConnection"],
                resources=[props.connection_arn],
            ),
        ]
        IamRolePolicy(
            self,
            "policy",
            name=f"{props.name}-codebuild",
            role=self.role.id,
            policy=policy_document(self, "policy-doc", [*base, *props.statements]),
        )
        self.project = CodebuildProject(
            self,
            "project",
            name=props.name,
            description=props.description,
            service_role=self.role.arn,
            encryption_key=props.kms_key.arn,
            build_timeout=props.timeout_minutes,
            source=CodebuildProjectSource(type="CODEPIPELINE", buildspec=props.buildspec),
            artifacts=CodebuildProjectArtifacts(type="CODEPIPELINE"),
            environment=CodebuildProjectEnvironment(
                compute_type=props.compute_type,
                image=props.image,
                type="LINUX_CONTAINER",
                image_pull_credentials_type="CODEBUILD",
                privileged_mode=props.privileged,
                environment_variable=[
                    CodebuildProjectEnvironmentEnvironmentVariable(
                        name=key, value=value, type="PLAINTEXT"
                    )
                    for key, value in sorted(props.environment_variables.items())
                ]
                or None,
            ),
            logs_config=CodebuildProjectLogsConfig(
                cloudwatch_logs=CodebuildProjectLogsConfigCloudwatchLogs(
                    group_name=log_name, status="ENABLED"
                )
            ),
            depends_on=[self.log_group.log_group],
        )
