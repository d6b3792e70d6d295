"""SecureBucket: validation of its encryption and log-delivery props."""

from __future__ import annotations

from typing import Any

import pytest
from cdktf import App, TerraformStack

from modules.security.kms_key import KmsKey, KmsKeyProps
from modules.storage.secure_bucket import LogDelivery, SecureBucket, SecureBucketProps


def _build(with_key: bool = False, **props: Any) -> SecureBucket:
    stack = TerraformStack(App(), "t")
    if with_key:
        props["kms_key"] = KmsKey(
            stack, "key", KmsKeyProps(alias="t/k", description="k", account_id="111122223333")
        )
    return SecureBucket(stack, "bucket", SecureBucketProps(name="t-bucket", **props))


def test_fails_when_sse_kms_has_no_key() -> None:
    with pytest.raises(ValueError, match="encryption='SSE-KMS' needs kms_key"):
        _build()


def test_fails_when_sse_s3_is_given_a_key() -> None:
    with pytest.raises(ValueError, match="kms_key is only used with encryption='SSE-KMS'"):
        _build(with_key=True, encryption="SSE-S3")


def test_fails_when_deny_other_encryption_uploads_is_set_without_sse_kms() -> None:
    with pytest.raises(ValueError, match="deny_other_encryption_uploads needs encryption='SSE-KMS"):
        _build(encryption="SSE-S3", deny_other_encryption_uploads=True)


def test_reports_every_problem_at_once() -> None:
    with pytest.raises(ValueError, match="SecureBucket bucket") as info:
        _build(
            encryption="SSE-S3",
            expiration_days=0,
            noncurrent_expiration_days=0,
            abort_incomplete_upload_days=0,
            log_deliveries=[LogDelivery(sid="X", principals={"AWS": ["a"]}, key_prefix="no-slash")],
        )
    text = str(info.value)
    for expected in (
        "expiration_days=0",
        "noncurrent_expiration_days=0",
        "abort_incomplete_upload_days=0",
        "log_deliveries[X].key_prefix must end with '/'",
    ):
        assert expected in text


def test_arns_are_derived_from_the_name() -> None:
    bucket = _build(encryption="SSE-S3")
    assert bucket.arn == "arn:aws:s3:::t-bucket"
    assert bucket.objects_arn("alb/") == "arn:aws:s3:::t-bucket/alb/*"
