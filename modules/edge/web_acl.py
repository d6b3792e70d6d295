"""A regional WAFv2 web ACL: AWS managed rules, a per-IP rate limit and admin paths
restricted to allowed networks, with logging to CloudWatch Logs."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from cdktf_cdktf_provider_aws.cloudwatch_log_resource_policy import CloudwatchLogResourcePolicy
from cdktf_cdktf_provider_aws.wafv2_ip_set import Wafv2IpSet
from cdktf_cdktf_provider_aws.wafv2_web_acl import (
    Wafv2WebAcl,
    Wafv2WebAclDefaultAction,
    Wafv2WebAclDefaultActionAllow,
    Wafv2WebAclRule,
    Wafv2WebAclRuleAction,
    Wafv2WebAclRuleActionBlock,
    Wafv2WebAclRuleActionCount,
    Wafv2WebAclRuleOverrideAction,
    Wafv2WebAclRuleOverrideActionCount,
    Wafv2WebAclRuleOverrideActionNone,
    Wafv2WebAclRuleVisibilityConfig,
    Wafv2WebAclVisibilityConfig,
)
from cdktf_cdktf_provider_aws.wafv2_web_acl_association import Wafv2WebAclAssociation
from cdktf_cdktf_provider_aws.wafv2_web_acl_logging_configuration import (
    Wafv2WebAclLoggingConfiguration,
    Wafv2WebAclLoggingConfigurationRedactedFields,
    Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader,
)
from constructs import Construct

from modules.iam import Statement, policy_document, source_conditions
from modules.observability.log_group import EncryptedLogGroup, EncryptedLogGroupProps
from modules.security.kms_key import KmsKey

#: AWS managed rule groups, in evaluation order: (rule group name, metric suffix).
MANAGED_RULE_GROUPS = (
    ("AWSManagedRulesAmazonIpReputationList", "ip-reputation"),
    ("AWSManagedRulesAnonymousIpList", "anonymous-ip"),
    ("AWSManagedRulesCommonRuleSet", "common"),
    ("AWSManagedRulesKnownBadInputsRuleSet", "known-bad-inputs"),
    ("AWSManagedRulesSQLiRuleSet", "sqli"),
)
#: Rules of a managed group that only count: partner systems calling this B2B API commonly
#: run in cloud hosting ranges, which HostingProviderIPList would block outright.
COUNT_ONLY_RULES = {"AWSManagedRulesAnonymousIpList": ("HostingProviderIPList",)}
#: WAF delivers logs only to log groups with this name prefix.
LOG_GROUP_PREFIX = "aws-waf-logs-"
#: Headers never written to the WAF log (credentials).
REDACTED_HEADERS = ("authorization",)


@dataclass(frozen=True, kw_only=True)
class WebAclProps:
    """Props of :class:`WebAcl`.

    ``name``: web ACL name, also the prefix of every metric name.
    ``resource_arn``: the load balancer the ACL protects.
    ``account_id`` / ``region``: where the ACL and its log group live.
    ``log_group_name``: must start with ``aws-waf-logs-``.
    ``logs_key``: the CMK of the log group.
    ``log_retention_days``: WAF log retention. Default: 90.
    ``rate_limit``: requests per client IP per 5 minutes before blocking. Default: 2000.
    ``admin_paths``: URL path prefixes only ``admin_allowed_cidrs`` may reach. Default: none
    (no IP-restriction rule).
    ``admin_allowed_cidrs``: IPv4 networks allowed on ``admin_paths``. Default: none.
    ``mode``: ``block`` enforces every rule; ``count`` only counts (trials outside
    production). Default: ``block``.
    """

    name: str
    resource_arn: str
    account_id: str
    region: str
    log_group_name: str
    logs_key: KmsKey
    log_retention_days: int = 90
    rate_limit: int = 2000
    admin_paths: Sequence[str] = ()
    admin_allowed_cidrs: Sequence[str] = ()
    mode: Literal["block", "count"] = "block"


class WebAcl(Construct):
    """Guarantees: default allow, then in order the AWS IP-reputation, common, known-bad-inputs
    and SQL-injection managed groups (their own actions, override none), the admin-path
    IP restriction and the per-IP rate limit, all blocking unless ``mode`` is ``count``;
    every rule has its own visibility config with a unique metric name and sampled requests;
    the ACL is associated with the resource; every request is logged to a KMS-encrypted log
    group with bounded retention and the ``authorization`` header redacted.
    """

    def __init__(self, scope: Construct, id_: str, props: WebAclProps) -> None:
        super().__init__(scope, id_)
        problems = []
        if not props.log_group_name.startswith(LOG_GROUP_PREFIX):
            problems.append(
                f"log_group_name={props.log_group_name!r}: must start with {LOG_GROUP_PREFIX!r}"
            )
        if not 10 <= props.rate_limit <= 2_000_000_000:
            problems.append(f"rate_limit={props.rate_limit}: 10 to 2,000,000,000")
        if props.admin_paths and not props.admin_allowed_cidrs:
            problems.append("admin_paths needs admin_allowed_cidrs (else nobody reaches them)")
        for cidr in props.admin_allowed_cidrs:
            try:
                if ipaddress.ip_network(cidr, strict=True).version != 4:
                    problems.append(f"admin_allowed_cidrs: {cidr!r} is not IPv4")
            except ValueError:
                problems.append(f"admin_allowed_cidrs: {cidr!r} is not a CIDR block")
        for path in props.admin_paths:
            if not path.startswith("/"):
                problems.append(f"admin_paths: {path!r} must start with '/'")
        if props.mode not in ("block", "count"):
            problems.append(f"mode={props.mode!r}: 'block' or 'count'")
        if problems:
            raise ValueError(f"WebAcl {id_}: " + "; ".join(problems))
        self.props = props
        counting = props.mode == "count"
        self.metric_names: list[str] = []

        def visibility(suffix: str) -> Wafv2WebAclRuleVisibilityConfig:
            metric = f"{props.name}-{suffix}"
            self.metric_names.append(metric)
            return Wafv2WebAclRuleVisibilityConfig(
                cloudwatch_metrics_enabled=True,
                metric_name=metric,
                sampled_requests_enabled=True,
            )

        def action() -> Wafv2WebAclRuleAction:
            if counting:
                return Wafv2WebAclRuleAction(count=Wafv2WebAclRuleActionCount())
            return Wafv2WebAclRuleAction(block=Wafv2WebAclRuleActionBlock())

        rules: list[Wafv2WebAclRule] = []
        for group, suffix in MANAGED_RULE_GROUPS:
            rules.append(
                Wafv2WebAclRule(
                    name=group,
                    priority=len(rules),
                    override_action=Wafv2WebAclRuleOverrideAction(
                        count=Wafv2WebAclRuleOverrideActionCount()
                    )
                    if counting
                    else Wafv2WebAclRuleOverrideAction(none=Wafv2WebAclRuleOverrideActionNone()),
                    statement={
                        "managed_rule_group_statement": {
                            "name": group,
                            "vendor_name": "AWS",
                            **(
                                {
                                    "rule_action_override": [
                                        {"name": rule, "action_to_use": {"count": {}}}
                                        for rule in COUNT_ONLY_RULES[group]
                                    ]
                                }
                                if group in COUNT_ONLY_RULES
                                else {}
                            ),
                        }
                    },
                    visibility_config=visibility(suffix),
                )
            )
        self.admin_ip_set: Wafv2IpSet | None = None
        if props.admin_paths:
            self.admin_ip_set = Wafv2IpSet(
                self,
                "admin-ip-set",
                name=f"{props.name}-admin",
                description="Networks allowed on the admin/internal paths",
                scope="REGIONAL",
                ip_address_version="IPV4",
                addresses=list(props.admin_allowed_cidrs),
            )
            rules.append(
                Wafv2WebAclRule(
                    name="AdminPathsFromAllowedNetworks",
                    priority=len(rules),
                    action=action(),
                    statement=_admin_restriction(props.admin_paths, self.admin_ip_set.arn),
                    visibility_config=visibility("admin-paths"),
                )
            )
        rules.append(
            Wafv2WebAclRule(
                name="RateLimitPerIp",
                priority=len(rules),
                action=action(),
                statement={
                    "rate_based_statement": {
                        "limit": props.rate_limit,
                        "aggregate_key_type": "IP",
                        "evaluation_window_sec": 300,
                    }
                },
                visibility_config=visibility("rate-limit"),
            )
        )
        self.web_acl = Wafv2WebAcl(
            self,
            "acl",
            name=props.name,
            description=f"{props.name}: managed rules, admin IP restriction, rate limit",
            scope="REGIONAL",
            default_action=Wafv2WebAclDefaultAction(allow=Wafv2WebAclDefaultActionAllow()),
            rule=rules,
            visibility_config=Wafv2WebAclVisibilityConfig(
                cloudwatch_metrics_enabled=True,
                metric_name=props.name,
                sampled_requests_enabled=True,
            ),
        )
        Wafv2WebAclAssociation(
            self, "association", resource_arn=props.resource_arn, web_acl_arn=self.web_acl.arn
        )
        self.log_group = EncryptedLogGroup(
            self,
            "logs",
            EncryptedLogGroupProps(
                name=props.log_group_name,
                retention_days=props.log_retention_days,
                kms_key=props.logs_key,
            ),
        )
        # WAF writes through the log delivery service; admit it for this group only.
        delivery_policy = CloudwatchLogResourcePolicy(
            self,
            "log-delivery-policy",
            policy_name=f"{props.name}-waf-log-delivery",
            policy_document=policy_document(
                self,
                "log-delivery-policy-doc",
                [
                    Statement(
                        sid="WafLogDelivery",
                        actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                        resources=[f"{_log_group_arn(props)}:log-stream:*"],
                        principals={"Service": ["delivery.logs.amazonaws.com"]},
                        conditions=source_conditions(
                            props.account_id, f"arn:aws:logs:{props.region}:{props.account_id}:*"
                        ),
                    )
                ],
            ),
        )
        Wafv2WebAclLoggingConfiguration(
            self,
            "logging",
            resource_arn=self.web_acl.arn,
            log_destination_configs=[self.log_group.arn],
            redacted_fields=[
                Wafv2WebAclLoggingConfigurationRedactedFields(
                    single_header=Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader(
                        name=header
                    )
                )
                for header in REDACTED_HEADERS
            ],
            depends_on=[delivery_policy],
        )

    @property
    def name(self) -> str:
        return self.props.name

    @property
    def arn(self) -> str:
        return self.web_acl.arn


def _log_group_arn(props: WebAclProps) -> str:
    return f"arn:aws:logs:{props.region}:{props.account_id}:log-group:{props.log_group_name}"


def _admin_restriction(paths: Sequence[str], ip_set_arn: str) -> dict[str, Any]:
    """Match: the path starts with an admin path AND the source is NOT in the IP set.

    The path is URL-decoded and normalized first so ``/%64ocs`` or ``//docs`` cannot slip
    past (the app's router decodes paths the same way).
    """
    matches = [
        {
            "byte_match_statement": {
                "field_to_match": {"uri_path": {}},
                "positional_constraint": "STARTS_WITH",
                "search_string": path,
                "text_transformation": [
                    {"priority": 0, "type": "URL_DECODE"},
                    {"priority": 1, "type": "NORMALIZE_PATH"},
                ],
            }
        }
        for path in paths
    ]
    path_match = matches[0] if len(matches) == 1 else {"or_statement": {"statement": matches}}
    outside = {
        "not_statement": {"statement": [{"ip_set_reference_statement": {"arn": ip_set_arn}}]}
    }
    return {"and_statement": {"statement": [path_match, outside]}}
