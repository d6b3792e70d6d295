"""Running the policy scanner from tests: checkov lives in its own virtualenv, so every scan
is a subprocess of ``.venv-checkov/bin/python -m policies.scan``. checkov takes tens of
seconds per run: each fixture below scans once per session."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.synth_helpers import Synthesized

ROOT = Path(__file__).resolve().parents[2]
CHECKOV_PYTHON = ROOT / ".venv-checkov" / "bin" / "python"
FIXTURES = ROOT / "policies" / "fixtures"


@dataclass(frozen=True)
class ScanRun:
    """One run of the scanner: exit status, output and the files it wrote."""

    status: int
    output: str
    reports: Path

    @property
    def findings(self) -> list[dict[str, Any]]:
        return list(json.loads((self.reports / "findings.json").read_text()))

    @property
    def summary(self) -> dict[str, Any]:
        return dict(json.loads((self.reports / "summary.json").read_text()))


def run_scan(*args: str, reports: Path) -> ScanRun:
    """``policies.scan`` with the checkov venv; never skipped: a gate that cannot run fails."""
    assert CHECKOV_PYTHON.exists(), "no .venv-checkov: run `make policy-venv` (make test does)"
    proc = subprocess.run(
        [str(CHECKOV_PYTHON), "-m", "policies.scan", "--reports", str(reports), *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    return ScanRun(proc.returncode, proc.stdout + proc.stderr, reports)


@pytest.fixture(scope="session")
def fixture_scan(tmp_path_factory: pytest.TempPathFactory) -> ScanRun:
    """Every check fixture, scanned once (no suppressions, no other scanners)."""
    files = sorted(str(p) for p in FIXTURES.glob("CKV_*/*.cdk.tf.json"))
    reports = tmp_path_factory.mktemp("fixture-reports")
    return run_scan("--no-suppressions", "--no-scanners", "--files", *files, reports=reports)


@pytest.fixture(scope="session")
def real_scan(synthesized: Synthesized, tmp_path_factory: pytest.TempPathFactory) -> ScanRun:
    """The real stacks of every environment (the session synthesis), with our suppressions."""
    reports = tmp_path_factory.mktemp("policy-reports")
    return run_scan("--outdir", str(synthesized.outdir), reports=reports)
