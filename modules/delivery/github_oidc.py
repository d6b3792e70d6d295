"""GitHub Actions OIDC: the identity provider and roles assumable by one repository's jobs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cdktf_cdktf_provider_aws.iam_openid_connect_provider import IamOpenidConnectProvider
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from modules.iam import Condition, Statement, policy_document

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
STS_AUDIENCE = "sts.amazonaws.com"


def environment_subject(repository: str, environment: str) -> str:
    """The ``sub`` claim of a job running in a GitHub deployment environment."""
    return f"repo:{repository}:environment:{environment}"


def branch_subject(repository: str, branch: str) -> str:
    """The ``sub`` claim of a job without an environment, on a branch push/dispatch."""
    return f"repo:{repository}:ref:refs/heads/{branch}"


class GithubOidcProvider(Construct):
    """The account's IAM identity provider for GitHub Actions tokens, audience STS only.

    No thumbprint: IAM trusts GitHub's OIDC endpoint through its own root CA library."""

    def __init__(self, scope: Construct, id_: str, *, account_id: str) -> None:
        super().__init__(scope, id_)
        self.provider = IamOpenidConnectProvider(
            self, "provider", url=GITHUB_OIDC_URL, client_id_list=[STS_AUDIENCE]
        )
        # Known before apply: lets trust policies reference it without a token.
        self.arn = f"arn:aws:iam::{account_id}:oidc-provider/{GITHUB_OIDC_HOST}"


@dataclass(frozen=True, kw_only=True)
class GithubActionsRoleProps:
    """Props of :class:`GithubActionsRole`.

    ``name``: role name. ``provider``: the account's :class:`GithubOidcProvider`.
    ``subject``: the exact ``sub`` claim admitted (see :func:`environment_subject`); no
    wildcards, so no other repository, branch or environment can assume the role.
    ``statements``: the role's permissions (least privilege: name the resources).
    ``max_session_seconds``: Default: 3600 (one deploy job).
    """

    name: str
    description: str
    provider: GithubOidcProvider
    subject: str
    statements: Sequence[Statement] = field(default_factory=tuple)
    max_session_seconds: int = 3600


class GithubActionsRole(Construct):
    """Guarantees: assumable only with a GitHub OIDC token whose audience is STS and whose
    subject is exactly ``subject``; permissions are exactly ``statements``."""

    def __init__(self, scope: Construct, id_: str, props: GithubActionsRoleProps) -> None:
        super().__init__(scope, id_)
        problems = []
        if "*" in props.subject or "?" in props.subject:
            problems.append(f"subject={props.subject!r}: wildcards are not allowed")
        if not props.subject.startswith("repo:"):
            problems.append(f"subject={props.subject!r}: must start with 'repo:<owner>/<name>'")
        if not 900 <= props.max_session_seconds <= 43200:
            problems.append(f"max_session_seconds={props.max_session_seconds}: 900-43200")
        if not props.statements:
            problems.append("statements: a role without permissions is useless")
        if problems:
            raise ValueError(f"GithubActionsRole {id_}: " + "; ".join(problems))
        self.subject = props.subject
        trust = policy_document(
            self,
            "trust",
            [
                Statement(
                    sid="GithubActionsOidc",
                    actions=["sts:AssumeRoleWithWebIdentity"],
                    principals={"Federated": [props.provider.arn]},
                    conditions=[
                        Condition(
                            test="StringEquals",
                            variable=f"{GITHUB_OIDC_HOST}:aud",
                            values=[STS_AUDIENCE],
                        ),
                        Condition(
                            test="StringEquals",
                            variable=f"{GITHUB_OIDC_HOST}:sub",
                            values=[props.subject],
                        ),
                    ],
                )
            ],
        )
        self.role = IamRole(
            self,
            "role",
            name=props.name,
            description=props.description,
            assume_role_policy=trust,
            max_session_duration=props.max_session_seconds,
            depends_on=[props.provider.provider],
        )
        IamRolePolicy(
            self,
            "policy",
            name=props.name,
            role=self.role.id,
            policy=policy_document(self, "policy-doc", props.statements),
        )

    @property
    def arn(self) -> str:
        return self.role.arn
