"""The service's one typed settings object: the only place the app reads the environment.

The ECS task definition sets exactly these variables; locally every one has a development
default so `make run` works with no setup. Outside development/test the insecure defaults
(embedded signing key, SQLite, in-process cache, plain-text Redis or database connections,
the in-process mock carrier) are refused at load, all problems reported in one error.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_UNKNOWN_VERSION = "0.0.0+unknown"
_PYPROJECT_CANDIDATES = (
    Path(__file__).resolve().parents[2] / "pyproject.toml",
    Path.cwd() / "pyproject.toml",
)

Environment = Literal["development", "test", "dev", "staging", "prod"]
LOCAL_ENVIRONMENTS: frozenset[str] = frozenset({"development", "test"})


def project_version() -> str:
    """`[project].version` from pyproject.toml (the image copies it), else a marker."""
    for candidate in _PYPROJECT_CANDIDATES:
        try:
            with candidate.open("rb") as fh:
                version = tomllib.load(fh).get("project", {}).get("version")
        except (OSError, tomllib.TOMLDecodeError):
            continue
        if isinstance(version, str) and version:
            return version
    return _UNKNOWN_VERSION


class SettingsError(ValueError):
    """Raised once, listing every problem with the environment."""


class Settings(BaseSettings):
    """Validated at load; immutable afterwards."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=False)

    # -- identity ---------------------------------------------------------------------------
    app_env: Environment = "development"
    """Default: development (embedded defaults allowed)."""
    app_version: str = Field(default_factory=project_version)
    """Default: pyproject.toml `[project].version`, else "0.0.0+unknown"."""
    git_revision: str = "unknown"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    aws_region: str | None = None
    """Default: boto3's own resolution (AWS_DEFAULT_REGION, instance metadata)."""
    service_name: str = "kakehashi-api"
    """The EMF metric namespace's service dimension and the log `service` field."""

    # -- database ---------------------------------------------------------------------------
    database_url: str | None = None
    """Default: built from DATABASE_HOST etc.; with no host either, SQLite (development only)."""
    database_host: str | None = None
    database_port: int = 5432
    database_name: str = "kakehashi"
    database_user: str = "kakehashi"
    database_password: SecretStr | None = None
    database_secret_arn: str | None = None
    """Default: the password is taken from DATABASE_PASSWORD only and never refreshed."""
    database_ssl: Literal["disable", "require", "verify-full"] | None = None
    """Default: "require" outside development/test, "disable" locally."""
    database_ssl_root_cert: str | None = None
    """CA bundle for "verify-full". Default: the system trust store."""
    database_pool_size: int = Field(default=10, ge=1, le=200)
    database_max_overflow: int = Field(default=5, ge=0, le=200)
    database_pool_recycle_seconds: int = Field(default=1800, ge=30)
    database_pool_timeout_seconds: float = Field(default=5.0, gt=0)
    database_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    database_pooler_mode: bool = False
    """True behind a transaction-mode pooler (RDS Proxy, PgBouncer): no prepared-statement
    caches. Default: false (direct connections, statements cached per connection)."""

    # -- redis ------------------------------------------------------------------------------
    redis_url: str | None = None
    """Default: built from REDIS_HOST etc.; with no host either, an in-process cache
    (development only)."""
    redis_host: str | None = None
    redis_port: int = 6379
    redis_tls: bool = False
    redis_auth_token: SecretStr | None = None
    redis_auth_secret_arn: str | None = None
    redis_socket_timeout_seconds: float = Field(default=0.25, gt=0)
    """Fail-open budget per Redis call; a slow Redis costs a request at most this."""
    redis_retry_interval_seconds: float = Field(default=2.0, ge=0)
    """After a Redis failure, skip Redis for this long before trying again."""
    cache_key_prefix: str = "kakehashi:"
    order_cache_ttl_seconds: int = Field(default=300, ge=1)
    shipment_cache_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=1)

    # -- carrier ----------------------------------------------------------------------------
    carrier_base_url: str | None = None
    """Default: the in-process mock carrier (development/test only)."""
    carrier_api_key: SecretStr | None = None
    carrier_secret_arn: str | None = None
    carrier_connect_timeout_seconds: float = Field(default=1.0, gt=0)
    carrier_read_timeout_seconds: float = Field(default=2.0, gt=0)
    carrier_total_timeout_seconds: float = Field(default=5.0, gt=0)
    """Upper bound for one shipment lookup, retries and back-off included."""
    carrier_max_retries: int = Field(default=2, ge=0, le=10)
    carrier_backoff_base_seconds: float = Field(default=0.1, ge=0)
    carrier_backoff_max_seconds: float = Field(default=2.0, ge=0)
    carrier_breaker_failure_threshold: int = Field(default=5, ge=1)
    carrier_breaker_reset_seconds: float = Field(default=30.0, gt=0)
    carrier_max_connections: int = Field(default=50, ge=1)

    # -- tokens -----------------------------------------------------------------------------
    jwt_signer: Literal["local", "kms"] = "local"
    jwt_kms_key_id: str | None = None
    jwt_local_private_key_pem: SecretStr | None = None
    """Default (development/test only): a P-256 key generated at start-up."""
    jwt_issuer: str = "https://kakehashi.local"
    jwt_audience: str = "kakehashi-api"
    jwt_access_token_ttl_seconds: int = Field(default=900, ge=60, le=3600)
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=300)

    # -- secrets ----------------------------------------------------------------------------
    secret_refresh_ttl_seconds: float = Field(default=300.0, gt=0)
    """How long a secret fetched by ARN is reused before Secrets Manager is asked again."""
    aws_endpoint_url: str | None = None
    """Default: the AWS endpoints (set for local AWS emulators only)."""

    # -- local development ------------------------------------------------------------------
    sqlite_path: str = "local.db"

    @property
    def is_local(self) -> bool:
        return self.app_env in LOCAL_ENVIRONMENTS

    @property
    def effective_database_ssl(self) -> str:
        if self.database_ssl is not None:
            return self.database_ssl
        return "disable" if self.is_local else "require"

    @property
    def database_dsn(self) -> str:
        """SQLAlchemy URL without the password (it is supplied per connection)."""
        if self.database_url:
            return self.database_url
        if self.database_host:
            user = quote(self.database_user, safe="")
            return (
                f"postgresql+asyncpg://{user}@{self.database_host}:{self.database_port}"
                f"/{quote(self.database_name, safe='')}"
            )
        return f"sqlite+aiosqlite:///{self.sqlite_path}"

    @property
    def uses_sqlite(self) -> bool:
        return self.database_dsn.startswith("sqlite")

    @property
    def redis_dsn(self) -> str | None:
        """Redis URL without the auth token (supplied per connection); None: in-process."""
        if self.redis_url:
            return self.redis_url
        if self.redis_host:
            scheme = "rediss" if self.redis_tls else "redis"
            return f"{scheme}://{self.redis_host}:{self.redis_port}/0"
        return None

    @model_validator(mode="after")
    def _check(self) -> Settings:
        problems = [message for failed, message in self._rules() if failed]
        if problems:
            raise SettingsError(
                f"invalid settings for APP_ENV={self.app_env}:\n  - " + "\n  - ".join(problems)
            )
        return self

    def _rules(self) -> list[tuple[bool, str]]:
        deployed = not self.is_local
        redis = self.redis_dsn
        return [
            (
                deployed and self.uses_sqlite,
                "DATABASE_URL/DATABASE_HOST: SQLite is for development only; "
                "set DATABASE_HOST (or DATABASE_URL) to the PostgreSQL endpoint",
            ),
            (
                deployed and self.effective_database_ssl == "disable",
                "DATABASE_SSL=disable: TLS to the database is required outside development",
            ),
            (
                self.effective_database_ssl == "verify-full"
                and self.database_ssl_root_cert is not None
                and not Path(self.database_ssl_root_cert).is_file(),
                f"DATABASE_SSL_ROOT_CERT={self.database_ssl_root_cert!r}: file not found",
            ),
            (
                deployed and redis is None,
                "REDIS_URL/REDIS_HOST: the in-process cache is for development only",
            ),
            (
                deployed and redis is not None and not redis.startswith("rediss://"),
                "REDIS_URL/REDIS_TLS: Redis without TLS is for development only "
                "(set REDIS_TLS=true or a rediss:// URL)",
            ),
            (
                deployed and self.carrier_base_url is None,
                "CARRIER_BASE_URL: the in-process mock carrier is for development only",
            ),
            (
                self.carrier_base_url is not None
                and not self.carrier_base_url.startswith(("http://", "https://")),
                f"CARRIER_BASE_URL={self.carrier_base_url!r}: must be an http(s) URL",
            ),
            (
                deployed
                and self.carrier_base_url is not None
                and not self.carrier_base_url.startswith("https://"),
                "CARRIER_BASE_URL: plain http is for development only",
            ),
            (
                self.carrier_base_url is not None
                and self.carrier_api_key is None
                and self.carrier_secret_arn is None,
                "CARRIER_API_KEY/CARRIER_SECRET_ARN: one is required when CARRIER_BASE_URL is set",
            ),
            (
                self.jwt_signer == "kms" and not self.jwt_kms_key_id,
                "JWT_KMS_KEY_ID: required when JWT_SIGNER=kms",
            ),
            (
                deployed and self.jwt_signer == "local" and self.jwt_local_private_key_pem is None,
                "JWT_SIGNER=local: the generated development signing key is refused outside "
                "development; use JWT_SIGNER=kms (or provide JWT_LOCAL_PRIVATE_KEY_PEM)",
            ),
        ]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()
