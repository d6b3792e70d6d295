"""Construct tests build small throwaway stacks (cheap once the bindings are loaded)."""

from __future__ import annotations

from collections.abc import Callable

import pytest


@pytest.fixture
def scratch_stack() -> Callable[[], object]:
    """A factory of fresh, empty stacks to instantiate constructs in."""
    from cdktf import App, TerraformStack

    def make() -> TerraformStack:
        return TerraformStack(App(), "scratch")

    return make
