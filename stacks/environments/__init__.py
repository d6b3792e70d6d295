"""Environment configuration: one YAML file per environment, one typed model."""

from stacks.environments.model import (
    ConfigError,
    DeliveryConfig,
    Environment,
    Problem,
    load_delivery,
    load_environments,
)
from stacks.environments.options import SynthOptions

__all__ = [
    "ConfigError",
    "DeliveryConfig",
    "Environment",
    "Problem",
    "SynthOptions",
    "load_delivery",
    "load_environments",
]
