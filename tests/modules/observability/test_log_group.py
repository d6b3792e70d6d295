from __future__ import annotations

from collections.abc import Callable

import pytest


@pytest.mark.parametrize(
    ("days", "message"),
    [(42, "CloudWatch accepts one of"), (3653, "bounded to at most 731 days")],
)
def test_log_group_rejects_unbounded_or_invalid_retention(
    scratch_stack: Callable[[], object], days: int, message: str
) -> None:
    from modules.observability.log_group import (
        EncryptedLogGroup,
        EncryptedLogGroupProps,
    )
    from modules.security.kms_key import KmsKey, KmsKeyProps

    stack = scratch_stack()
    key = KmsKey(stack, "k", KmsKeyProps(alias="t/k", description="d", account_id="111122223333"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        EncryptedLogGroup(
            stack, "g", EncryptedLogGroupProps(name="/x", retention_days=days, kms_key=key)
        )  # type: ignore[arg-type]
