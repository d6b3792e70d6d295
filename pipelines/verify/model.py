"""Values the verifier works with: what is expected, what each check found, the report."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from pipelines.verify.aws import AwsClients


@dataclass(frozen=True, kw_only=True)
class Expectations:
    """What the deployed environment must look like.

    ``image_digest`` and ``version`` are optional: without a digest the api image must
    still be pinned by *a* digest from ``image_repository``; without a version, ``/version``
    must report the ``APP_VERSION`` the service's current task definition declares.
    """

    env: str
    """Environment name (``dev``, ``staging``, ``prod``); physical names derive from it."""
    base_url: str
    """Where ``/healthz`` and ``/version`` are served: ``https://<domain_name>`` by default."""
    image_repository: str | None = None
    """Registry/repository the api image must come from. Default: not checked."""
    image_digest: str | None = None
    """``sha256:<64 hex>`` the api container must run. Default: any digest (not a tag)."""
    version: str | None = None
    """Release version (``APP_VERSION``, ``/version``). Default: the task definition's."""


@dataclass(frozen=True, kw_only=True)
class Context:
    """Everything a check may use. Checks hold no state between attempts."""

    expect: Expectations
    aws: AwsClients
    http: httpx.Client


@dataclass(frozen=True)
class Outcome:
    """The result of one attempt of one check. ``final``: retrying cannot change it (e.g.
    no AWS credentials), so the runner stops retrying that check at once."""

    passed: bool
    reason: str
    final: bool = False

    @classmethod
    def ok(cls, reason: str) -> Outcome:
        return cls(True, reason)

    @classmethod
    def fail(cls, reason: str) -> Outcome:
        return cls(False, reason)

    @classmethod
    def from_problems(cls, problems: list[str], *, ok: str) -> Outcome:
        """Fails listing every problem (``; ``-separated), else passes with ``ok``."""
        return cls.fail("; ".join(problems)) if problems else cls.ok(ok)


@dataclass(frozen=True, kw_only=True)
class CheckResult:
    """A check's final outcome (its last attempt) and how many attempts it took."""

    name: str
    description: str
    passed: bool
    reason: str
    attempts: int
    elapsed_seconds: float


@dataclass(frozen=True, kw_only=True)
class Report:
    """Every check of one verification run."""

    env: str
    base_url: str
    timeout_seconds: float
    elapsed_seconds: float
    results: tuple[CheckResult, ...]

    @property
    def passed(self) -> bool:
        return all(result.passed for result in self.results)

    @property
    def failed(self) -> tuple[CheckResult, ...]:
        return tuple(result for result in self.results if not result.passed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "base_url": self.base_url,
            "passed": self.passed,
            "timeout_seconds": self.timeout_seconds,
            "elapsed_seconds": round(self.elapsed_seconds, 3),
            "checks": [
                {**asdict(result), "elapsed_seconds": round(result.elapsed_seconds, 3)}
                for result in self.results
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_table(self) -> str:
        """A fixed-width table: check, result, attempts, reason; then a summary line."""
        headers = ("CHECK", "RESULT", "ATTEMPTS", "REASON")
        rows = [
            (r.name, "PASS" if r.passed else "FAIL", str(r.attempts), r.reason)
            for r in self.results
        ]
        widths = [max(len(row[i]) for row in (headers, *rows)) for i in range(3)]

        def line(row: tuple[str, str, str, str]) -> str:
            cells = [cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)]
            return "  ".join([*cells, row[3]]).rstrip()

        failed = len(self.failed)
        summary = (
            f"{self.env}: all {len(self.results)} checks passed"
            if not failed
            else f"{self.env}: {failed} of {len(self.results)} checks FAILED"
        )
        return "\n".join(
            [
                line(headers),
                *(line(row) for row in rows),
                "",
                f"{summary} in {self.elapsed_seconds:.1f} s (bound {self.timeout_seconds:g} s)",
            ]
        )
