"""CloudWatch metric alarms, declared as data and all wired to one notification topic."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
    CloudwatchMetricAlarm,
    CloudwatchMetricAlarmMetricQuery,
    CloudwatchMetricAlarmMetricQueryMetric,
)
from constructs import Construct

from modules.observability.metrics import Metric

Tier = Literal["edge", "service", "data"]
Comparison = Literal[
    "GreaterThanThreshold",
    "GreaterThanOrEqualToThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
]
_SIMPLE_STATS = ("Average", "Sum", "Minimum", "Maximum", "SampleCount")


@dataclass(frozen=True, kw_only=True)
class AlarmSpec:
    """One alarm.

    ``key``: construct id (stable: it is API) and the suffix of the alarm name.
    ``tier``: ``edge``, ``service`` or ``data`` (groups the dashboard).
    ``metrics``: query id -> metric. With one metric and no ``expression`` the alarm watches
    it directly; otherwise ``expression`` (CloudWatch metric math over the ids) is watched.
    ``expression``: Default: none (a single-metric alarm).
    ``evaluation_periods`` / ``datapoints_to_alarm``: Default: 3 of 3.
    ``treat_missing_data``: Default: ``notBreaching`` (no traffic is not an incident);
    use ``breaching`` for metrics whose absence is the incident.
    """

    key: str
    tier: Tier
    description: str
    metrics: Mapping[str, Metric]
    threshold: float
    comparison: Comparison
    expression: str | None = None
    evaluation_periods: int = 3
    datapoints_to_alarm: int | None = None
    treat_missing_data: Literal["notBreaching", "breaching", "ignore", "missing"] = "notBreaching"


@dataclass(frozen=True, kw_only=True)
class AlarmsProps:
    """Props of :class:`Alarms`.

    ``name_prefix``: every alarm is named ``<name_prefix><key>`` (see stacks/naming.py).
    ``topic_arn``: notified on ALARM and on OK.
    ``specs``: the alarms.
    """

    name_prefix: str
    topic_arn: str
    specs: Sequence[AlarmSpec] = field(default_factory=tuple)


class Alarms(Construct):
    """Guarantees: every alarm notifies the topic when it fires and when it recovers; keys
    (hence names) are unique; a single-metric alarm uses the statistic given (percentiles as
    extended statistics); a metric-math alarm returns only its expression."""

    def __init__(self, scope: Construct, id_: str, props: AlarmsProps) -> None:
        super().__init__(scope, id_)
        problems = []
        keys = [s.key for s in props.specs]
        for key in sorted({k for k in keys if keys.count(k) > 1}):
            problems.append(f"specs: key {key!r} is used more than once")
        for spec in props.specs:
            if not spec.metrics:
                problems.append(f"{spec.key}: no metrics")
            if spec.expression is None and len(spec.metrics) != 1:
                problems.append(f"{spec.key}: several metrics need an expression")
            if spec.expression is not None and "expr" in spec.metrics:
                problems.append(f"{spec.key}: 'expr' is reserved for the expression's id")
            if not 1 <= spec.evaluation_periods <= 100:
                problems.append(f"{spec.key}: evaluation_periods={spec.evaluation_periods}")
            if spec.datapoints_to_alarm is not None and not (
                1 <= spec.datapoints_to_alarm <= spec.evaluation_periods
            ):
                problems.append(
                    f"{spec.key}: datapoints_to_alarm={spec.datapoints_to_alarm} must be in "
                    f"1..evaluation_periods ({spec.evaluation_periods})"
                )
            for metric_id, metric in spec.metrics.items():
                if metric.stat not in _SIMPLE_STATS and not metric.is_percentile:
                    problems.append(f"{spec.key}.{metric_id}: unknown stat {metric.stat!r}")
        if problems:
            raise ValueError(f"Alarms {id_}: " + "; ".join(problems))
        self.alarms: dict[str, CloudwatchMetricAlarm] = {}
        self.tiers: dict[str, Tier] = {}
        for spec in props.specs:
            self.alarms[spec.key] = self._alarm(props, spec)
            self.tiers[spec.key] = spec.tier

    def _alarm(self, props: AlarmsProps, spec: AlarmSpec) -> CloudwatchMetricAlarm:
        single = next(iter(spec.metrics.values())) if spec.expression is None else None
        queries = None
        if spec.expression is not None:
            queries = [
                CloudwatchMetricAlarmMetricQuery(
                    id=metric_id,
                    return_data=False,
                    metric=CloudwatchMetricAlarmMetricQueryMetric(
                        namespace=metric.namespace,
                        metric_name=metric.name,
                        dimensions=dict(metric.dimensions),
                        period=metric.period_seconds,
                        stat=metric.stat,
                    ),
                )
                for metric_id, metric in spec.metrics.items()
            ]
            queries.append(
                CloudwatchMetricAlarmMetricQuery(
                    id="expr", expression=spec.expression, label=spec.key, return_data=True
                )
            )
        return CloudwatchMetricAlarm(
            self,
            spec.key,
            alarm_name=f"{props.name_prefix}{spec.key}",
            alarm_description=spec.description,
            comparison_operator=spec.comparison,
            threshold=spec.threshold,
            evaluation_periods=spec.evaluation_periods,
            datapoints_to_alarm=spec.datapoints_to_alarm or spec.evaluation_periods,
            treat_missing_data=spec.treat_missing_data,
            alarm_actions=[props.topic_arn],
            ok_actions=[props.topic_arn],
            actions_enabled=True,
            namespace=single.namespace if single else None,
            metric_name=single.name if single else None,
            dimensions=dict(single.dimensions) if single else None,
            period=single.period_seconds if single else None,
            statistic=single.stat if single and not single.is_percentile else None,
            extended_statistic=single.stat if single and single.is_percentile else None,
            metric_query=queries,
        )

    def names(self, *keys: str) -> list[str]:
        """The alarm names of ``keys`` (e.g. for ECS deployment rollback)."""
        return [self.alarms[k].alarm_name for k in keys]

    def arns(self, tier: Tier) -> list[str]:
        return [a.arn for k, a in self.alarms.items() if self.tiers[k] == tier]
