"""What the service stack monitors: one catalog of metrics feeding both the alarms and the
dashboard, so the two always show the same thing."""

from __future__ import annotations

from modules.edge.alb import PublicLoadBalancer
from modules.edge.web_acl import WebAcl
from modules.observability.alarms import Alarms, AlarmSpec
from modules.observability.dashboard import Graph, Section
from modules.observability.metrics import Metric
from stacks import naming
from stacks.environments import Environment
from stacks.environments.model import ServerlessCapacity


class ServiceMonitoring:
    """The environment's metrics, alarm specs and dashboard sections, by tier (edge,
    service, data). Thresholds come from ``env.observability``; metric dimensions from the
    resources (ALB, target group, web ACL) and from stacks/naming.py (cluster, service,
    Aurora cluster, Redis member nodes ``<replication group>-00N``)."""

    def __init__(self, env: Environment, alb: PublicLoadBalancer, web_acl: WebAcl) -> None:
        self.env = env
        cfg = env.observability
        self.cfg = cfg
        lb = {"LoadBalancer": alb.arn_suffix}
        tg = {"LoadBalancer": alb.arn_suffix, "TargetGroup": alb.target_group_arn_suffix}
        ecs = {
            "ClusterName": naming.ecs_cluster(env.name),
            "ServiceName": naming.ecs_service(env.name),
        }
        aurora = {"DBClusterIdentifier": naming.aurora_cluster(env.name)}
        waf = {"WebACL": web_acl.name, "Region": env.region, "Rule": "ALL"}
        self.redis_nodes = [
            {"CacheClusterId": f"{naming.redis_replication_group(env.name)}-{i:03d}"}
            for i in range(1, env.cache.num_cache_clusters + 1)
        ]

        def m(
            namespace: str, name: str, dims: dict[str, str], stat: str, period_seconds: int = 60
        ) -> Metric:
            return Metric(
                namespace=namespace,
                name=name,
                dimensions=dims,
                stat=stat,
                period_seconds=period_seconds,
            )

        elb, ecs_ns, ci, rds, ec = (
            "AWS/ApplicationELB",
            "AWS/ECS",
            "ECS/ContainerInsights",
            "AWS/RDS",
            "AWS/ElastiCache",
        )
        self.requests = m(elb, "RequestCount", lb, "Sum")
        self.elb_5xx = m(elb, "HTTPCode_ELB_5XX_Count", lb, "Sum")
        self.target_requests = m(elb, "RequestCount", tg, "Sum")
        self.target_5xx = m(elb, "HTTPCode_Target_5XX_Count", tg, "Sum")
        self.latency_p99 = m(elb, "TargetResponseTime", tg, "p99")
        self.latency_p50 = m(elb, "TargetResponseTime", tg, "p50")
        self.unhealthy = m(elb, "UnHealthyHostCount", tg, "Maximum")
        self.healthy = m(elb, "HealthyHostCount", tg, "Minimum")
        self.waf_blocked = m("AWS/WAFV2", "BlockedRequests", waf, "Sum", period_seconds=300)
        self.waf_allowed = m("AWS/WAFV2", "AllowedRequests", waf, "Sum", period_seconds=300)
        self.ecs_cpu = m(ecs_ns, "CPUUtilization", ecs, "Average")
        self.ecs_memory = m(ecs_ns, "MemoryUtilization", ecs, "Average")
        self.running = m(ci, "RunningTaskCount", ecs, "Minimum")
        self.desired = m(ci, "DesiredTaskCount", ecs, "Maximum")
        self.db_cpu = m(rds, "CPUUtilization", aurora, "Average")
        self.db_connections = m(rds, "DatabaseConnections", aurora, "Maximum")
        self.db_freeable = m(rds, "FreeableMemory", aurora, "Minimum")
        self.db_acu = m(rds, "ACUUtilization", aurora, "Average")
        self.redis_cpu = [m(ec, "EngineCPUUtilization", n, "Average") for n in self.redis_nodes]
        self.redis_memory = [
            m(ec, "DatabaseMemoryUsagePercentage", n, "Average") for n in self.redis_nodes
        ]
        self.redis_evictions = [
            m(ec, "Evictions", n, "Sum", period_seconds=300) for n in self.redis_nodes
        ]

    @property
    def serverless(self) -> bool:
        return isinstance(self.env.database.capacity, ServerlessCapacity)

    def alarm_specs(self) -> list[AlarmSpec]:
        cfg, periods = self.cfg, self.cfg.evaluation_periods
        max_connections = self.env.database.max_connections

        def nodes(metrics: list[Metric]) -> dict[str, Metric]:
            return {f"n{i}": metric for i, metric in enumerate(metrics)}

        node_ids = ",".join(f"n{i}" for i in range(len(self.redis_nodes)))
        specs = [
            AlarmSpec(
                key="alb-5xx-rate",
                tier="edge",
                description=f"Load balancer 5xx above {cfg.alb_5xx_rate_percent}% of requests",
                metrics={"e5xx": self.elb_5xx, "req": self.requests},
                expression="IF(req > 0, 100 * FILL(e5xx, 0) / req, 0)",
                threshold=float(cfg.alb_5xx_rate_percent),
                comparison="GreaterThanThreshold",
                evaluation_periods=periods,
            ),
            AlarmSpec(
                key="waf-blocked-spike",
                tier="edge",
                description=f"WAF blocked more than {cfg.waf_blocked_requests} requests in 5 min",
                metrics={"blocked": self.waf_blocked},
                threshold=cfg.waf_blocked_requests,
                comparison="GreaterThanThreshold",
                evaluation_periods=1,
            ),
            AlarmSpec(
                key="target-5xx-rate",
                tier="service",
                description=f"API 5xx above {cfg.target_5xx_rate_percent}% of requests",
                metrics={"t5xx": self.target_5xx, "req": self.target_requests},
                expression="IF(req > 0, 100 * FILL(t5xx, 0) / req, 0)",
                threshold=float(cfg.target_5xx_rate_percent),
                comparison="GreaterThanThreshold",
                evaluation_periods=periods,
            ),
            AlarmSpec(
                key="target-latency-p99",
                tier="service",
                description=f"p99 response time above the {cfg.latency_p99_slo_ms} ms SLO",
                metrics={"p99": self.latency_p99},
                threshold=cfg.latency_p99_slo_ms / 1000,
                comparison="GreaterThanThreshold",
                evaluation_periods=periods,
            ),
            AlarmSpec(
                key="unhealthy-hosts",
                tier="service",
                description="At least one target fails the load balancer health check",
                metrics={"unhealthy": self.unhealthy},
                threshold=0,
                comparison="GreaterThanThreshold",
                evaluation_periods=periods,
            ),
            AlarmSpec(
                key="ecs-cpu-high",
                tier="service",
                description=f"Service CPU above {cfg.ecs_cpu_percent}%",
                metrics={"cpu": self.ecs_cpu},
                threshold=cfg.ecs_cpu_percent,
                comparison="GreaterThanThreshold",
                evaluation_periods=periods,
            ),
            AlarmSpec(
                key="ecs-memory-high",
                tier="service",
                description=f"Service memory above {cfg.ecs_memory_percent}%",
                metrics={"memory": self.ecs_memory},
                threshold=cfg.ecs_memory_percent,
                comparison="GreaterThanThreshold",
                evaluation_periods=periods,
            ),
            AlarmSpec(
                key="running-tasks-below-desired",
                tier="service",
                description="Fewer tasks running than desired for 5 minutes",
                metrics={"running": self.running, "desired": self.desired},
                expression="desired - running",
                threshold=0,
                comparison="GreaterThanThreshold",
                evaluation_periods=5,
            ),
            AlarmSpec(
                key="aurora-cpu-high",
                tier="data",
                description=f"Aurora CPU above {cfg.db_cpu_percent}%",
                metrics={"cpu": self.db_cpu},
                threshold=cfg.db_cpu_percent,
                comparison="GreaterThanThreshold",
                evaluation_periods=periods,
            ),
            AlarmSpec(
                key="aurora-connections-high",
                tier="data",
                description=(
                    f"Aurora connections above {cfg.db_connections_percent}% of "
                    f"max_connections ({max_connections})"
                ),
                metrics={"connections": self.db_connections},
                threshold=max_connections * cfg.db_connections_percent // 100,
                comparison="GreaterThanThreshold",
                evaluation_periods=periods,
            ),
            AlarmSpec(
                key="aurora-freeable-memory-low",
                tier="data",
                description=f"Aurora freeable memory below {cfg.db_freeable_memory_mib} MiB",
                metrics={"freeable": self.db_freeable},
                threshold=cfg.db_freeable_memory_mib * 1024 * 1024,
                comparison="LessThanThreshold",
                evaluation_periods=periods,
            ),
        ]
        if self.serverless:
            specs.append(
                AlarmSpec(
                    key="aurora-acu-utilization-high",
                    tier="data",
                    description=(
                        f"Aurora Serverless v2 above {cfg.db_acu_utilization_percent}% of max ACU"
                    ),
                    metrics={"acu": self.db_acu},
                    threshold=cfg.db_acu_utilization_percent,
                    comparison="GreaterThanThreshold",
                    evaluation_periods=periods,
                )
            )
        specs += [
            AlarmSpec(
                key="redis-cpu-high",
                tier="data",
                description=f"Redis engine CPU above {cfg.redis_cpu_percent}% on any node",
                metrics=nodes(self.redis_cpu),
                expression=f"MAX([{node_ids}])",
                threshold=cfg.redis_cpu_percent,
                comparison="GreaterThanThreshold",
                evaluation_periods=periods,
            ),
            AlarmSpec(
                key="redis-memory-high",
                tier="data",
                description=f"Redis memory above {cfg.redis_memory_percent}% on any node",
                metrics=nodes(self.redis_memory),
                expression=f"MAX([{node_ids}])",
                threshold=cfg.redis_memory_percent,
                comparison="GreaterThanThreshold",
                evaluation_periods=periods,
            ),
            AlarmSpec(
                key="redis-evictions",
                tier="data",
                description=f"Redis evicted more than {cfg.redis_evictions} keys in 5 min",
                metrics=nodes(self.redis_evictions),
                expression=f"SUM([{node_ids}])",
                threshold=cfg.redis_evictions,
                comparison="GreaterThanThreshold",
                evaluation_periods=1,
            ),
        ]
        return specs

    def dashboard_sections(self, alarms: Alarms) -> list[Section]:
        data_graphs = [
            Graph(title="Aurora CPU %", metrics=[self.db_cpu]),
            Graph(title="Aurora connections", metrics=[self.db_connections]),
            Graph(title="Aurora freeable memory", metrics=[self.db_freeable]),
        ]
        if self.serverless:
            data_graphs.append(Graph(title="Aurora ACU utilization %", metrics=[self.db_acu]))
        data_graphs += [
            Graph(title="Redis engine CPU %", metrics=self.redis_cpu),
            Graph(title="Redis memory %", metrics=self.redis_memory),
            Graph(title="Redis evictions", metrics=self.redis_evictions),
        ]
        return [
            Section(
                title="Edge: load balancer and WAF",
                alarm_arns=alarms.arns("edge"),
                graphs=[
                    Graph(
                        title="Requests and load balancer 5xx",
                        metrics=[self.requests, self.elb_5xx],
                    ),
                    Graph(
                        title="WAF allowed / blocked", metrics=[self.waf_allowed, self.waf_blocked]
                    ),
                ],
            ),
            Section(
                title="Service: ECS Fargate API",
                alarm_arns=alarms.arns("service"),
                graphs=[
                    Graph(title="API 5xx", metrics=[self.target_requests, self.target_5xx]),
                    Graph(
                        title="Response time p50 / p99",
                        metrics=[self.latency_p50, self.latency_p99],
                    ),
                    Graph(title="CPU / memory %", metrics=[self.ecs_cpu, self.ecs_memory]),
                    Graph(title="Tasks running / desired", metrics=[self.running, self.desired]),
                    Graph(
                        title="Healthy / unhealthy targets", metrics=[self.healthy, self.unhealthy]
                    ),
                ],
            ),
            Section(
                title="Data: Aurora and Redis", alarm_arns=alarms.arns("data"), graphs=data_graphs
            ),
        ]
