"""ECS task definitions keep credentials in ``secrets``, never in ``environment``."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from policies.document import (
    SECRET_NAME,
    SECRET_NAME_SAFE_SUFFIX,
    SECRET_VALUE,
    checkov_value,
    container_definitions,
)


def secret_looking(name: str, value: object) -> bool:
    """A credential by its name (``DATABASE_PASSWORD``; ``*_SECRET_ARN`` is a pointer, fine)
    or by its value (an access key id, a private key, a token)."""
    by_name = bool(SECRET_NAME.search(name)) and not SECRET_NAME_SAFE_SUFFIX.search(name)
    return by_name or (isinstance(value, str) and bool(SECRET_VALUE.search(value)))


class EcsNoSecretsInEnvironment(BaseResourceCheck):
    fsbp = "ECS.8"

    def __init__(self) -> None:
        super().__init__(
            name="Ensure ECS containers take credentials from secrets, not environment variables",
            id="CKV_KKH_001",
            categories=[CheckCategories.SECRETS],
            supported_resources=["aws_ecs_task_definition"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        containers = container_definitions(checkov_value(conf, "container_definitions"))
        if containers is None:
            return CheckResult.UNKNOWN
        for container in containers:
            for entry in container.get("environment") or []:
                if secret_looking(str(entry.get("name", "")), entry.get("value")):
                    return CheckResult.FAILED
        return CheckResult.PASSED


check = EcsNoSecretsInEnvironment()
