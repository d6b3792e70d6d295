"""The two IAM roles of an ECS task: the agent's execution role and the app's task role."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from modules.iam import Statement, policy_document, service_role

#: Pulling an image from one repository (GetAuthorizationToken has no resource ARN).
ECR_PULL_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchGetImage",
)
#: What the awslogs driver needs.
LOG_WRITE_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
#: ECS Exec's session channel (SSM Messages has no resource-level permissions).
EXEC_ACTIONS = (
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)


@dataclass(frozen=True, kw_only=True)
class TaskRolesProps:
    """Props of :class:`TaskRoles`.

    ``execution_role_name`` / ``task_role_name``: physical names (see stacks/naming.py).
    ``account_id`` / ``region``: the trust policies admit ECS tasks of this account and
    region only.
    ``image_repository_arn``: the ECR repository the execution role may pull from (may be in
    another account: the delivery account).
    ``log_group_name``: the log group the awslogs driver writes to (in this account/region).
    ``enable_execute_command``: grant the task role the ECS Exec channel. Default: false.
    """

    execution_role_name: str
    task_role_name: str
    account_id: str
    region: str
    image_repository_arn: str
    log_group_name: str
    enable_execute_command: bool = False


class TaskRoles(Construct):
    """Guarantees: both roles are assumable only by ``ecs-tasks.amazonaws.com`` on behalf of
    this account's tasks in this region (confused-deputy conditions); the execution role
    can pull exactly the one repository and write exactly the one log group; the task role
    starts with no permissions (grants add them: secrets, keys) except the ECS Exec channel
    when enabled. Secrets the agent injects are granted with the data stack's grant helpers.
    """

    def __init__(self, scope: Construct, id_: str, props: TaskRolesProps) -> None:
        super().__init__(scope, id_)
        if not props.image_repository_arn.startswith("arn:aws:ecr:"):
            raise ValueError(
                f"TaskRoles {id_}: image_repository_arn={props.image_repository_arn!r}: "
                "an ECR repository ARN"
            )

        def ecs_tasks_role(id_: str, name: str, description: str) -> IamRole:
            return service_role(
                self,
                id_,
                name=name,
                description=description,
                service="ecs-tasks.amazonaws.com",
                sid="EcsTasks",
                account_id=props.account_id,
                source_arn=f"arn:aws:ecs:{props.region}:{props.account_id}:*",
                max_session_duration_seconds=3600,
            )

        self.execution_role = ecs_tasks_role(
            "execution",
            props.execution_role_name,
            "ECS agent: pull the API image, write its logs, inject its secrets",
        )
        self.task_role = ecs_tasks_role(
            "task",
            props.task_role_name,
            "The API at runtime: JWT signing key, secrets it refreshes",
        )
        IamRolePolicy(
            self.execution_role,
            "pull-and-log",
            name="pull-and-log",
            role=self.execution_role.id,
            policy=policy_document(
                self.execution_role,
                "pull-and-log-doc",
                [
                    # ECR authorization tokens are account-wide: no resource ARN exists.
                    Statement(
                        sid="EcrAuthorization",
                        actions=["ecr:GetAuthorizationToken"],
                        resources=["*"],
                    ),
                    Statement(
                        sid="PullApiImage",
                        actions=list(ECR_PULL_ACTIONS),
                        resources=[props.image_repository_arn],
                    ),
                    Statement(
                        sid="WriteLogs",
                        actions=list(LOG_WRITE_ACTIONS),
                        resources=[
                            f"arn:aws:logs:{props.region}:{props.account_id}:log-group:"
                            f"{props.log_group_name}:log-stream:*"
                        ],
                    ),
                ],
            ),
        )
        if props.enable_execute_command:
            IamRolePolicy(
                self.task_role,
                "ecs-exec",
                name="ecs-exec",
                role=self.task_role.id,
                policy=policy_document(
                    self.task_role,
                    "ecs-exec-doc",
                    # SSM Messages supports no resource-level permissions.
                    [Statement(sid="EcsExec", actions=list(EXEC_ACTIONS), resources=["*"])],
                ),
            )
