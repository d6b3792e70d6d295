"""CloudWatch log groups are encrypted with a customer-managed KMS key."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from policies.document import checkov_value


class LogGroupKmsEncrypted(BaseResourceCheck):
    fsbp = None

    def __init__(self) -> None:
        super().__init__(
            name="Ensure CloudWatch log groups are encrypted with a KMS key",
            id="CKV_KKH_010",
            categories=[CheckCategories.ENCRYPTION],
            supported_resources=["aws_cloudwatch_log_group"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        return CheckResult.PASSED if checkov_value(conf, "kms_key_id") else CheckResult.FAILED


check = LogGroupKmsEncrypted()
