"""ECR image tags cannot be overwritten (deploys pin digests; tags must not move)."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from policies.document import checkov_value, is_reference


class EcrTagsImmutable(BaseResourceCheck):
    fsbp = "ECR.2"

    def __init__(self) -> None:
        super().__init__(
            name="Ensure ECR repositories have immutable image tags",
            id="CKV_KKH_006",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=["aws_ecr_repository"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        value = checkov_value(conf, "image_tag_mutability", "MUTABLE")
        if is_reference(value):
            return CheckResult.UNKNOWN
        return CheckResult.PASSED if value == "IMMUTABLE" else CheckResult.FAILED


check = EcrTagsImmutable()
