"""The policy gate: the real stacks pass, a broken stack fails naming check and resource,
suppressions are exact and a stale one fails the scan."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import yaml

from policies.scan import (
    FAILED,
    SUPPRESSED,
    Finding,
    ScanError,
    Suppression,
    apply_suppressions,
    load_suppressions,
)
from tests.policies.conftest import ROOT, STALE_COMPONENT, ScanRun
from tests.synth_helpers import ENVIRONMENTS, Synthesized

BROKEN_LOG_GROUP = "aws_cloudwatch_log_group.broken_logs"
BROKEN_DB_RULE = "aws_vpc_security_group_ingress_rule.db_from_world"


@pytest.fixture(scope="session")
def broken_outdir(synthesized: Synthesized, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dev network stack plus an unencrypted log group and a DB security group open to
    the internet (the bindings are already loaded by the session synthesis)."""
    from cdktf import App
    from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
    from cdktf_cdktf_provider_aws.security_group import SecurityGroup
    from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import (
        VpcSecurityGroupIngressRule,
    )

    from stacks.environments import load_environments
    from stacks.network import NetworkStack

    outdir = tmp_path_factory.mktemp("broken.out")
    app = App(outdir=str(outdir))
    network = NetworkStack(app, load_environments()["dev"])
    logs = CloudwatchLogGroup(network, "broken-logs", name="/kakehashi/dev/x", retention_in_days=30)
    logs.override_logical_id("broken_logs")
    db_sg = SecurityGroup(network, "db-sg", name="db", description="db", vpc_id=network.vpc.vpc_id)
    rule = VpcSecurityGroupIngressRule(
        network,
        "db-from-world",
        security_group_id=db_sg.id,
        cidr_ipv4="0.0.0.0/0",
        ip_protocol="tcp",
        from_port=5432,
        to_port=5432,
    )
    rule.override_logical_id("db_from_world")
    app.synth()
    return outdir


def test_fails_make_policy_naming_check_and_resource_when_stack_is_broken(
    broken_outdir: Path,
) -> None:
    proc = subprocess.run(
        [
            "make",
            "-s",
            "policy",
            f"POLICY_OUTDIR={broken_outdir}",
            f"POLICY_REPORTS={broken_outdir / 'reports'}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert proc.returncode != 0
    stack = "kakehashi-dev-network"
    assert f"FAILED CKV_KKH_010 {stack} {BROKEN_LOG_GROUP}:" in proc.stdout
    assert f"FAILED CKV_KKH_011 {stack} {BROKEN_DB_RULE}:" in proc.stdout
    assert "NOT safe to ship" in proc.stdout


def test_has_zero_failed_checks_for_every_environment(real_scan: ScanRun) -> None:
    assert real_scan.status == 0, real_scan.output
    per_stack = real_scan.summary["stacks"]
    envs = {stack.split("-")[1] for stack in per_stack}
    assert envs >= set(ENVIRONMENTS)
    assert {s: c.get(FAILED, 0) for s, c in per_stack.items()} == dict.fromkeys(per_stack, 0)
    assert real_scan.summary["stale"] == []


def test_writes_markdown_sarif_and_junit_reports(real_scan: ScanRun) -> None:
    report = (real_scan.reports / "report.md").read_text()
    assert f"**Safe to ship: {'YES' if real_scan.status == 0 else 'NO'}**" in report
    assert "## Environment `prod`" in report
    assert "CKV_KKH_010" in report
    sarif = json.loads((real_scan.reports / "results.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    suppressed = [r for r in sarif["runs"][0]["results"] if r.get("suppressions")]
    assert suppressed
    assert all(r["suppressions"][0]["justification"] for r in suppressed)
    junit = ET.parse(real_scan.reports / "junit.xml").getroot()  # noqa: S314 - our own file
    suites = {s.get("name"): s for s in junit.iter("testsuite")}
    assert "kakehashi-prod-network" in suites
    for stack, counts in real_scan.summary["stacks"].items():
        assert suites[stack].get("failures") == str(counts.get(FAILED, 0))
        assert suites[stack].get("skipped") == str(counts.get(SUPPRESSED, 0))


def test_fails_scan_on_stale_suppression(stale_scan: ScanRun) -> None:
    """One real finding suppressed, one entry matching nothing: the stale one fails."""
    assert stale_scan.status == 1, stale_scan.output
    assert (
        f"STALE suppression CKV_KKH_010 on {STALE_COMPONENT}:aws_cloudwatch_log_group.gone"
        in stale_scan.output
    )
    mine = [f for f in stale_scan.findings if f["check_id"] == "CKV_KKH_010"]
    assert [(f["resource"], f["result"]) for f in mine] == [
        ("aws_cloudwatch_log_group.unencrypted", SUPPRESSED)
    ]
    assert stale_scan.summary["stale"] == [
        f"CKV_KKH_010 on {STALE_COMPONENT}:aws_cloudwatch_log_group.gone (all environments)"
    ]


def _finding(resource: str, environment: str = "dev") -> Finding:
    return Finding(
        check_id="CKV_AWS_338",
        check_name="retention",
        fsbp=None,
        source="checkov",
        stack=f"kakehashi-{environment}-network",
        environment=environment,
        component="network",
        resource=resource,
        result=FAILED,
        file="x",
    )


def test_suppresses_only_listed_environments() -> None:
    rule = Suppression(
        check="CKV_AWS_338",
        component="network",
        resource="aws_cloudwatch_log_group.flow",
        justification="why",
        by="me",
        date="2026-12-03",
        environments=("dev",),
    )
    dev, prod = (
        _finding("aws_cloudwatch_log_group.flow"),
        _finding("aws_cloudwatch_log_group.flow", "prod"),
    )
    assert apply_suppressions([dev, prod], [rule]) == []
    assert (dev.result, prod.result) == (SUPPRESSED, FAILED)


def test_does_not_judge_suppression_for_environment_not_scanned() -> None:
    rule = Suppression(
        check="CKV_AWS_338",
        component="network",
        resource="aws_cloudwatch_log_group.flow",
        justification="why",
        by="me",
        date="2026-12-03",
        environments=("prod",),
    )
    assert apply_suppressions([_finding("aws_cloudwatch_log_group.flow")], [rule]) == []


def test_rejects_blanket_or_unjustified_suppressions(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "suppressions": [
                    {
                        "check": "CKV_AWS_*",
                        "component": "network",
                        "resource": "*",
                        "justification": "too broad",
                        "by": "me",
                        "date": "2026-12-03",
                    },
                    {"check": "CKV_AWS_338", "component": "network", "resource": "x"},
                ]
            }
        )
    )
    with pytest.raises(ScanError) as caught:
        load_suppressions(path)
    message = str(caught.value)
    assert "entry 1: check='CKV_AWS_*': no wildcards" in message
    assert "entry 1: resource='*': no wildcards" in message
    assert "entry 2: missing by, date, justification" in message


def test_keeps_every_real_suppression_valid() -> None:
    rules = load_suppressions(ROOT / "policies" / "suppressions.yaml")
    assert rules
    assert all(r.justification and r.by and r.date for r in rules)


def test_rejects_unknown_component_environment_and_date(tmp_path: Path) -> None:
    path = tmp_path / "suppressions.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "suppressions": [
                    {
                        "check": "CKV_AWS_338",
                        "component": "netwrk",
                        "resource": "aws_cloudwatch_log_group.x",
                        "environments": ["qa-typo"],
                        "justification": "a long enough justification of eight words here",
                        "by": "me",
                        "date": "yesterday",
                    }
                ]
            }
        )
    )
    with pytest.raises(ScanError) as caught:
        load_suppressions(path, {"dev": False, "prod": True})
    message = str(caught.value)
    assert "entry 1: component='netwrk': one of network, data, service, delivery" in message
    assert "entry 1: date='yesterday': an ISO date (YYYY-MM-DD)" in message
    assert "entry 1: environments: 'qa-typo': one of dev, prod or 'non-production'" in message


def test_non_production_selects_every_environment_that_is_not_production(tmp_path: Path) -> None:
    path = tmp_path / "suppressions.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "suppressions": [
                    {
                        "check": "CKV_AWS_338",
                        "component": "network",
                        "resource": "aws_cloudwatch_log_group.x",
                        "environments": ["non-production"],
                        "justification": "a long enough justification of eight words here",
                        "by": "me",
                        "date": "2026-12-03",
                    }
                ]
            }
        )
    )
    (rule,) = load_suppressions(path, {"dev": False, "qa": False, "prod": True})
    assert rule.environments == ("dev", "qa")
