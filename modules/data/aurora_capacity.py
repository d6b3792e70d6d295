"""Aurora Serverless v2 capacity rules, shared by the config model and the construct.

Pure Python (no provider bindings) so configuration can be validated without loading them.
The rules are the ones RDS applies to ``ServerlessV2ScalingConfiguration``.
"""

from __future__ import annotations

from decimal import Decimal

ACU_STEP = Decimal("0.5")
MAX_ACU = Decimal(256)
#: Auto-pause bounds RDS accepts for ``SecondsUntilAutoPause`` (5 minutes to 1 day).
AUTO_PAUSE_SECONDS = (300, 86400)


def serverless_capacity_problems(
    min_acu: Decimal, max_acu: Decimal, seconds_until_auto_pause: int | None
) -> list[tuple[str, object, str]]:
    """Every problem with a Serverless v2 capacity as ``(field, value, what is allowed)``.

    ``min_acu``: 0 to 256 in steps of 0.5 (0 only with auto-pause). ``max_acu``: 1 to 256 in
    steps of 0.5, and >= ``min_acu``. ``seconds_until_auto_pause``: only when ``min_acu`` is
    0, then 300 to 86400 (when ``min_acu`` is 0 and it is omitted, RDS pauses after 300).
    """
    problems: list[tuple[str, object, str]] = []
    for name, value, low in (("min_acu", min_acu, Decimal(0)), ("max_acu", max_acu, Decimal(1))):
        if value % ACU_STEP != 0:
            problems.append((name, str(value), "must be a multiple of 0.5"))
        if not low <= value <= MAX_ACU:
            problems.append((name, str(value), f"must be between {low} and {MAX_ACU}"))
    if min_acu > max_acu:
        problems.append(("min_acu", str(min_acu), f"must be <= max_acu ({max_acu})"))
    pause_low, pause_high = AUTO_PAUSE_SECONDS
    if seconds_until_auto_pause is not None:
        if min_acu != 0:
            problems.append(
                (
                    "seconds_until_auto_pause",
                    seconds_until_auto_pause,
                    "auto-pause is only allowed when min_acu is 0",
                )
            )
        if not pause_low <= seconds_until_auto_pause <= pause_high:
            problems.append(
                (
                    "seconds_until_auto_pause",
                    seconds_until_auto_pause,
                    f"must be between {pause_low} and {pause_high} seconds",
                )
            )
    return problems
