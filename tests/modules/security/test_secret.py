"""Secret, GeneratedSecretValue and KmsKey.grant_sign: validation and grants."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cdktf import App, TerraformStack
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.provider import AwsProvider

from modules.security.generated_secret_value import (
    GeneratedSecretValue,
    GeneratedSecretValueProps,
)
from modules.security.kms_key import KmsKey, KmsKeyProps
from modules.security.secret import Secret, SecretProps
from tests.synth_helpers import Stack, ref

ACCOUNT = "111122223333"
REGION = "ap-northeast-1"


def _stack(app: App | None = None) -> tuple[TerraformStack, KmsKey]:
    stack = TerraformStack(app or App(), "test")
    AwsProvider(stack, "aws", region=REGION)
    key = KmsKey(stack, "key", KmsKeyProps(alias="t/data", description="d", account_id=ACCOUNT))
    return stack, key


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Stack:
    app = App(outdir=str(tmp_path_factory.mktemp("secret")))
    stack, key = _stack(app)
    signing = KmsKey(
        stack,
        "signing",
        KmsKeyProps(
            alias="t/jwt",
            description="s",
            account_id=ACCOUNT,
            key_spec="ECC_NIST_P256",
            key_usage="SIGN_VERIFY",
        ),
    )
    secret = Secret(
        stack,
        "carrier",
        SecretProps(name="t/carrier-api", description="c", kms_key=key, region=REGION),
    )
    role = IamRole(stack, "task-role", name="task", assume_role_policy="{}")
    secret.grant_read(role)  # default policy id: read-<construct id>
    signing.grant_sign(role)
    app.synth()
    return Stack("test", json.loads((Path(app.outdir) / "stacks/test/cdk.tf.json").read_text()))


def test_creates_the_secret_without_any_version(synthesized: Stack) -> None:
    key_name, _ = synthesized.one("aws_kms_key", "/key/")
    _, secret = synthesized.one("aws_secretsmanager_secret")
    assert secret["kms_key_id"] == ref("aws_kms_key", key_name, "arn")
    assert secret["recovery_window_in_days"] == 30
    assert synthesized.resources("aws_secretsmanager_secret_version") == {}


def test_grant_read_allows_reading_this_secret_only(synthesized: Stack) -> None:
    secret_name, _ = synthesized.one("aws_secretsmanager_secret")
    _, policy = synthesized.one("aws_iam_role_policy", "/read-carrier")
    read, decrypt = synthesized.policy_document(policy["policy"])["statement"]
    assert read["resources"] == [ref("aws_secretsmanager_secret", secret_name, "arn")]
    assert decrypt["condition"][0]["variable"] == "kms:ViaService"


def test_grant_sign_allows_only_sign_and_get_public_key(synthesized: Stack) -> None:
    key_name, _ = synthesized.one("aws_kms_key", "/signing/")
    _, policy = synthesized.one("aws_iam_role_policy", "/kms-sign")
    (statement,) = synthesized.policy_document(policy["policy"])["statement"]
    assert statement["actions"] == ["kms:Sign", "kms:GetPublicKey"]
    assert statement["resources"] == [ref("aws_kms_key", key_name, "arn")]


def test_grant_sign_refuses_a_symmetric_key() -> None:
    stack, key = _stack()
    role = IamRole(stack, "role", name="r", assume_role_policy="{}")
    with pytest.raises(ValueError, match="grant_sign needs key_usage SIGN_VERIFY"):
        key.grant_sign(role)


@pytest.mark.parametrize(
    ("name", "window", "expected"),
    [
        ("bad name!", 30, "name='bad name!'"),
        ("t/ok", 0, "recovery_window_days=0: must be 7-30"),
        ("t/ok", 31, "recovery_window_days=31: must be 7-30"),
    ],
)
def test_secret_rejects_bad_props(name: str, window: int, expected: str) -> None:
    stack, key = _stack()
    with pytest.raises(ValueError, match=r"^Secret s: .*" + expected.replace("!", ".")):
        Secret(
            stack,
            "s",
            SecretProps(
                name=name, description="d", kms_key=key, region=REGION, recovery_window_days=window
            ),
        )


@pytest.mark.parametrize(
    ("length", "generation", "expected"),
    [
        (15, 1, "length=15: must be 16-128"),
        (129, 1, "length=129: must be 16-128"),
        (64, 0, "generation=0: must be >= 1"),
    ],
)
def test_generated_value_rejects_bad_props(length: int, generation: int, expected: str) -> None:
    stack, key = _stack()
    secret = Secret(
        stack, "s", SecretProps(name="t/x", description="d", kms_key=key, region=REGION)
    )
    with pytest.raises(ValueError, match=f"^GeneratedSecretValue g: {expected}"):
        GeneratedSecretValue(
            stack,
            "g",
            GeneratedSecretValueProps(secret=secret, length=length, generation=generation),
        )
