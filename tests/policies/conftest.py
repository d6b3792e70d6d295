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
import yaml

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


class ScanJob:
    """``policies.scan`` running in the background with the checkov venv (checkov takes tens
    of seconds; independent scans overlap). Never skipped: a gate that cannot run fails."""

    def __init__(self, *args: str, reports: Path) -> None:
        assert CHECKOV_PYTHON.exists(), "no .venv-checkov: run `make policy-venv` (make test does)"
        self.reports = reports
        self.proc = subprocess.Popen(
            [str(CHECKOV_PYTHON), "-m", "policies.scan", "--reports", str(reports), *args],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def result(self) -> ScanRun:
        output, _ = self.proc.communicate(timeout=600)
        return ScanRun(self.proc.returncode, output, self.reports)


def run_scan(*args: str, reports: Path) -> ScanRun:
    return ScanJob(*args, reports=reports).result()


STALE_COMPONENT = "ckv-kkh-010-fail"
STALE_ENTRIES = [
    {
        "check": "CKV_KKH_010",
        "component": STALE_COMPONENT,
        "resource": "aws_cloudwatch_log_group.unencrypted",
        "justification": "fixture: this entry matches a real failure and suppresses it",
        "by": "tests",
        "date": "2026-12-03",
    },
    {
        "check": "CKV_KKH_010",
        "component": STALE_COMPONENT,
        "resource": "aws_cloudwatch_log_group.gone",
        "justification": "fixture: this resource does not exist any more so it is stale",
        "by": "tests",
        "date": "2026-12-03",
    },
]


@pytest.fixture(scope="session")
def background_scans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ScanJob]:
    """The scans that need no synthesis, started together as soon as one is needed:
    every check fixture (no suppressions, no other scanners), and one fixture with a
    suppression file holding a stale entry."""
    files = sorted(str(p) for p in FIXTURES.glob("CKV_*/*.cdk.tf.json"))
    stale_dir = tmp_path_factory.mktemp("stale")
    suppressions = stale_dir / "suppressions.yaml"
    suppressions.write_text(yaml.safe_dump({"suppressions": STALE_ENTRIES}))
    return {
        "fixtures": ScanJob(
            "--no-suppressions",
            "--no-scanners",
            "--files",
            *files,
            reports=tmp_path_factory.mktemp("fixture-reports"),
        ),
        "stale": ScanJob(
            "--no-scanners",
            "--suppressions",
            str(suppressions),
            "--files",
            str(FIXTURES / "CKV_KKH_010" / "fail.cdk.tf.json"),
            reports=stale_dir / "reports",
        ),
    }


@pytest.fixture(scope="session")
def fixture_scan(background_scans: dict[str, ScanJob]) -> ScanRun:
    """Every check fixture, scanned once."""
    return background_scans["fixtures"].result()


@pytest.fixture(scope="session")
def stale_scan(background_scans: dict[str, ScanJob]) -> ScanRun:
    """One fixture scanned with one valid and one stale suppression."""
    return background_scans["stale"].result()


@pytest.fixture(scope="session")
def real_scan(synthesized: Synthesized, tmp_path_factory: pytest.TempPathFactory) -> ScanRun:
    """The real stacks of every environment (the session synthesis), with our suppressions."""
    reports = tmp_path_factory.mktemp("policy-reports")
    return run_scan("--outdir", str(synthesized.outdir), reports=reports)
