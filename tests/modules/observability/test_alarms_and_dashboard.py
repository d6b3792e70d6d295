"""Alarms and Dashboard: validation and layout."""

from __future__ import annotations

import json
from typing import cast

import cdktf
import pytest
from cdktf import App, TerraformStack

from modules.observability.alarms import Alarms, AlarmSpec, AlarmsProps
from modules.observability.dashboard import Dashboard, DashboardProps, Graph, Section
from modules.observability.metrics import Metric

CPU = Metric(namespace="AWS/ECS", name="CPUUtilization", dimensions={"ClusterName": "c"})


def _spec(key: str = "cpu", **changes: object) -> AlarmSpec:
    values: dict[str, object] = {
        "key": key,
        "tier": "service",
        "description": "d",
        "metrics": {"cpu": CPU},
        "threshold": 80,
        "comparison": "GreaterThanThreshold",
        **changes,
    }
    return AlarmSpec(**values)  # type: ignore[arg-type]


def _alarms(*specs: AlarmSpec) -> Alarms:
    return Alarms(
        TerraformStack(App(), "t"),
        "alarms",
        AlarmsProps(name_prefix="t-", topic_arn="arn:aws:sns:x", specs=specs),
    )


def test_alarms_report_every_problem_at_once() -> None:
    with pytest.raises(ValueError, match="Alarms alarms") as info:
        _alarms(
            _spec("dup"),
            _spec("dup"),
            _spec("two", metrics={"a": CPU, "b": CPU}),
            _spec("late", evaluation_periods=2, datapoints_to_alarm=3),
            _spec("stat", metrics={"m": Metric(namespace="n", name="m", stat="Median")}),
        )
    text = str(info.value)
    for expected in (
        "key 'dup' is used more than once",
        "two: several metrics need an expression",
        "late: datapoints_to_alarm=3",
        "stat.m: unknown stat 'Median'",
    ):
        assert expected in text, expected


def test_percentile_alarms_use_extended_statistics() -> None:
    alarms = _alarms(_spec("p99", metrics={"p": Metric(namespace="n", name="m", stat="p99")}))
    doc = json.loads(cdktf.Testing.synth(cast(TerraformStack, alarms.node.scope)))
    (alarm,) = doc["resource"]["aws_cloudwatch_metric_alarm"].values()
    assert alarm["alarm_name"] == "t-p99"
    assert alarm["extended_statistic"] == "p99"
    assert "statistic" not in alarm
    assert alarm["alarm_actions"] == alarm["ok_actions"] == ["arn:aws:sns:x"]


def test_dashboard_lays_widgets_out_without_overlap() -> None:
    graphs = [Graph(title=f"g{i}", metrics=[CPU], width=w) for i, w in enumerate((12, 12, 18, 6))]
    dashboard = Dashboard(
        TerraformStack(App(), "t"),
        "d",
        DashboardProps(
            name="t",
            region="ap-northeast-1",
            sections=[Section(title="A", graphs=graphs, alarm_arns=["arn:a"])],
        ),
    )
    positions = [(w["type"], w["x"], w["y"]) for w in dashboard.widgets]
    assert positions == [
        ("text", 0, 0),
        ("alarm", 0, 1),
        ("metric", 0, 3),
        ("metric", 12, 3),
        ("metric", 0, 9),
        ("metric", 18, 9),
    ]


def test_dashboard_fails_on_an_empty_section() -> None:
    with pytest.raises(ValueError, match="section 'A': no graphs"):
        Dashboard(
            TerraformStack(App(), "t"),
            "d",
            DashboardProps(name="t", region="r", sections=[Section(title="A", graphs=[])]),
        )
