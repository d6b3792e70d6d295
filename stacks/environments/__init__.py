"""Environment configuration: one YAML file per environment, one typed model."""

from stacks.environments.model import (
    ConfigError,
    Environment,
    Problem,
    load_environments,
)
from stacks.environments.options import SynthOptions

__all__ = ["ConfigError", "Environment", "Problem", "SynthOptions", "load_environments"]
