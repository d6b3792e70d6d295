"""Redis clients authenticate (AUTH token or RBAC user groups)."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from policies.document import checkov_value


class RedisAuth(BaseResourceCheck):
    fsbp = "ElastiCache.6"

    def __init__(self) -> None:
        super().__init__(
            name="Ensure ElastiCache Redis replication groups require AUTH",
            id="CKV_KKH_017",
            categories=[CheckCategories.IAM],
            supported_resources=["aws_elasticache_replication_group"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        token = checkov_value(conf, "auth_token") or checkov_value(conf, "auth_token_wo")
        groups = checkov_value(conf, "user_group_ids")
        return CheckResult.PASSED if token or groups else CheckResult.FAILED


check = RedisAuth()
