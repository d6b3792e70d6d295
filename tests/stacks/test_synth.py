"""The ``make synth`` summary: policy columns per stack."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from stacks.environments import SynthOptions
from stacks.synth import POLICY_COLUMNS, PolicyCounts, main, render_table


def test_reads_passed_failed_suppressed_per_stack_from_the_gate() -> None:
    counts = PolicyCounts(
        1, {"kakehashi-dev-network": {"PASSED": 180, "FAILED": 1, "SUPPRESSED": 5}}
    )
    assert counts.row("kakehashi-dev-network") == (180, 1, 5)
    assert counts.row("kakehashi-dev-data") == (0, 0, 0)


def test_renders_policy_columns_right_aligned() -> None:
    counts = PolicyCounts(0, {"kakehashi-dev-network": {"PASSED": 180, "SUPPRESSED": 5}})
    table = render_table(
        ("stack", *POLICY_COLUMNS),
        [("kakehashi-dev-network", *counts.row("kakehashi-dev-network"))],
    )
    header, _, row = table.splitlines()
    assert header.split() == ["stack", "passed", "failed", "suppressed"]
    assert row.split() == ["kakehashi-dev-network", "180", "0", "5"]


def test_synth_rejects_an_unknown_environment_before_touching_the_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    previous = tmp_path / "cdktf.out" / "manifest.json"
    previous.parent.mkdir()
    previous.write_text("{}")
    monkeypatch.setenv("KAKEHASHI_ENV", "dev,nope")
    assert main(outdir=previous.parent, out=io.StringIO()) == 2
    assert "no such environment: nope" in capsys.readouterr().err
    assert previous.read_text() == "{}"  # the last good output survives a failed run


def test_synth_reports_config_errors_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KAKEHASHI_IMAGE_DIGEST", "sha256:short")
    assert main(out=io.StringIO()) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: 1 configuration problem(s):")
    assert "Traceback" not in err


def test_synth_options_drop_duplicate_environments() -> None:
    assert SynthOptions.from_environ({"KAKEHASHI_ENV": "dev,dev, prod"}).environments == (
        "dev",
        "prod",
    )
