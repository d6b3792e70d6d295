"""The environment files as raw data, for tests that break one value at a time."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from stacks.environments import ConfigError, load_environments
from stacks.environments.model import DELIVERY_FILE, ENVIRONMENTS_DIR


def raw_environments() -> dict[str, Any]:
    """name -> parsed YAML of every environment file (a fresh copy per call)."""
    return {
        p.stem: yaml.safe_load(p.read_text())
        for p in sorted(ENVIRONMENTS_DIR.glob("*.yaml"))
        if p.name != DELIVERY_FILE
    }


def problems_of(raw: dict[str, Any]) -> list[str]:
    """The problems loading ``raw`` reports (it must fail)."""
    with pytest.raises(ConfigError) as info:
        load_environments(raw=raw)
    return [str(p) for p in info.value.problems]
