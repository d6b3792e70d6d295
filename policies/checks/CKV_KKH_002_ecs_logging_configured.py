"""Every ECS container ships its logs."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from policies.document import checkov_value, container_definitions


class EcsLoggingConfigured(BaseResourceCheck):
    fsbp = "ECS.9"

    def __init__(self) -> None:
        super().__init__(
            name="Ensure every ECS container has a log configuration",
            id="CKV_KKH_002",
            categories=[CheckCategories.LOGGING],
            supported_resources=["aws_ecs_task_definition"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        containers = container_definitions(checkov_value(conf, "container_definitions"))
        if containers is None:
            return CheckResult.UNKNOWN
        ok = bool(containers) and all(
            (c.get("logConfiguration") or {}).get("logDriver") for c in containers
        )
        return CheckResult.PASSED if ok else CheckResult.FAILED


check = EcsLoggingConfigured()
