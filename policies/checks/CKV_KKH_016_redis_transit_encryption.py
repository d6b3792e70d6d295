"""Redis speaks TLS only."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from policies.document import checkov_value, is_reference


class RedisTransitEncryption(BaseResourceCheck):
    fsbp = "ElastiCache.5"

    def __init__(self) -> None:
        super().__init__(
            name="Ensure ElastiCache Redis replication groups encrypt data in transit",
            id="CKV_KKH_016",
            categories=[CheckCategories.ENCRYPTION],
            supported_resources=["aws_elasticache_replication_group"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        value = checkov_value(conf, "transit_encryption_enabled", False)
        if is_reference(value):
            return CheckResult.UNKNOWN
        # "preferred" accepts plaintext clients during a migration: not TLS-only.
        mode = checkov_value(conf, "transit_encryption_mode", "required")
        ok = value is True and mode == "required"
        return CheckResult.PASSED if ok else CheckResult.FAILED


check = RedisTransitEncryption()
