"""Settings: one typed object, development defaults, insecure defaults refused when deployed."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from app.core.config import Settings, project_version

DEPLOYED = {
    "app_env": "prod",
    "database_host": "db.cluster-abc.ap-northeast-1.rds.amazonaws.com",
    "redis_host": "master.cache.example",
    "redis_tls": True,
    "carrier_base_url": "https://carrier.example",
    "carrier_secret_arn": "arn:aws:secretsmanager:ap-northeast-1:111122223333:secret:carrier",
    "jwt_signer": "kms",
    "jwt_kms_key_id": "arn:aws:kms:ap-northeast-1:111122223333:key/abcd",
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what each test sets: `make test` exports DATABASE_URL and REDIS_URL."""
    for name in ("DATABASE_URL", "REDIS_URL", "APP_ENV", "APP_VERSION", "GIT_REVISION"):
        monkeypatch.delenv(name, raising=False)


def test_settings_default_to_embedded_development_setup() -> None:
    settings = Settings()

    assert settings.app_env == "development"
    assert settings.database_dsn == "sqlite+aiosqlite:///local.db"
    assert settings.redis_dsn is None
    assert settings.carrier_base_url is None
    assert settings.jwt_audience == "kakehashi-api"
    assert settings.effective_database_ssl == "disable"


def test_settings_read_the_ecs_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "APP_ENV": "staging",
        "APP_VERSION": "1.4.2",
        "GIT_REVISION": "0123abc",
        "DATABASE_HOST": "db.internal",
        "DATABASE_NAME": "orders",
        "DATABASE_USER": "app",
        "DATABASE_PASSWORD": "from-secrets-manager",
        "DATABASE_POOLER_MODE": "true",
        "REDIS_HOST": "redis.internal",
        "REDIS_PORT": "6380",
        "REDIS_TLS": "true",
        "REDIS_AUTH_TOKEN": "redis-token",
        "CARRIER_BASE_URL": "https://carrier.example",
        "CARRIER_API_KEY": "carrier-key",
        "JWT_SIGNER": "kms",
        "JWT_KMS_KEY_ID": "arn:aws:kms:ap-northeast-1:111122223333:key/abcd",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    settings = Settings()

    assert settings.app_version == "1.4.2"
    assert settings.git_revision == "0123abc"
    assert settings.database_dsn == "postgresql+asyncpg://app@db.internal:5432/orders"
    assert settings.database_password is not None
    assert settings.database_password.get_secret_value() == "from-secrets-manager"
    assert "from-secrets-manager" not in repr(settings)
    assert settings.database_pooler_mode is True
    assert settings.effective_database_ssl == "require"
    assert settings.redis_dsn == "rediss://redis.internal:6380/0"


def test_settings_accept_a_complete_deployed_configuration() -> None:
    settings = Settings(**DEPLOYED)

    assert settings.is_local is False


def test_reject_settings_listing_every_insecure_default_when_deployed() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(app_env="prod", database_ssl="disable")

    message = str(caught.value)
    for fragment in (
        "SQLite is for development only",
        "TLS to the database is required",
        "in-process cache is for development only",
        "in-process mock carrier is for development only",
        "generated development signing key is refused",
    ):
        assert fragment in message


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        pytest.param({"redis_tls": False}, "Redis without TLS", id="redis-plain"),
        pytest.param(
            {"carrier_base_url": "http://carrier.example"}, "plain http", id="carrier-plain-http"
        ),
        pytest.param({"jwt_kms_key_id": None}, "JWT_KMS_KEY_ID", id="kms-without-key"),
        pytest.param(
            {"carrier_secret_arn": None}, "CARRIER_API_KEY/CARRIER_SECRET_ARN", id="carrier-no-key"
        ),
        pytest.param(
            {"database_url": "sqlite+aiosqlite:///x.db"}, "SQLite", id="sqlite-url-in-prod"
        ),
    ],
)
def test_reject_settings_when_deployed_with(override: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        Settings(**{**DEPLOYED, **override})


def test_project_version_comes_from_pyproject() -> None:
    pyproject = Path(__file__).resolve().parents[3] / "pyproject.toml"

    assert f'version = "{project_version()}"' in pyproject.read_text()
