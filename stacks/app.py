"""The single entry point: build every stack of the selected environments into one App."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from cdktf import App, TerraformStack

from stacks.data import DataStack
from stacks.environments import ConfigError, Environment, Problem, SynthOptions, load_environments
from stacks.environments.model import env_order
from stacks.network import NetworkStack


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
    on_stack: Callable[[str], None] = lambda _id: None,
) -> Built:
    """Compose the stacks of each selected environment (config is validated first)."""
    envs = load_environments() if environments is None else environments
    unknown = [name for name in options.environments if name not in envs]
    if unknown:
        raise ConfigError(
            [
                Problem(name, "KAKEHASHI_ENV", name, f"no such environment; have {sorted(envs)}")
                for name in unknown
            ]
        )
    selected = [envs[n] for n in (options.environments or sorted(envs, key=env_order))]
    app = App(outdir=outdir) if outdir else App()
    built = Built(app=app)
    for env in selected:
        network = NetworkStack(app, env)
        data = DataStack(app, env, network)
        for stack in (network, data):
            on_stack(stack.node.id)
            built.stacks[stack.node.id] = stack
    return built
