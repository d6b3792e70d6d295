"""Every ECS container runs as a non-root user."""

from __future__ import annotations

import re
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from policies.document import checkov_value, container_definitions

_ROOT = re.compile(r"^(root|0)(:.*)?$")


class EcsNonRootUser(BaseResourceCheck):
    fsbp = "ECS.20"

    def __init__(self) -> None:
        super().__init__(
            name="Ensure every ECS container runs as a non-root user",
            id="CKV_KKH_004",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=["aws_ecs_task_definition"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        containers = container_definitions(checkov_value(conf, "container_definitions"))
        if containers is None:
            return CheckResult.UNKNOWN
        # No "user" means the image's USER, which the task definition cannot vouch for.
        ok = bool(containers) and all(
            isinstance(c.get("user"), str) and not _ROOT.match(c["user"]) for c in containers
        )
        return CheckResult.PASSED if ok else CheckResult.FAILED


check = EcsNonRootUser()
