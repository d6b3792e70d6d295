"""Post-deploy verification of one environment: the promotion gate.

``python -m pipelines.verify --env <env>`` looks up the deployed resources by the physical
names in :mod:`stacks.naming`, runs every check in :data:`pipelines.verify.checks.CHECKS`,
retries the failing ones until a deadline (a fresh deployment may still be rolling) and
reports each check with pass/fail and the reason; the exit code is non-zero when any check
failed. Pipelines promote an image to the next environment only after this passed.
"""

from pipelines.verify.checks import CHECKS, Check
from pipelines.verify.model import CheckResult, Context, Expectations, Outcome, Report
from pipelines.verify.runner import verify

__all__ = [
    "CHECKS",
    "Check",
    "CheckResult",
    "Context",
    "Expectations",
    "Outcome",
    "Report",
    "verify",
]
