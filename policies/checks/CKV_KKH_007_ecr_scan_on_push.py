"""ECR scans every pushed image for vulnerabilities."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from policies.document import checkov_value, is_reference


class EcrScanOnPush(BaseResourceCheck):
    fsbp = "ECR.1"

    def __init__(self) -> None:
        super().__init__(
            name="Ensure ECR repositories scan images on push",
            id="CKV_KKH_007",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=["aws_ecr_repository"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        scanning = checkov_value(conf, "image_scanning_configuration") or {}
        value = checkov_value(scanning, "scan_on_push", False)
        if is_reference(value):
            return CheckResult.UNKNOWN
        return CheckResult.PASSED if value is True else CheckResult.FAILED


check = EcrScanOnPush()
