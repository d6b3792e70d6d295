"""What every stack shares: naming, the S3 state backend and the AWS provider."""

from __future__ import annotations

from typing import Protocol

from cdktf import S3Backend, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from stacks.environments import Environment
from stacks.environments.model import PROJECT, StateConfig


class StackTarget(Protocol):
    """Where a stack is deployed: an :class:`Environment`, or the delivery account
    (:class:`~stacks.environments.model.DeliveryConfig`)."""

    @property
    def name(self) -> str: ...
    @property
    def account_id(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def state(self) -> StateConfig: ...
    def required_tags(self, component: str) -> dict[str, str]: ...


def stack_id(env_name: str, component: str) -> str:
    """``kakehashi-<env>-<component>``: construct ids are API, never rename."""
    return f"{PROJECT}-{env_name}-{component}"


def state_key(env_name: str, component: str) -> str:
    """One state file per environment and component."""
    return f"{env_name}/{component}.tfstate"


class KakehashiStack(TerraformStack):
    """A stack of one environment and component.

    Guarantees, for every stack alike: state in the environment's S3 bucket under a key
    unique to (environment, component), encrypted, with S3-native locking; an AWS provider
    pinned to the environment's region and account (``allowed_account_ids`` stops a deploy
    with the wrong credentials) whose default tags identify project, environment,
    component, owner and cost center. The release version is deliberately not a default
    tag: it would rewrite every resource on every release.

    ``env`` is usually an :class:`Environment`; the delivery stack passes the delivery
    account's config with ``state_env="delivery"`` (id ``kakehashi-<component>``, state key
    ``delivery/<component>.tfstate``).
    """

    def __init__(
        self,
        scope: Construct,
        *,
        env: StackTarget,
        component: str,
        state_env: str | None = None,
    ) -> None:
        super().__init__(
            scope, stack_id(env.name, component) if state_env is None else f"{PROJECT}-{component}"
        )
        self.target = env
        self.component = component
        S3Backend(
            self,
            bucket=env.state.bucket,
            key=state_key(state_env or env.name, component),
            region=env.region,
            encrypt=True,
        )
        # S3-native state locking (Terraform >= 1.10); S3Backend has no prop for it yet.
        self.add_override("terraform.backend.s3.use_lockfile", True)
        AwsProvider(
            self,
            "aws",
            region=env.region,
            allowed_account_ids=[env.account_id],
            default_tags=[AwsProviderDefaultTags(tags=env.required_tags(component))],
        )

    @property
    def env(self) -> Environment:
        """The environment of an environment stack (the delivery stack has none)."""
        if not isinstance(self.target, Environment):
            raise TypeError(f"{self.node.id} is not an environment stack")
        return self.target
