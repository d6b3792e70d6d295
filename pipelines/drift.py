"""``python -m pipelines.drift --env <env>``: ``cdktf diff`` every stack of an environment
and fail when the deployed infrastructure no longer matches the code.

Exit 0: no drift. Exit 1: drift (or a stack whose diff could not be read: unknown is not
clean). A Markdown table goes to ``$GITHUB_STEP_SUMMARY`` when set.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_PLAN = re.compile(r"Plan: (\d+) to add, (\d+) to change, (\d+) to destroy")
_NO_CHANGES = "No changes."


@dataclass(frozen=True)
class StackDiff:
    stack: str
    status: str  # "clean" | "drift" | "unknown"
    add: int = 0
    change: int = 0
    destroy: int = 0


def parse_diff(output: str, stacks: Iterable[str]) -> list[StackDiff]:
    """Read ``cdktf diff`` output (every line prefixed with its stack id)."""
    results = []
    for stack in stacks:
        lines = [line for line in output.splitlines() if line.strip().startswith(stack + " ")]
        text = "\n".join(lines)
        plan = _PLAN.search(text)
        if plan:
            add, change, destroy = (int(n) for n in plan.groups())
            status = "drift" if add or change or destroy else "clean"
            results.append(StackDiff(stack, status, add, change, destroy))
        elif _NO_CHANGES in text:
            results.append(StackDiff(stack, "clean"))
        else:
            results.append(StackDiff(stack, "unknown"))
    return results


def summary(env: str, diffs: Sequence[StackDiff]) -> str:
    rows = [f"| {d.stack} | {d.status} | {d.add} | {d.change} | {d.destroy} |" for d in diffs]
    return "\n".join(
        [
            f"### Drift: {env}",
            "",
            "| stack | status | add | change | destroy |",
            "|---|---|---:|---:|---:|",
            *rows,
            "",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelines.drift")
    parser.add_argument("--env", required=True)
    parser.add_argument("--cdktf", default="cdktf", help="the cdktf CLI command")
    args = parser.parse_args(argv)
    from pathlib import Path

    from stacks.synth import synthesized_stacks  # reads cdktf.out written by make synth

    stacks = [s.stack for s in synthesized_stacks(Path("cdktf.out"))]
    stacks = [s for s in stacks if s.startswith(f"kakehashi-{args.env}-")]
    if not stacks:
        print(f"drift: no synthesized stack for {args.env}; run make synth ENV={args.env}")
        return 1
    proc = subprocess.run(  # noqa: S603 - fixed command, stack ids from our own synth
        [*args.cdktf.split(), "diff", "--skip-synth", *stacks],
        capture_output=True,
        text=True,
        check=False,
    )
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    diffs = parse_diff(proc.stdout, stacks)
    report = summary(args.env, diffs)
    print(report)
    if path := os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(report)
    return 0 if proc.returncode == 0 and all(d.status == "clean" for d in diffs) else 1


if __name__ == "__main__":
    sys.exit(main())
