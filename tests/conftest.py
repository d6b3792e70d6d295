"""Shared fixtures. The infrastructure is synthesized once per test session (the AWS
bindings take ~20 s to load) and every infrastructure test reads the same output."""

from __future__ import annotations

import os

import pytest

from tests.synth_helpers import Synthesized

#: Stamped on the test synthesis so version tests have known values.
TEST_IMAGE_TAG = "0.1.0"
TEST_GIT_REVISION = "0123456789abcdef0123456789abcdef01234567"

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """Every stack of every environment, synthesized once into a temporary cdktf.out."""
    from stacks.app import build
    from stacks.environments import SynthOptions

    outdir = tmp_path_factory.mktemp("cdktf.out")
    built = build(
        SynthOptions(image_tag=TEST_IMAGE_TAG, git_revision=TEST_GIT_REVISION),
        outdir=str(outdir),
    )
    built.app.synth()
    return Synthesized(outdir=outdir, stack_ids=tuple(built.stacks))
