"""The single entry point: build every stack of the selected environments into one App.

``kakehashi-delivery`` (the delivery account) is built once, after the environments: always
when no environment is selected, and otherwise only when ``delivery`` is among the selected
names (``KAKEHASHI_ENV=delivery``), so a per-environment deploy (``KAKEHASHI_ENV=dev``)
never synthesizes, diffs or needs credentials for the delivery account.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from cdktf import App, TerraformStack

from stacks.data import DataStack
from stacks.delivery import DeliveryStack
from stacks.environments import (
    ConfigError,
    DeliveryConfig,
    Environment,
    Problem,
    SynthOptions,
    load_delivery,
    load_environments,
)
from stacks.environments.model import env_order
from stacks.network import NetworkStack
from stacks.release import Release, release_from_options
from stacks.service import ServiceStack

#: The pseudo-environment name selecting the delivery stack in ``KAKEHASHI_ENV``.
DELIVERY = "delivery"


@dataclass
class Built:
    """What :func:`build` made: the App and its stacks by id, in build order."""

    app: App
    stacks: dict[str, TerraformStack] = field(default_factory=dict)


def build(
    options: SynthOptions,
    *,
    outdir: str | None = None,
    environments: dict[str, Environment] | None = None,
    delivery: DeliveryConfig | None = None,
    on_stack: Callable[[str], None] = lambda _id: None,
) -> Built:
    """Compose the stacks of each selected environment (config is validated first)."""
    envs = load_environments() if environments is None else environments
    unknown = [name for name in options.environments if name not in envs and name != DELIVERY]
    if unknown:
        raise ConfigError(
            [
                Problem(name, "KAKEHASHI_ENV", name, f"no such environment; have {sorted(envs)}")
                for name in unknown
            ]
        )
    with_delivery = not options.environments or DELIVERY in options.environments
    if options.environments:
        names = [n for n in options.environments if n != DELIVERY]
    else:
        names = sorted(envs, key=env_order)
    selected = [envs[n] for n in names]
    config = load_delivery() if delivery is None else delivery
    release = release_from_options(options, config)
    app = App(outdir=outdir) if outdir else App()
    built = Built(app=app)
    for env in selected:
        network = NetworkStack(app, env)
        data = DataStack(app, env, network)
        service = ServiceStack(app, env, network, data, release)
        for stack in (network, data, service):
            on_stack(stack.node.id)
            built.stacks[stack.node.id] = stack
            stamp_release(stack, release)
    if with_delivery:
        # Every environment (not only the selected ones): the registry and the pipeline
        # serve them all.
        delivery_stack = DeliveryStack(
            app, config, sorted(envs.values(), key=lambda e: env_order(e.name))
        )
        on_stack(delivery_stack.node.id)
        built.stacks[delivery_stack.node.id] = delivery_stack
        stamp_release(delivery_stack, release)
    return built


def stamp_release(stack: TerraformStack, release: Release) -> None:
    """Record which release a stack was synthesized for in its metadata block (``//``).

    Metadata is not configuration: Terraform ignores it, so stamping every stack causes no
    resource change on a release (unlike a default tag)."""
    stack.add_override(
        "//.release",
        {
            "version": release.version,
            "git_revision": release.git_revision,
            "image": release.image,
        },
    )
