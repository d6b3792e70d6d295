"""CloudWatch Logs retention rules, shared by the config model and the log group construct.

Pure Python (no provider bindings) so configuration can be validated without loading them.
"""

#: Values CloudWatch Logs accepts for retention_in_days.
VALID_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
#: Our upper bound: logs are evidence, not an archive (cost, personal data).
MAX_RETENTION_DAYS = 731


def retention_problem(days: int) -> str | None:
    """Why ``days`` is not an acceptable retention, or None when it is."""
    if days not in VALID_RETENTION_DAYS:
        return f"CloudWatch accepts one of {', '.join(map(str, VALID_RETENTION_DAYS))}"
    if days > MAX_RETENTION_DAYS:
        return f"bounded to at most {MAX_RETENTION_DAYS} days (cost, personal data)"
    return None
