"""``make synth``: validate config, synthesize every stack, run the policy gate, summarize.

Config errors exit with status 2 and the list of problems (no traceback). After synthesis
the policy gate (:func:`policy_gate`, ``policies/scan.py`` in the checkov virtualenv) scans
every stack; a failed check makes ``make synth`` fail (status 1) after printing the table.
The AWS provider bindings are imported only after the configuration is known to be valid:
they take tens of seconds to load and are loaded once for all environments.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from stacks.environments import ConfigError, SynthOptions, load_environments
from stacks.environments.model import env_order

DEFAULT_OUTDIR = Path("cdktf.out")
DEFAULT_REPORTS = Path("reports/policy")
POLICY_COLUMNS = ("passed", "failed", "suppressed")


@dataclass(frozen=True)
class PolicyCounts:
    """The policy gate's outcome: exit status and per-stack result counts."""

    status: int
    per_stack: dict[str, dict[str, int]]

    def row(self, stack: str) -> tuple[int, int, int]:
        counts = self.per_stack.get(stack, {})
        return counts.get("PASSED", 0), counts.get("FAILED", 0), counts.get("SUPPRESSED", 0)


def policy_gate(
    outdir: Path, order: Sequence[str] = (), reports: Path = DEFAULT_REPORTS
) -> PolicyCounts:
    """Scan ``outdir`` with checkov and our checks (policies/scan.py, run in .venv-checkov);
    write the review report to ``reports`` (stacks in ``order``). Status 0 means every check
    passed."""
    from policies.scan import run_gate

    outcome = run_gate(outdir, reports, order)
    return PolicyCounts(status=outcome.status, per_stack=outcome.counts)


@dataclass(frozen=True)
class StackSummary:
    """One synthesized stack: where it is and what it holds."""

    stack: str
    path: Path
    resources: int
    data_sources: int
    outputs: int

    @property
    def environment(self) -> str:
        parts = self.stack.split("-")
        return parts[1] if len(parts) > 2 else "-"


def summarize(stack_dir: Path) -> StackSummary:
    """Count what a synthesized ``cdk.tf.json`` declares."""
    path = stack_dir / "cdk.tf.json"
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))

    def count(block: str) -> int:
        return sum(len(v) for v in doc.get(block, {}).values())

    return StackSummary(
        stack=stack_dir.name,
        path=path,
        resources=count("resource"),
        data_sources=count("data"),
        outputs=len(doc.get("output", {})),
    )


def synthesized_stacks(outdir: Path, order: Sequence[str] = ()) -> list[StackSummary]:
    """Every stack under ``outdir/stacks``: those in ``order`` first, in that order."""
    manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    names = [n for n in order if n in manifest["stacks"]]
    names += sorted(n for n in manifest["stacks"] if n not in names)
    return [summarize(outdir / "stacks" / name) for name in names]


def render_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table, right-aligning numbers."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]

    def line(row: Sequence[str], raw: Sequence[object]) -> str:
        out = []
        for i, cell in enumerate(row):
            numeric = isinstance(raw[i], int)
            out.append(cell.rjust(widths[i]) if numeric else cell.ljust(widths[i]))
        return "  ".join(out).rstrip()

    sep = "  ".join("-" * w for w in widths)
    body = [line(c, r) for c, r in zip(cells, rows, strict=True)]
    return "\n".join([line(list(headers), list(headers)), sep, *body])


def main(
    argv: Sequence[str] | None = None,
    *,
    summary: bool = True,
    out: TextIO = sys.stdout,
    outdir: Path | None = None,
) -> int:
    """Run a synthesis. ``summary=False`` is the cdktf CLI path (no table, CLI's outdir)."""
    del argv
    started = time.monotonic()

    def say(message: str) -> None:
        if summary:
            print(message, file=out, flush=True)

    try:
        options = SynthOptions.from_environ()
        envs = load_environments()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    unknown = [n for n in options.environments if n not in envs and n != "delivery"]
    if unknown:  # before the slow bindings import: a typo should fail in a second
        print(
            f"error: KAKEHASHI_ENV names no such environment: {', '.join(unknown)}; "
            f"have {', '.join(sorted(envs, key=env_order))} (and 'delivery')",
            file=sys.stderr,
        )
        return 2
    chosen = options.environments or tuple(sorted(envs, key=env_order))
    say(f"kakehashi synth: environments {', '.join(chosen)}")
    say("  loading the AWS provider bindings (once for all stacks, ~20 s) ...")
    from stacks.app import build

    target = (outdir or DEFAULT_OUTDIR) if summary else None
    try:
        built = build(
            options,
            outdir=str(target) if target is not None else None,
            environments=envs,
            on_stack=lambda stack: say(f"  + {stack}"),
        )
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    say(f"  synthesizing {len(built.stacks)} stacks ...")
    if target is not None and (target / "stacks").exists():
        # Only now that the build succeeded: stale stacks of an earlier run must not be
        # scanned, but a failed run must not destroy the last good output either. (The App
        # already made the folders it writes into; keep them, drop their contents.)
        for old in (target / "stacks").iterdir():
            shutil.rmtree(old)
    built.app.synth()
    if not summary:
        return 0
    assert target is not None
    stacks = synthesized_stacks(target, list(built.stacks))
    say(f"  policy gate: checkov + policies/ on {len(stacks)} stacks ...")
    policy = policy_gate(target, [s.stack for s in stacks])
    rows = [
        (s.environment, s.stack, s.resources, s.data_sources, s.outputs, *policy.row(s.stack))
        for s in stacks
    ]
    say("")
    say(
        render_table(
            ("environment", "stack", "resources", "data", "outputs", *POLICY_COLUMNS), rows
        )
    )
    say("")
    say(
        f"{len(stacks)} stacks, {sum(s.resources for s in stacks)} resources in "
        f"{target}/stacks ({time.monotonic() - started:.0f} s)"
    )
    if policy.status != 0:
        print(
            f"error: the policy gate failed (status {policy.status}): see the failures above "
            f"and {DEFAULT_REPORTS}/report.md",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
