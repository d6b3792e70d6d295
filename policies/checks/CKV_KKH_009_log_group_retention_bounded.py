"""CloudWatch log groups expire, within our bound (logs are evidence, not an archive)."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from modules.observability.retention import retention_problem
from policies.document import checkov_value, is_reference


class LogGroupRetentionBounded(BaseResourceCheck):
    fsbp = "CloudWatch.16"

    def __init__(self) -> None:
        super().__init__(
            name="Ensure CloudWatch log groups set a retention between 1 and 731 days",
            id="CKV_KKH_009",
            categories=[CheckCategories.LOGGING],
            supported_resources=["aws_cloudwatch_log_group"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        days = checkov_value(conf, "retention_in_days", 0)
        if is_reference(days):
            return CheckResult.UNKNOWN
        ok = isinstance(days, int) and retention_problem(days) is None
        return CheckResult.PASSED if ok else CheckResult.FAILED


check = LogGroupRetentionBounded()
