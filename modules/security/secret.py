"""A Secrets Manager secret whose value Terraform never writes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from constructs import Construct

from modules.iam import Condition, Statement, policy_document
from modules.security.kms_key import KmsKey

#: What a reader of a secret's value needs (DescribeSecret lets SDKs resolve versions).
READ_ACTIONS = ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret")
_NAME = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}$")


@dataclass(frozen=True, kw_only=True)
class SecretProps:
    """Props of :class:`Secret`.

    ``name``: the secret's name, e.g. ``kakehashi/dev/carrier-api`` (see stacks/naming.py).
    ``description``: what the value is and who sets it.
    ``kms_key``: the CMK encrypting every version of the value.
    ``region``: the secret's region; readers' ``kms:Decrypt`` is limited to requests that
    Secrets Manager makes in it (``kms:ViaService``).
    ``recovery_window_days``: 7-30 days during which a deleted secret can be restored.
    Default: 30 (the longest; force-deleting with 0 is not offered).
    """

    name: str
    description: str
    kms_key: KmsKey
    region: str
    recovery_window_days: int = 30


class Secret(Construct):
    """A CMK-encrypted secret with a recovery window and **no version**.

    Guarantees: no value of this secret is ever declared in Terraform, so it can appear in
    neither the synthesized JSON nor the plan, and ``terraform apply`` can never overwrite a
    value set out of band (``aws secretsmanager put-secret-value``, the console, rotation).
    That is simpler and safer than a placeholder version with ``ignore_changes``: there is
    no placeholder a reader could mistake for a credential. Constructs that generate a
    value (see :mod:`modules.security.generated_secret_value`) add the version themselves.
    """

    def __init__(self, scope: Construct, id_: str, props: SecretProps) -> None:
        super().__init__(scope, id_)
        problems = []
        if not _NAME.match(props.name):
            problems.append(f"name={props.name!r}: 1-512 characters of letters, digits and /_+=.@-")
        if not 7 <= props.recovery_window_days <= 30:
            problems.append(f"recovery_window_days={props.recovery_window_days}: must be 7-30")
        if problems:
            raise ValueError(f"Secret {id_}: " + "; ".join(problems))
        self.props = props
        self.secret = SecretsmanagerSecret(
            self,
            "secret",
            name=props.name,
            description=props.description,
            kms_key_id=props.kms_key.arn,
            recovery_window_in_days=props.recovery_window_days,
        )

    @property
    def arn(self) -> str:
        return self.secret.arn

    def grant_read(self, role: IamRole, id_: str | None = None) -> None:
        """Let ``role`` read this secret's value: an inline policy on the role allowing
        :data:`READ_ACTIONS` on this secret only, and ``kms:Decrypt`` on its key only when
        Secrets Manager makes the request. ``id_`` names the policy; Default:
        ``read-<this construct's id>``, so one role can read several secrets."""
        grant_read_secret(
            role,
            id_ or f"read-{self.node.id}",
            secret_arn=self.arn,
            kms_key=self.props.kms_key,
            region=self.props.region,
        )


def grant_read_secret(
    role: IamRole, id_: str, *, secret_arn: str, kms_key: KmsKey, region: str
) -> None:
    """Inline policy ``id_`` on ``role``: read one secret and decrypt it through Secrets
    Manager only. Also used for secrets AWS services create (the RDS master secret)."""
    IamRolePolicy(
        role,
        id_,
        name=id_,
        role=role.id,
        policy=policy_document(
            role,
            f"{id_}-doc",
            [
                Statement(sid="ReadSecret", actions=READ_ACTIONS, resources=[secret_arn]),
                Statement(
                    sid="DecryptViaSecretsManager",
                    actions=["kms:Decrypt"],
                    resources=[kms_key.arn],
                    conditions=[
                        Condition(
                            test="StringEquals",
                            variable="kms:ViaService",
                            values=[f"secretsmanager.{region}.amazonaws.com"],
                        )
                    ],
                ),
            ],
        ),
    )
