"""`npx cdktf-cli@0.21.0 synth` (the cdktf.json "app" path) produces the same stacks as the
in-process synthesis behind `make synth`. Skipped only where npx is not installed; the first
run downloads the CLI from the npm registry (~2 min), later runs use npm's cache."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import TEST_GIT_REVISION, TEST_IMAGE_TAG
from tests.synth_helpers import Synthesized

ROOT = Path(__file__).resolve().parents[2]
CLI = "cdktf-cli@0.21.0"


@pytest.mark.skipif(shutil.which("npx") is None, reason="npx (Node.js) is not installed")
def test_cdktf_cli_synth_matches_make_synth(synthesized: Synthesized, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "KAKEHASHI_ENV": "dev",  # one environment keeps the CLI run short; same code path
        "KAKEHASHI_IMAGE_TAG": TEST_IMAGE_TAG,
        "KAKEHASHI_GIT_REVISION": TEST_GIT_REVISION,
        "CHECKPOINT_DISABLE": "1",  # no telemetry calls
        "CI": "1",
    }
    env.pop("KAKEHASHI_IMAGE_DIGEST", None)
    out = tmp_path / "cli.out"
    result = subprocess.run(
        ["npx", "--yes", CLI, "synth", "--output", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    cli_stacks = sorted(p.name for p in (out / "stacks").iterdir())
    expected = sorted(s for s in synthesized.stack_ids if s.startswith("kakehashi-dev-"))
    assert cli_stacks == expected
    for stack_id in expected:
        cli_doc = json.loads((out / "stacks" / stack_id / "cdk.tf.json").read_text())
        assert cli_doc == synthesized.stack(stack_id).doc, f"{stack_id} differs"
