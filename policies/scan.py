"""The policy gate: scan every synthesized stack, apply suppressions, write the review report.

Run it with the checkov virtualenv (checkov's pins conflict with ours)::

    .venv-checkov/bin/python -m policies.scan [--outdir cdktf.out] [--reports reports/policy]

From the project virtualenv (``make synth``) use :func:`run_gate`, which does exactly that in
a subprocess. What it does:

1. checkov (``policies/checkov.yaml``: framework ``terraform_json``, our per-resource checks
   from ``policies/checks``) scans every ``cdktf.out/stacks/*/cdk.tf.json`` in one run;
2. our document checks (``policies.document.DocumentCheck`` in ``policies/checks``: rules
   spanning resources or stacks) run over the same files;
3. ``policies/suppressions.yaml`` is applied: each entry names one check, one resource (one
   component, optionally some environments), a justification, who and when. An entry that
   suppresses nothing is stale and fails the scan;
4. bandit (``app/``), hadolint (``app/Dockerfile``) and zizmor (``.github/workflows``) run when
   those exist, so one report answers "is this safe to ship?";
5. ``reports/policy/``: ``report.md``, ``results.sarif``, ``junit.xml``, ``summary.json``
   (per-stack counts for the ``make synth`` table) and ``findings.json`` (every result).

Exit status: 0 safe to ship, 1 a failed check / scanner finding / stale suppression,
2 the scan itself could not run (bad suppression file, a check that does not load, ...).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import yaml

ROOT = Path(__file__).resolve().parents[1]
POLICIES = ROOT / "policies"
CHECKS_DIR = POLICIES / "checks"
CONFIG = POLICIES / "checkov.yaml"
SUPPRESSIONS = POLICIES / "suppressions.yaml"
CHECKOV_VENV = ROOT / ".venv-checkov"
TOOLS_VENV = ROOT / ".venv"

PASSED, FAILED, SUPPRESSED = "PASSED", "FAILED", "SUPPRESSED"


class ScanError(Exception):
    """The scan could not run (exit status 2)."""


# ----------------------------------------------------------------------------- results
@dataclass(frozen=True)
class CheckInfo:
    id: str
    name: str
    fsbp: str | None
    source: str  # "kakehashi" | "checkov"


@dataclass
class Finding:
    """One check evaluated on one resource of one stack."""

    check_id: str
    check_name: str
    fsbp: str | None
    source: str
    stack: str
    environment: str
    component: str
    resource: str
    result: str
    file: str
    line: int = 1
    detail: str = ""
    justification: str = ""


@dataclass(frozen=True, kw_only=True)
class Suppression:
    """One entry of ``policies/suppressions.yaml``."""

    check: str
    component: str
    resource: str
    justification: str
    by: str
    date: str
    environments: tuple[str, ...] = ()

    def matches(self, f: Finding) -> bool:
        return (
            f.check_id == self.check
            and f.component == self.component
            and f.resource == self.resource
            and (not self.environments or f.environment in self.environments)
        )

    def label(self) -> str:
        envs = ",".join(self.environments) or "all environments"
        return f"{self.check} on {self.component}:{self.resource} ({envs})"


@dataclass
class ScannerSection:
    """The outcome of one extra scanner (bandit, hadolint, zizmor)."""

    name: str
    question: str
    ran: bool
    target: str
    findings: list[dict[str, str]] = field(default_factory=list)
    blocking: int = 0
    note: str = ""

    def add(self, *, rule: str, severity: str, where: str, message: str, blocking: bool) -> None:
        """Record one finding of the tool; a blocking one counts against shipping."""
        self.blocking += blocking
        self.findings.append(
            {
                "rule": rule,
                "severity": severity,
                "where": where,
                "message": message,
                "blocking": "yes" if blocking else "no",
            }
        )


@dataclass
class ScanResult:
    stacks: list[Any]
    findings: list[Finding]
    catalogue: dict[str, CheckInfo]
    suppressions: list[Suppression]
    stale: list[Suppression]
    scanners: list[ScannerSection]
    seconds: float = 0.0

    @property
    def failed(self) -> list[Finding]:
        return [f for f in self.findings if f.result == FAILED]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.stale and not any(s.blocking for s in self.scanners)

    def counts(self, stack: str) -> Counter[str]:
        return Counter(f.result for f in self.findings if f.stack == stack)


# --------------------------------------------------------------------------- checks
def load_catalogue() -> tuple[dict[str, CheckInfo], list[Any]]:
    """Import every check module; return (id -> info of our checks, document checks).

    checkov logs and skips a check module that fails to import; here it is an error, so a
    broken check can never pass silently."""
    from policies.document import DocumentCheck

    catalogue: dict[str, CheckInfo] = {}
    documents: list[Any] = []
    problems = []
    for path in sorted(CHECKS_DIR.glob("CKV_*.py")):
        try:
            module = importlib.import_module(f"policies.checks.{path.stem}")
        except Exception as exc:  # any import failure is a broken check
            problems.append(f"{path.name}: {type(exc).__name__}: {exc}")
            continue
        check = getattr(module, "check", None)
        if check is None or not path.stem.startswith(f"{check.id}_"):
            problems.append(f"{path.name}: must define `check` whose id prefixes the file name")
            continue
        if check.id in catalogue:
            problems.append(f"{path.name}: duplicate check id {check.id}")
        if not check.name.startswith("Ensure "):
            problems.append(f"{path.name}: name must start with 'Ensure ': {check.name!r}")
        catalogue[check.id] = CheckInfo(
            check.id, check.name, getattr(check, "fsbp", None), "kakehashi"
        )
        if isinstance(check, DocumentCheck):
            documents.append(check)
    if problems:
        raise ScanError("policy checks failed to load:\n  " + "\n  ".join(problems))
    return catalogue, documents


def normalise_address(raw: str, doc: dict[str, Any]) -> str:
    """checkov's ``terraform_json`` names resources ``resource.<name>`` / ``data.<name>`` (no
    type) and graph-check data sources ``<type>.<name>`` (no ``data.``): return Terraform's
    address ``<type>.<name>`` / ``data.<type>.<name>``."""
    head, _, rest = raw.partition(".")
    resources, data = doc.get("resource", {}), doc.get("data", {})
    if head in ("resource", "data"):
        blocks = resources if head == "resource" else data
        types = sorted(t for t, items in blocks.items() if rest in items)
        if types:
            return f"{'data.' if head == 'data' else ''}{types[0]}.{rest}"
        return raw
    if head in resources and rest in resources[head]:
        return raw
    if head in data and rest in data[head]:
        return f"data.{raw}"
    return raw


@dataclass(frozen=True)
class Target:
    """A file to scan and how the report names it."""

    path: Path
    stack: str


def _stack_meta(doc: dict[str, Any], stack: str) -> tuple[str, str]:
    from policies.document import StackDoc

    sdoc = StackDoc(name=stack, path=Path(), doc=doc)
    tags = sdoc.default_tags()
    component = tags.get("component") if isinstance(tags.get("component"), str) else None
    return sdoc.environment, component or stack.rsplit("-", 1)[-1]


def checkov_copy(doc: dict[str, Any]) -> dict[str, Any]:
    """The document as checkov 3.3.30 can parse it.

    Its ``terraform_json`` parser raises on a scalar setting in the ``terraform`` block
    (``required_version``, which the data stack pins) and then silently skips the whole
    file. Those settings are irrelevant to every check, so they become empty objects; the
    copy keeps cdktf's layout (two-space indent, same key order), so line numbers hold."""
    settings = doc.get("terraform")
    if not isinstance(settings, dict):
        return doc
    fixed = {k: (v if isinstance(v, dict) else {}) for k, v in settings.items()}
    return {**doc, "terraform": fixed}


def run_checkov(targets: Sequence[Target], catalogue: dict[str, CheckInfo]) -> list[Finding]:
    """One checkov run over every target; PASSED/FAILED records as findings. A file checkov
    cannot parse is an error: it would otherwise pass by not being scanned at all."""
    checkov = Path(sys.executable).parent / "checkov"
    if not checkov.exists():
        raise ScanError(f"checkov not found beside {sys.executable}: run `make policy-venv`")
    with tempfile.TemporaryDirectory(prefix="kakehashi-checkov-") as tmp:
        by_path: dict[str, tuple[Target, dict[str, Any]]] = {}
        argv = [str(checkov), "--config-file", str(CONFIG)]
        for i, target in enumerate(targets):
            doc = json.loads(target.path.read_text(encoding="utf-8"))
            copy = Path(tmp, str(i), target.path.name)
            copy.parent.mkdir()
            copy.write_text(json.dumps(checkov_copy(doc), indent=2), encoding="utf-8")
            by_path[str(copy.resolve())] = (target, doc)
            argv += ["-f", str(copy.resolve())]
        env = {**os.environ, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"}
        proc = subprocess.run(  # noqa: S603 - fixed argv
            argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False
        )
    try:
        output = json.loads(proc.stdout)
    except ValueError as exc:
        raise ScanError(f"checkov failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}") from exc
    reports = output if isinstance(output, list) else [output]
    findings = []
    for report in reports:
        results = report.get("results", {})
        unparsed = [
            by_path[str(Path(p).resolve())][0].stack if str(Path(p).resolve()) in by_path else p
            for p in results.get("parsing_errors", [])
        ]
        if unparsed or report.get("summary", {}).get("parsing_errors"):
            raise ScanError(f"checkov could not parse: {', '.join(unparsed) or '?'}")
        for key, result in (("passed_checks", PASSED), ("failed_checks", FAILED)):
            for record in results.get(key, []):
                path = str(Path(ROOT, record["file_abs_path"]).resolve())
                if path not in by_path:
                    raise ScanError(f"checkov reported an unknown file {record['file_abs_path']}")
                target, doc = by_path[path]
                env_name, component = _stack_meta(doc, target.stack)
                info = catalogue.get(record["check_id"])
                findings.append(
                    Finding(
                        check_id=record["check_id"],
                        check_name=record["check_name"],
                        fsbp=info.fsbp if info else None,
                        source="kakehashi" if info else "checkov",
                        stack=target.stack,
                        environment=env_name,
                        component=component,
                        resource=normalise_address(record["resource"], doc),
                        result=result,
                        file=_relative(target.path),
                        line=(record.get("file_line_range") or [1])[0],
                        detail=record.get("guideline") or "",
                    )
                )
    scanned = {f.stack for f in findings}
    silent = [t.stack for t in targets if t.stack not in scanned]
    if silent:
        raise ScanError(f"checkov reported nothing for: {', '.join(silent)} (not parsed?)")
    return findings


def run_documents(targets: Sequence[Target], documents: Sequence[Any]) -> list[Finding]:
    from policies.document import StackDoc

    stacks = [StackDoc.load(t.path, t.stack) for t in targets]
    meta = {s.name: (_stack_meta(s.doc, s.name), _relative(s.path)) for s in stacks}
    findings = []
    for check in documents:
        for outcome in check.scan(stacks):
            (env_name, component), file = meta[outcome.stack]
            findings.append(
                Finding(
                    check_id=check.id,
                    check_name=check.name,
                    fsbp=check.fsbp,
                    source="kakehashi",
                    stack=outcome.stack,
                    environment=env_name,
                    component=component,
                    resource=outcome.resource,
                    result=outcome.result.value,
                    file=file,
                    detail=outcome.detail if outcome.result.value == FAILED else "",
                )
            )
    return findings


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------------- suppressions
_SUPPRESSION_FIELDS = {"check", "component", "resource", "justification", "by", "date"}
#: Stack components a suppression can name (kakehashi-<env>-<component>, kakehashi-delivery).
COMPONENTS = ("network", "data", "service", "delivery")
#: ``environments:`` selectors besides environment names: every environment whose YAML says
#: ``production: false`` (so a new non-production environment inherits the entry).
NON_PRODUCTION = "non-production"
ENVIRONMENTS_DIR = ROOT / "stacks" / "environments"


def environment_production_flags(directory: Path = ENVIRONMENTS_DIR) -> dict[str, bool]:
    """name -> ``production`` of every environment file (read as YAML: the config model's
    pydantic stack is not installed in the checkov virtualenv)."""
    flags = {}
    for path in sorted(directory.glob("*.yaml")):
        if path.name == "delivery.yaml":
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        flags[path.stem] = bool(data.get("production", False)) if isinstance(data, dict) else False
    return flags


def load_suppressions(
    path: Path | None,
    production_flags: dict[str, bool] | None = None,
    components: Iterable[str] = COMPONENTS,
) -> list[Suppression]:
    """Parse and validate the suppression file; one error lists every problem.

    ``environments`` entries are environment names or ``non-production`` (expanded here to
    every environment with ``production: false``)."""
    if path is None or not path.exists():
        return []
    flags = environment_production_flags() if production_flags is None else production_flags
    known_components = tuple(dict.fromkeys(components))
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = raw.get("suppressions") or []
    problems, found = [], []
    for i, entry in enumerate(entries):
        where = f"{path.name} entry {i + 1}"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a mapping")
            continue
        missing = sorted(k for k in _SUPPRESSION_FIELDS if not str(entry.get(k) or "").strip())
        unknown = sorted(set(entry) - _SUPPRESSION_FIELDS - {"environments"})
        if missing:
            problems.append(f"{where}: missing {', '.join(missing)}")
        if unknown:
            problems.append(f"{where}: unknown keys {', '.join(unknown)}")
        for key in ("check", "component", "resource"):
            if any(c in str(entry.get(key, "")) for c in "*?["):
                problems.append(
                    f"{where}: {key}={entry.get(key)!r}: no wildcards (one exact resource)"
                )
        if len(str(entry.get("justification", "")).split()) < 8:
            problems.append(f"{where}: justification must explain why (at least 8 words)")
        if entry.get("component") and entry.get("component") not in known_components:
            problems.append(
                f"{where}: component={entry.get('component')!r}: one of "
                f"{', '.join(known_components)}"
            )
        try:
            dt.date.fromisoformat(str(entry.get("date", "")))
        except ValueError:
            problems.append(f"{where}: date={entry.get('date')!r}: an ISO date (YYYY-MM-DD)")
        envs = entry.get("environments") or []
        if not isinstance(envs, list):
            problems.append(f"{where}: environments must be a list")
            envs = []
        expanded: list[str] = []
        for name in map(str, envs):
            if name == NON_PRODUCTION:
                expanded += [e for e, production in flags.items() if not production]
            elif name in flags:
                expanded.append(name)
            else:
                problems.append(
                    f"{where}: environments: {name!r}: one of {', '.join(flags)} or "
                    f"{NON_PRODUCTION!r}"
                )
        envs = list(dict.fromkeys(expanded))
        if missing or unknown:
            continue
        found.append(
            Suppression(
                check=str(entry["check"]),
                component=str(entry["component"]),
                resource=str(entry["resource"]),
                justification=" ".join(str(entry["justification"]).split()),
                by=str(entry["by"]),
                date=str(entry["date"]),
                environments=tuple(str(e) for e in envs),
            )
        )
    if problems:
        raise ScanError("invalid suppressions:\n  " + "\n  ".join(problems))
    return found


def apply_suppressions(
    findings: list[Finding], suppressions: Sequence[Suppression]
) -> list[Suppression]:
    """Mark suppressed failures; return the stale entries (those that suppress nothing in
    the stacks scanned; an entry for environments or components not scanned is not judged)."""
    stale = []
    scanned = {(f.environment, f.component) for f in findings}
    for s in suppressions:
        hits = [f for f in findings if f.result == FAILED and s.matches(f)]
        for f in hits:
            f.result, f.justification = SUPPRESSED, f"{s.justification} ({s.by}, {s.date})"
        in_scope = any(
            c == s.component and (not s.environments or e in s.environments) for e, c in scanned
        )
        if in_scope and not hits:
            stale.append(s)
    return stale


# -------------------------------------------------------------------- other scanners
def _tool(name: str) -> str | None:
    candidate = TOOLS_VENV / "bin" / name
    return str(candidate) if candidate.exists() else shutil.which(name)


def _run_tool(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603


def scan_bandit() -> ScannerSection:
    section = ScannerSection(
        "bandit", "Does the service code avoid known insecure Python patterns?", False, "app/"
    )
    if not (ROOT / "app").is_dir():
        section.note = "app/ does not exist: nothing to scan"
        return section
    tool = _tool("bandit")
    if tool is None:
        section.note, section.blocking = "bandit is not installed (make venv)", 1
        return section
    proc = _run_tool([tool, "-r", "app", "-f", "json", "-q", "-x", "app/tests"])
    section.ran = True
    data = json.loads(proc.stdout or "{}")
    for r in data.get("results", []):
        blocking = r["issue_severity"] in ("MEDIUM", "HIGH") and r["issue_confidence"] in (
            "MEDIUM",
            "HIGH",
        )
        section.add(
            rule=r["test_id"],
            severity=f"{r['issue_severity'].lower()}/{r['issue_confidence'].lower()}",
            where=f"{r['filename']}:{r['line_number']}",
            message=r["issue_text"],
            blocking=blocking,
        )
    section.note = "blocking: severity and confidence medium or high"
    return section


def scan_hadolint() -> ScannerSection:
    dockerfile = ROOT / "app" / "Dockerfile"
    section = ScannerSection(
        "hadolint", "Is the container image built safely?", False, "app/Dockerfile"
    )
    if not dockerfile.exists():
        section.note = "app/Dockerfile does not exist: nothing to scan"
        return section
    tool = _tool("hadolint")
    if tool is None:
        section.note, section.blocking = "hadolint is not installed (make venv)", 1
        return section
    proc = _run_tool([tool, "--format", "json", "--no-fail", str(dockerfile.relative_to(ROOT))])
    section.ran = True
    for r in json.loads(proc.stdout or "[]"):
        blocking = r["level"] in ("error", "warning")
        section.add(
            rule=r["code"],
            severity=r["level"],
            where=f"{r['file']}:{r['line']}",
            message=r["message"],
            blocking=blocking,
        )
    section.note = "blocking: level error or warning"
    return section


def scan_zizmor() -> ScannerSection:
    workflows = ROOT / ".github" / "workflows"
    section = ScannerSection(
        "zizmor",
        "Are the CI workflows safe from injection and over-privilege?",
        False,
        ".github/workflows",
    )
    if not workflows.is_dir():
        section.note = ".github/workflows does not exist: nothing to scan"
        return section
    tool = _tool("zizmor")
    if tool is None:
        section.note, section.blocking = "zizmor is not installed (make venv)", 1
        return section
    proc = _run_tool([tool, "--offline", "--format", "json", ".github/workflows"])
    section.ran = True
    for r in json.loads(proc.stdout or "[]"):
        severity = r.get("determinations", {}).get("severity", "Unknown")
        blocking = severity in ("Medium", "High")
        locations = r.get("locations") or [{}]
        symbolic = locations[0].get("symbolic", {})
        where = symbolic.get("key", {}).get("Local", {}).get("given_path", "")
        section.add(
            rule=r.get("ident", "?"),
            severity=severity.lower(),
            where=str(where),
            message=r.get("desc", ""),
            blocking=blocking,
        )
    section.note = "blocking: severity medium or high"
    return section


# --------------------------------------------------------------------------- reports
def _md(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(result: ScanResult) -> str:
    verdict = "YES" if result.ok else "NO"
    lines = [
        "# kakehashi policy report",
        "",
        f"**Safe to ship: {verdict}** — generated {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC "
        f"by `policies/scan.py` in {result.seconds:.0f} s.",
        "",
        "Every synthesized stack is scanned by checkov (its built-in AWS checks) and our own "
        "checks (`CKV_KKH_*`, see `policies/checks/`). FSBP: the AWS Foundational Security "
        "Best Practices control the check maps to. A suppressed result is a failure accepted "
        "for the stated reason (`policies/suppressions.yaml`).",
        "",
        "## Totals",
        "",
        "| environment | stack | passed | failed | suppressed |",
        "|---|---|---:|---:|---:|",
    ]
    for stack in result.stacks:
        c = result.counts(stack.name)
        lines.append(
            f"| {stack.environment} | {stack.name} | {c[PASSED]} | {c[FAILED]} | {c[SUPPRESSED]} |"
        )
    total = Counter(f.result for f in result.findings)
    lines += [
        f"| **all** | | **{total[PASSED]}** | **{total[FAILED]}** | **{total[SUPPRESSED]}** |"
    ]
    if result.stale:
        lines += ["", "## Stale suppressions (they suppress nothing: delete them)", ""]
        lines += [f"- {s.label()} — {s.justification}" for s in result.stale]
    by_env: dict[str, list[Any]] = defaultdict(list)
    for stack in result.stacks:
        by_env[stack.environment].append(stack)
    for env_name, stacks in by_env.items():
        lines += ["", f"## Environment `{env_name}`"]
        for stack in stacks:
            mine = [f for f in result.findings if f.stack == stack.name]
            lines += ["", f"### {stack.name}", "", f"File: `{_relative(stack.path)}`", ""]
            failed = [f for f in mine if f.result == FAILED]
            if failed:
                lines += ["**Failed**", "", "| check | name | FSBP | resource | detail |"]
                lines += ["|---|---|---|---|---|"]
                lines += [
                    f"| {f.check_id} | {_md(f.check_name)} | {f.fsbp or '—'} | `{f.resource}` "
                    f"| {_md(f.detail)} |"
                    for f in sorted(failed, key=lambda f: (f.check_id, f.resource))
                ]
                lines.append("")
            suppressed = [f for f in mine if f.result == SUPPRESSED]
            if suppressed:
                lines += ["**Suppressed**", "", "| check | name | resource | justification |"]
                lines += ["|---|---|---|---|"]
                lines += [
                    f"| {f.check_id} | {_md(f.check_name)} | `{f.resource}` | "
                    f"{_md(f.justification)} |"
                    for f in sorted(suppressed, key=lambda f: (f.check_id, f.resource))
                ]
                lines.append("")
            lines += ["**All checks**", "", "| check | name | FSBP | result | resources |"]
            lines += ["|---|---|---|---|---|"]
            grouped: dict[tuple[str, str], list[Finding]] = defaultdict(list)
            for f in mine:
                grouped[(f.check_id, f.result)].append(f)
            for (check_id, res), items in sorted(grouped.items()):
                names = ", ".join(
                    f"`{f.resource}`" for f in sorted(items, key=lambda f: f.resource)
                )
                first = items[0]
                lines.append(
                    f"| {check_id} | {_md(first.check_name)} | {first.fsbp or '—'} | {res} "
                    f"| {names} |"
                )
    lines += ["", "## Other scanners", ""]
    for s in result.scanners:
        state = "not run" if not s.ran else ("**blocking findings**" if s.blocking else "clean")
        lines += [f"### {s.name}: {s.question}", "", f"Target `{s.target}`: {state}. {s.note}", ""]
        if s.findings:
            lines += ["| rule | severity | where | message | blocking |", "|---|---|---|---|---|"]
            lines += [
                f"| {_md(f['rule'])} | {f['severity']} | `{_md(f['where'])}` | "
                f"{_md(f['message'])} | {f['blocking']} |"
                for f in s.findings
            ]
            lines.append("")
    lines += ["", "## Suppressions in force", ""]
    if not result.suppressions:
        lines.append("None.")
    for rule in result.suppressions:
        lines.append(f"- **{rule.label()}** — {rule.justification} _({rule.by}, {rule.date})_")
    return "\n".join(lines) + "\n"


def render_sarif(result: ScanResult) -> dict[str, Any]:
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for f in result.findings:
        if f.result == PASSED:
            continue
        rules.setdefault(
            f.check_id,
            {
                "id": f.check_id,
                "name": f.check_id,
                "shortDescription": {"text": f.check_name},
                "properties": {"source": f.source, "fsbp": f.fsbp or ""},
            },
        )
        entry: dict[str, Any] = {
            "ruleId": f.check_id,
            "level": "error",
            "message": {"text": f"{f.check_name}: {f.resource} in {f.stack}. {f.detail}".strip()},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.file},
                        "region": {"startLine": max(f.line, 1)},
                    },
                    "logicalLocations": [{"fullyQualifiedName": f"{f.stack}/{f.resource}"}],
                }
            ],
        }
        if f.result == SUPPRESSED:
            entry["suppressions"] = [{"kind": "external", "justification": f.justification}]
        results.append(entry)
    for s in result.scanners:
        for item in s.findings:
            rule = f"{s.name}/{item['rule']}"
            rules.setdefault(rule, {"id": rule, "shortDescription": {"text": item["message"]}})
            path, _, line = item["where"].partition(":")
            results.append(
                {
                    "ruleId": rule,
                    "level": "error" if item["blocking"] == "yes" else "note",
                    "message": {"text": item["message"]},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": path or s.target},
                                "region": {"startLine": int(line) if line.isdigit() else 1},
                            }
                        }
                    ],
                }
            )
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "kakehashi-policy",
                        "informationUri": "https://github.com/bridgecrewio/checkov",
                        "rules": list(rules.values()),
                    }
                },
                "results": results,
            }
        ],
    }


def render_junit(result: ScanResult) -> bytes:
    suites = ET.Element("testsuites", name="kakehashi-policy")
    for stack in result.stacks:
        mine = [f for f in result.findings if f.stack == stack.name]
        c = Counter(f.result for f in mine)
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=stack.name,
            tests=str(len(mine)),
            failures=str(c[FAILED]),
            skipped=str(c[SUPPRESSED]),
        )
        for f in mine:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"{stack.name}.{f.check_id}",
                name=f"{f.check_id} {f.resource}",
            )
            if f.result == FAILED:
                ET.SubElement(case, "failure", message=f.check_name).text = f.detail
            elif f.result == SUPPRESSED:
                ET.SubElement(case, "skipped", message=f"suppressed: {f.justification}")
    for s in result.scanners:
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=s.name,
            tests=str(max(len(s.findings), 1)),
            failures=str(s.blocking),
        )
        if not s.findings:
            ET.SubElement(suite, "testcase", classname=s.name, name=s.target)
        for item in s.findings:
            case = ET.SubElement(
                suite, "testcase", classname=s.name, name=f"{item['rule']} {item['where']}"
            )
            if item["blocking"] == "yes":
                ET.SubElement(case, "failure", message=item["message"])
    stale = ET.SubElement(
        suites,
        "testsuite",
        name="suppressions",
        tests=str(len(result.suppressions)),
        failures=str(len(result.stale)),
    )
    for rule in result.suppressions:
        case = ET.SubElement(stale, "testcase", classname="suppressions", name=rule.label())
        if rule in result.stale:
            ET.SubElement(case, "failure", message="stale suppression: it suppresses nothing")
    data: bytes = ET.tostring(suites, encoding="utf-8", xml_declaration=True)
    return data


def write_reports(result: ScanResult, reports: Path) -> None:
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "report.md").write_text(render_markdown(result), encoding="utf-8")
    (reports / "results.sarif").write_text(json.dumps(render_sarif(result), indent=2), "utf-8")
    (reports / "junit.xml").write_bytes(render_junit(result))
    summary = {
        "ok": result.ok,
        "stacks": {s.name: dict(result.counts(s.name)) for s in result.stacks},
        "stale": [s.label() for s in result.stale],
        "scanners": {s.name: {"ran": s.ran, "blocking": s.blocking} for s in result.scanners},
    }
    (reports / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    (reports / "findings.json").write_text(
        json.dumps([asdict(f) for f in result.findings], indent=1), encoding="utf-8"
    )


# ------------------------------------------------------------------------------ main
def stack_targets(outdir: Path, order: Sequence[str] = ()) -> list[Target]:
    """Every ``<outdir>/stacks/*/cdk.tf.json``: those named in ``order`` first (``make synth``
    passes its build order: environment, then network/data/service), then the rest."""
    files = sorted((outdir / "stacks").glob("*/cdk.tf.json"))
    if not files:
        raise ScanError(f"no synthesized stacks under {outdir}/stacks: run `make synth` first")
    rank = {name: i for i, name in enumerate(order)}
    files.sort(key=lambda f: (rank.get(f.parent.name, len(rank)), f.parent.name))
    return [Target(path=f, stack=f.parent.name) for f in files]


def fixture_targets(paths: Iterable[Path]) -> list[Target]:
    """Fixture files are named ``<check>/<variant>.cdk.tf.json`` after their folder."""
    return [
        Target(path=p, stack=f"{p.parent.name}/{p.name.removesuffix('.cdk.tf.json')}")
        for p in sorted(paths)
    ]


def scan(
    targets: Sequence[Target],
    *,
    suppressions: Path | None = SUPPRESSIONS,
    scanners: bool = True,
) -> ScanResult:
    started = time.monotonic()
    from policies.document import StackDoc

    catalogue, documents = load_catalogue()
    # Our stacks' components, plus those of whatever else is scanned (policy fixtures).
    scanned_components = [
        _stack_meta(json.loads(t.path.read_text(encoding="utf-8")), t.stack)[1] for t in targets
    ]
    rules = load_suppressions(suppressions, components=[*COMPONENTS, *scanned_components])
    findings = run_checkov(targets, catalogue) + run_documents(targets, documents)
    findings.sort(key=lambda f: (f.stack, f.check_id, f.resource))
    stale = apply_suppressions(findings, rules)
    sections = [scan_bandit(), scan_hadolint(), scan_zizmor()] if scanners else []
    stacks = [StackDoc.load(t.path, t.stack) for t in targets]
    return ScanResult(
        stacks=stacks,
        findings=findings,
        catalogue=catalogue,
        suppressions=rules,
        stale=stale,
        scanners=sections,
        seconds=time.monotonic() - started,
    )


def print_outcome(result: ScanResult, reports: Path, out: Any = sys.stdout) -> None:
    for f in result.failed:
        print(f"  FAILED {f.check_id} {f.stack} {f.resource}: {f.check_name}. {f.detail}", file=out)
    for s in result.stale:
        print(f"  STALE suppression {s.label()}: it suppresses nothing, delete it", file=out)
    for section in result.scanners:
        for item in section.findings:
            if item["blocking"] == "yes":
                print(
                    f"  {section.name} {item['rule']} {item['where']}: {item['message']}", file=out
                )
    total = Counter(f.result for f in result.findings)
    verdict = "safe to ship" if result.ok else "NOT safe to ship"
    print(
        f"policy: {total[PASSED]} passed, {total[FAILED]} failed, {total[SUPPRESSED]} suppressed, "
        f"{len(result.stale)} stale suppression(s) in {len(result.stacks)} files: {verdict} "
        f"({result.seconds:.0f} s; report {_relative(reports)}/report.md)",
        file=out,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="policies.scan", description=__doc__.split("\n")[0])
    parser.add_argument("--outdir", type=Path, default=Path("cdktf.out"))
    parser.add_argument("--reports", type=Path, default=Path("reports/policy"))
    parser.add_argument("--files", type=Path, nargs="*", help="scan these files (fixtures)")
    parser.add_argument("--order", default="", help="comma-separated stack ids, report order")
    parser.add_argument("--suppressions", type=Path, default=SUPPRESSIONS)
    parser.add_argument("--no-suppressions", action="store_true")
    parser.add_argument("--no-scanners", action="store_true", help="skip bandit/hadolint/zizmor")
    args = parser.parse_args(argv)
    try:
        order = [s for s in args.order.split(",") if s]
        targets = fixture_targets(args.files) if args.files else stack_targets(args.outdir, order)
        result = scan(
            targets,
            suppressions=None if args.no_suppressions else args.suppressions,
            scanners=not args.no_scanners,
        )
    except ScanError as exc:
        print(f"policy: error: {exc}", file=sys.stderr)
        return 2
    write_reports(result, args.reports)
    print_outcome(result, args.reports)
    return 0 if result.ok else 1


# ------------------------------------------------------------- from the project venv
@dataclass(frozen=True)
class GateOutcome:
    """What :func:`run_gate` reports back: exit status and per-stack counts."""

    status: int
    counts: dict[str, dict[str, int]]


def run_gate(
    outdir: Path, reports: Path = Path("reports/policy"), order: Sequence[str] = ()
) -> GateOutcome:
    """Run this module with the checkov virtualenv (from any interpreter) on ``outdir``.

    Its output goes straight to the terminal; the per-stack counts come from
    ``summary.json``."""
    python = CHECKOV_VENV / "bin" / "python"
    outdir, reports = outdir.resolve(), reports.resolve()
    if not python.exists():
        print("policy: .venv-checkov is missing: run `make policy-venv`", file=sys.stderr)
        return GateOutcome(2, {})
    summary = reports / "summary.json"
    summary.unlink(missing_ok=True)
    proc = subprocess.run(  # noqa: S603 - fixed argv
        [
            str(python),
            "-m",
            "policies.scan",
            *("--outdir", str(outdir), "--reports", str(reports)),
            *("--order", ",".join(order)),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    counts = json.loads(summary.read_text())["stacks"] if summary.exists() else {}
    return GateOutcome(proc.returncode, counts)


if __name__ == "__main__":
    raise SystemExit(main())
