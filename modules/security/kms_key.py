"""A customer-managed KMS key with rotation and a least-privilege key policy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey as _KmsKey
from constructs import Construct

from modules.iam import Condition, Statement, policy_document

#: What a principal needs to use a key for envelope encryption.
ENCRYPT_DECRYPT_ACTIONS = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
)
DECRYPT_ACTIONS = ("kms:Decrypt", "kms:DescribeKey")
#: What a signer needs from an asymmetric SIGN_VERIFY key: sign, and publish the public key
#: (verifiers use the public key offline; nobody needs kms:Verify).
SIGN_ACTIONS = ("kms:Sign", "kms:GetPublicKey")


@dataclass(frozen=True, kw_only=True)
class ServiceUse:
    """Lets an AWS service principal use the key on the account's behalf.

    ``service``: principal, e.g. ``logs.ap-northeast-1.amazonaws.com``.
    ``conditions``: narrow the grant (e.g. the encryption context of the account's log
    groups). Default: none (the service may use the key for any request it makes for this
    account; the key policy still pins ``aws:SourceAccount`` where the service supports it).
    """

    sid: str
    service: str
    actions: Sequence[str] = ENCRYPT_DECRYPT_ACTIONS
    conditions: Sequence[Condition] = ()


@dataclass(frozen=True, kw_only=True)
class KmsKeyProps:
    """Props of :class:`KmsKey`.

    ``alias``: without ``alias/``, e.g. ``kakehashi/dev/logs``.
    ``account_id``: the owning account; its IAM administrators manage the key.
    ``services``: service principals allowed to use the key. Default: none.
    ``deletion_window_days``: 7-30. Default: 30 (the longest: a scheduled deletion can be
    cancelled for a month).
    ``key_spec`` / ``key_usage``: Default: a symmetric ENCRYPT_DECRYPT key. Asymmetric keys
    (e.g. ECC_NIST_P256 / SIGN_VERIFY) cannot rotate; rotation is then off.
    """

    alias: str
    description: str
    account_id: str
    services: Sequence[ServiceUse] = ()
    deletion_window_days: int = 30
    key_spec: str = "SYMMETRIC_DEFAULT"
    key_usage: str = "ENCRYPT_DECRYPT"


class KmsKey(Construct):
    """A CMK whose policy delegates administration to the account's IAM (so IAM policies can
    grant use, least privilege per role) and admits only the listed service principals.

    Guarantees: rotation on for symmetric keys; 30-day deletion window by default; an alias.
    """

    def __init__(self, scope: Construct, id_: str, props: KmsKeyProps) -> None:
        super().__init__(scope, id_)
        problems = []
        if not 7 <= props.deletion_window_days <= 30:
            problems.append(f"deletion_window_days={props.deletion_window_days}: must be 7-30")
        if props.alias.startswith("alias/") or not props.alias:
            problems.append(f"alias={props.alias!r}: give the name without 'alias/'")
        if problems:
            raise ValueError(f"KmsKey {id_}: " + "; ".join(problems))
        self.props = props
        root = f"arn:aws:iam::{props.account_id}:root"
        statements = [
            # Delegates to IAM: without it no IAM policy could grant use of the key and the
            # key would become unmanageable. Resource "*" in a key policy means "this key".
            Statement(
                sid="AccountAdministration",
                actions=["kms:*"],
                resources=["*"],
                principals={"AWS": [root]},
            ),
        ]
        statements += [
            Statement(
                sid=use.sid,
                actions=list(use.actions),
                resources=["*"],
                principals={"Service": [use.service]},
                conditions=list(use.conditions),
            )
            for use in props.services
        ]
        symmetric = props.key_spec == "SYMMETRIC_DEFAULT"
        self.key = _KmsKey(
            self,
            "key",
            description=props.description,
            enable_key_rotation=symmetric,
            rotation_period_in_days=365 if symmetric else None,
            deletion_window_in_days=props.deletion_window_days,
            customer_master_key_spec=props.key_spec,
            key_usage=props.key_usage,
            policy=policy_document(self, "policy", statements),
        )
        KmsAlias(self, "alias", name=f"alias/{props.alias}", target_key_id=self.key.key_id)

    @property
    def arn(self) -> str:
        return self.key.arn

    @property
    def key_id(self) -> str:
        return self.key.key_id

    def grant(self, role: IamRole, id_: str, actions: Sequence[str]) -> None:
        """Attach an inline policy to ``role`` allowing ``actions`` on this key only."""
        IamRolePolicy(
            role,
            id_,
            name=id_,
            role=role.id,
            policy=policy_document(
                role, f"{id_}-doc", [Statement(sid="UseKey", actions=actions, resources=[self.arn])]
            ),
        )

    def grant_encrypt_decrypt(self, role: IamRole, id_: str = "kms-encrypt-decrypt") -> None:
        self.grant(role, id_, ENCRYPT_DECRYPT_ACTIONS)

    def grant_decrypt(self, role: IamRole, id_: str = "kms-decrypt") -> None:
        self.grant(role, id_, DECRYPT_ACTIONS)

    def grant_sign(self, role: IamRole, id_: str = "kms-sign") -> None:
        """Only ``kms:Sign`` and ``kms:GetPublicKey``; the private key never leaves KMS."""
        if self.props.key_usage != "SIGN_VERIFY":
            raise ValueError(
                f"KmsKey {self.node.id}: grant_sign needs key_usage SIGN_VERIFY, "
                f"got {self.props.key_usage!r}"
            )
        self.grant(role, id_, SIGN_ACTIONS)


def logs_service_use(region: str, account_id: str) -> ServiceUse:
    """CloudWatch Logs may use the key only for this account's log groups in ``region``."""
    return ServiceUse(
        sid="CloudWatchLogs",
        service=f"logs.{region}.amazonaws.com",
        conditions=[
            Condition(
                test="ArnLike",
                variable="kms:EncryptionContext:aws:logs:arn",
                values=[f"arn:aws:logs:{region}:{account_id}:log-group:*"],
            )
        ],
    )
