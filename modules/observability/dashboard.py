"""A CloudWatch dashboard whose sections group metric graphs and alarm states by tier."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cdktf import Fn
from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from constructs import Construct

from modules.observability.metrics import Metric

_GRID_WIDTH = 24


@dataclass(frozen=True, kw_only=True)
class Graph:
    """One line graph. ``metrics``: plotted together. ``width``: 1-24 grid units. Default:
    12 (two per row). ``height``: Default: 6."""

    title: str
    metrics: Sequence[Metric]
    width: int = 12
    height: int = 6


@dataclass(frozen=True, kw_only=True)
class Section:
    """A titled group of graphs (one per tier). ``alarm_arns``: shown as an alarm-status
    widget at the top of the section. Default: none."""

    title: str
    graphs: Sequence[Graph]
    alarm_arns: Sequence[str] = field(default_factory=tuple)


@dataclass(frozen=True, kw_only=True)
class DashboardProps:
    """Props of :class:`Dashboard`. ``name``: see stacks/naming.py. ``region``: of every
    metric shown. ``sections``: in display order."""

    name: str
    region: str
    sections: Sequence[Section]


class Dashboard(Construct):
    """Guarantees: one header per section followed by its alarm states and graphs, laid out
    left to right, top to bottom, never overlapping."""

    def __init__(self, scope: Construct, id_: str, props: DashboardProps) -> None:
        super().__init__(scope, id_)
        problems = []
        for section in props.sections:
            if not section.graphs:
                problems.append(f"section {section.title!r}: no graphs")
            for graph in section.graphs:
                if not 1 <= graph.width <= _GRID_WIDTH:
                    problems.append(f"{graph.title!r}: width={graph.width}: 1-{_GRID_WIDTH}")
                if not graph.metrics:
                    problems.append(f"{graph.title!r}: no metrics")
        if problems:
            raise ValueError(f"Dashboard {id_}: " + "; ".join(problems))
        self.widgets = _layout(props)
        self.dashboard = CloudwatchDashboard(
            self,
            "dashboard",
            dashboard_name=props.name,
            dashboard_body=Fn.jsonencode({"widgets": self.widgets}),
        )


def _layout(props: DashboardProps) -> list[dict[str, Any]]:
    widgets: list[dict[str, Any]] = []
    y = 0
    for section in props.sections:
        widgets.append(
            {
                "type": "text",
                "x": 0,
                "y": y,
                "width": _GRID_WIDTH,
                "height": 1,
                "properties": {"markdown": f"## {section.title}"},
            }
        )
        y += 1
        if section.alarm_arns:
            widgets.append(
                {
                    "type": "alarm",
                    "x": 0,
                    "y": y,
                    "width": _GRID_WIDTH,
                    "height": 2,
                    "properties": {
                        "title": f"{section.title}: alarms",
                        "alarms": list(section.alarm_arns),
                    },
                }
            )
            y += 2
        x, row_height = 0, 0
        for graph in section.graphs:
            if x + graph.width > _GRID_WIDTH:
                x, y, row_height = 0, y + row_height, 0
            widgets.append(
                {
                    "type": "metric",
                    "x": x,
                    "y": y,
                    "width": graph.width,
                    "height": graph.height,
                    "properties": {
                        "title": graph.title,
                        "region": props.region,
                        "view": "timeSeries",
                        "stacked": False,
                        "metrics": [m.dashboard_row() for m in graph.metrics],
                    },
                }
            )
            x += graph.width
            row_height = max(row_height, graph.height)
        y += row_height
    return widgets
