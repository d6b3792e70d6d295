"""Runs the checks with a bounded retry loop.

Every check runs once; the failing ones run again every ``interval_seconds`` until they all
pass or ``timeout_seconds`` have elapsed, then the last outcome of each is reported. A check
that passed is not run again: the gate answers "did every check pass within the bound", the
question a rolling deployment poses (ECS steady first, targets healthy a little later).

Bound: no attempt starts after the deadline, and an attempt in flight is itself bounded by
the per-request timeouts (AWS: connect/read timeouts with at most
:data:`~pipelines.verify.aws.API_MAX_ATTEMPTS` tries per call; HTTP: the client's timeout), so
the run ends within ``timeout_seconds`` plus one round of checks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from pipelines.verify.aws import error_code
from pipelines.verify.checks import Check, NotFound
from pipelines.verify.model import CheckResult, Context, Outcome, Report


def run_once(check: Check, ctx: Context) -> Outcome:
    """One attempt; an AWS error or a missing resource is a failure with its reason."""
    try:
        return check.run(ctx)
    except NotFound as exc:
        return Outcome.fail(str(exc))
    except ClientError as exc:
        message = exc.response.get("Error", {}).get("Message", "")
        return Outcome.fail(f"AWS error {error_code(exc)}: {message}")
    except NoCredentialsError as exc:  # waiting cannot produce credentials: fail now
        return Outcome(False, f"AWS error {type(exc).__name__}: {exc}", final=True)
    except BotoCoreError as exc:  # endpoint unreachable, ...
        return Outcome.fail(f"AWS error {type(exc).__name__}: {exc}")
    except Exception as exc:
        # A response shape the check did not expect must not hide the other checks' results.
        return Outcome.fail(f"unexpected {type(exc).__name__}: {exc}")


def verify(
    ctx: Context,
    checks: Sequence[Check],
    *,
    timeout_seconds: float,
    interval_seconds: float,
    log: Callable[[str], None] = lambda _: None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Report:
    """Run ``checks`` against ``ctx`` until all pass or the deadline; return the report."""
    started = clock()
    deadline = started + timeout_seconds
    outcomes: dict[str, Outcome] = {}
    attempts = dict.fromkeys((c.name for c in checks), 0)
    finished_at = dict.fromkeys((c.name for c in checks), started)
    pending = list(checks)
    round_number = 0
    while True:
        round_number += 1
        for check in pending:
            attempts[check.name] += 1
            outcomes[check.name] = run_once(check, ctx)
            finished_at[check.name] = clock()
        pending = [c for c in pending if not outcomes[c.name].passed and not outcomes[c.name].final]
        remaining = deadline - clock()
        if not pending or remaining <= 0:
            break
        wait = min(interval_seconds, remaining)
        log(
            f"round {round_number}: {len(pending)} failing "
            f"({', '.join(c.name for c in pending)}); retrying in {wait:.1f} s, "
            f"{remaining:.1f} s left"
        )
        sleep(wait)
    results = tuple(
        CheckResult(
            name=c.name,
            description=c.description,
            passed=outcomes[c.name].passed,
            reason=outcomes[c.name].reason,
            attempts=attempts[c.name],
            elapsed_seconds=finished_at[c.name] - started,
        )
        for c in checks
    )
    return Report(
        env=ctx.expect.env,
        base_url=ctx.expect.base_url,
        timeout_seconds=timeout_seconds,
        elapsed_seconds=clock() - started,
        results=results,
    )
