"""The ``make synth`` summary: policy columns per stack."""

from __future__ import annotations

from stacks.synth import POLICY_COLUMNS, PolicyCounts, render_table


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
