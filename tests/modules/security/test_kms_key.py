from __future__ import annotations

from collections.abc import Callable

import pytest


def test_kms_key_rejects_bad_deletion_window_and_alias(
    scratch_stack: Callable[[], object],
) -> None:
    from modules.security.kms_key import KmsKey, KmsKeyProps

    props = KmsKeyProps(
        alias="alias/x", description="d", account_id="111122223333", deletion_window_days=3
    )
    with pytest.raises(ValueError, match="deletion_window_days=3: must be 7-30") as info:
        KmsKey(scratch_stack(), "key", props)  # type: ignore[arg-type]
    assert "alias='alias/x'" in str(info.value)


def test_kms_key_disables_rotation_only_for_asymmetric_keys(
    scratch_stack: Callable[[], object],
) -> None:
    import json

    from cdktf import Testing

    from modules.security.kms_key import KmsKey, KmsKeyProps

    stack = scratch_stack()
    KmsKey(stack, "sym", KmsKeyProps(alias="t/sym", description="s", account_id="111122223333"))  # type: ignore[arg-type]
    KmsKey(
        stack,  # type: ignore[arg-type]
        "sign",
        KmsKeyProps(
            alias="t/sign",
            description="s",
            account_id="111122223333",
            key_spec="ECC_NIST_P256",
            key_usage="SIGN_VERIFY",
        ),
    )
    keys = json.loads(Testing.synth(stack))["resource"]["aws_kms_key"]
    by_spec = {k["customer_master_key_spec"]: k for k in keys.values()}
    assert by_spec["SYMMETRIC_DEFAULT"]["enable_key_rotation"] is True
    assert by_spec["ECC_NIST_P256"]["enable_key_rotation"] is False
    assert by_spec["ECC_NIST_P256"]["key_usage"] == "SIGN_VERIFY"
