"""The expectations the runtime tests read: the Dockerfile parser and the secret rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.infra.contract import (
    app_pins,
    normalise,
    read_image_spec,
    secret_findings,
    supported_python,
)

#: A truncated, fake PEM header, assembled so the file holds no key-looking literal.
PEM_HEADER = "-----BEGIN EC " + "PRIVATE KEY-----"

CANARY = "c4nary-Value-xyz0123456789"
CLEAN_ENV = {
    "APP_ENV": "prod",
    "DATABASE_HOST": "kakehashi-prod.cluster-abc.ap-northeast-1.rds.amazonaws.com",
    "DATABASE_PASSWORD": CANARY,
    "DATABASE_SECRET_ARN": "arn:aws:secretsmanager:ap-northeast-1:111122223333:secret:rds!x",
    "REDIS_AUTH_SECRET_ARN": "arn:aws:secretsmanager:ap-northeast-1:111122223333:secret:r",
    "JWT_KMS_KEY_ID": "arn:aws:kms:ap-northeast-1:111122223333:key/1234",
    "SECRET_REFRESH_TTL_SECONDS": "300",
    "CARRIER_BASE_URL": "https://carrier.example.com/api?version=2",
}
COMMAND = ["/opt/venv/bin/python", "/opt/venv/bin/uvicorn", "--port", "8000"]


def test_reads_the_runtime_stage_of_the_dockerfile() -> None:
    spec = read_image_spec()

    assert spec.command[:3] == ("uvicorn", "--factory", "app.main:create_app")
    assert (spec.port, spec.option("--host")) == (8000, "0.0.0.0")  # noqa: S104 - the container binds all
    assert spec.workdir == "/srv"
    assert spec.uid == 10001
    assert spec.env["PATH"].startswith("/opt/venv/bin:")
    assert spec.env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert spec.base_image.startswith("python:3.11.")


def test_reads_only_the_final_stage(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "ARG BASE=python:3.11.11-slim\n"
        'FROM ${BASE} AS build\nWORKDIR /build\nUSER 1\nCMD ["build"]\n'
        'FROM ${BASE} AS runtime\n# comment\nENV A=1 \\\n    B="two words"\n'
        'WORKDIR /srv\nUSER 10001:10001\nCMD ["serve", "--port", "9"]\n'
    )

    spec = read_image_spec(dockerfile)

    assert (spec.command, spec.workdir, spec.user) == (
        ("serve", "--port", "9"),
        "/srv",
        "10001:10001",
    )
    assert spec.env == {"A": "1", "B": "two words"}
    assert spec.base_image == "python:3.11.11-slim"


def test_rejects_a_dockerfile_without_exec_form_cmd_workdir_or_user(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM python:3.11-slim\nCMD uvicorn app.main:app\n")

    with pytest.raises(ValueError, match=r"no exec-form CMD; .*no WORKDIR; .*no USER"):
        read_image_spec(dockerfile)


def test_reads_every_pin_of_the_app_lock_with_normalised_names() -> None:
    pins = app_pins()

    assert pins["fastapi"] == "0.163.2"
    assert "typing-extensions" in pins
    assert normalise("PyYAML") == "pyyaml"
    assert normalise("typing_extensions") == "typing-extensions"
    assert supported_python() == (3, 11)


def test_finds_nothing_in_a_contract_environment() -> None:
    assert secret_findings(CLEAN_ENV, COMMAND) == []


@pytest.mark.parametrize(
    ("environ", "cmdline", "finding"),
    [
        (
            {"AWS_SECRET_ACCESS_KEY": "x"},
            COMMAND,
            "AWS_SECRET_ACCESS_KEY is set (static AWS credentials; use the task role)",
        ),
        (
            {"LOG_CONTEXT": f"user=kakehashi password {CANARY}"},
            COMMAND,
            "environment variable LOG_CONTEXT contains the value of DATABASE_PASSWORD",
        ),
        (
            {},
            [*COMMAND, "--db", CANARY],
            "command-line argument 5 contains the value of DATABASE_PASSWORD",
        ),
        (
            {"DATABASE_URL": "postgresql+asyncpg://kakehashi:hunter2@db:5432/kakehashi"},
            COMMAND,
            "environment variable DATABASE_URL contains a URL with a password",
        ),
        (
            {"JWT_LOCAL_PRIVATE_KEY_PEM": PEM_HEADER + "\nMHc..."},
            COMMAND,
            "JWT_LOCAL_PRIVATE_KEY_PEM looks like a secret outside the contract's secret variables",
        ),
        (
            {"JWT_LOCAL_PRIVATE_KEY_PEM": PEM_HEADER + "\nMHc..."},
            COMMAND,
            "environment variable JWT_LOCAL_PRIVATE_KEY_PEM contains a private key",
        ),
        (
            {"BACKUP_TARGET": "ASIAIOSFODNN7EXAMPLE"},
            COMMAND,
            "environment variable BACKUP_TARGET contains an AWS access key id",
        ),
        (
            {"CARRIER_BASE_URL": "https://carrier.example.com/api?token=abc123"},
            COMMAND,
            "environment variable CARRIER_BASE_URL contains a password/token parameter",
        ),
        (
            {},
            [*COMMAND, "--url", "redis://:tok3n@cache:6379"],
            "command-line argument 5 contains a URL with a password",
        ),
    ],
    ids=[
        "static-aws-credentials",
        "secret-copied-to-another-variable",
        "secret-on-command-line",
        "url-with-password",
        "secret-named-variable",
        "private-key",
        "access-key-id",
        "token-parameter",
        "url-with-password-on-command-line",
    ],
)
def test_finds_secret_values_outside_the_contract_variables(
    environ: dict[str, str], cmdline: list[str], finding: str
) -> None:
    findings = secret_findings({**CLEAN_ENV, **environ}, cmdline)

    assert finding in findings
    assert not any(CANARY in f or "hunter2" in f for f in findings)  # names, never values
