"""CloudWatch metrics as data, shared by alarms and dashboards (pure Python)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, kw_only=True)
class Metric:
    """One CloudWatch metric.

    ``dimensions``: name -> value (values may be tokens, e.g. a load balancer's
    ``arn_suffix``).
    ``stat``: ``Sum``, ``Average``, ``Maximum``, ``Minimum``, ``SampleCount`` or a
    percentile ``p99``. Default: ``Average``.
    ``period_seconds``: Default: 60.
    ``label``: the dashboard legend. Default: the metric name.
    """

    namespace: str
    name: str
    dimensions: Mapping[str, str] = field(default_factory=dict)
    stat: str = "Average"
    period_seconds: int = 60
    label: str | None = None

    @property
    def is_percentile(self) -> bool:
        return self.stat.startswith("p")

    def dashboard_row(self) -> list[Any]:
        """The metric in a dashboard widget's ``metrics`` array."""
        row: list[Any] = [self.namespace, self.name]
        for key, value in self.dimensions.items():
            row += [key, value]
        row.append(
            {"stat": self.stat, "period": self.period_seconds, "label": self.label or self.name}
        )
        return row
