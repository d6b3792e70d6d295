"""What our checks share: synthesized stacks as data, references, and the document-check base.

Pure Python (stdlib only) so it runs in either virtualenv. checkov sees one resource at a
time; a :class:`DocumentCheck` sees every synthesized stack at once, which the checks need
when a rule spans resources (a bucket and its policy, an ALB and its WAF association, a
resource and the provider's ``default_tags``) or stacks (unique state keys).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

JSON = dict[str, Any]

_REF = re.compile(r"\$\{(data\.)?([a-z0-9_]+)\.([A-Za-z0-9_-]+)(?:\.[^}]*)?\}")
#: Names that hold credentials. ``_arn``/``_id``/``_name`` suffixes name a secret, not hold one.
SECRET_NAME = re.compile(
    r"(^|[_\-.])(password|passwd|secret|token|api[_\-]?key|private[_\-]?key|credentials?|"
    r"access[_\-]?key|auth)($|[_\-.])",
    re.IGNORECASE,
)
SECRET_NAME_SAFE_SUFFIX = re.compile(
    r"[_\-.](arn|arns|id|ids|name|names|key_id|version|length|rotation|kms_key_id|type|path|"
    r"enabled|ttl|uri|url|header_name|encryption|mode|strategy|policy|format)$",
    re.IGNORECASE,
)
#: Values that are credentials whatever their name.
SECRET_VALUE = re.compile(
    r"(AKIA|ASIA)[A-Z0-9]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----|"
    r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}|"
    r"gh[pousr]_[A-Za-z0-9]{36}|xox[baprs]-[A-Za-z0-9-]{10,}"
)


class Result(StrEnum):
    PASSED = "PASSED"
    FAILED = "FAILED"


def is_reference(value: object) -> bool:
    """An unresolved Terraform expression (``${...}``): its value is unknown at scan time."""
    return isinstance(value, str) and "${" in value


def references(value: object) -> set[str]:
    """Every ``type.name`` (``data.type.name`` for data sources) referenced inside ``value``."""
    text = value if isinstance(value, str) else json.dumps(value)
    return {
        f"{'data.' if m.group(1) else ''}{m.group(2)}.{m.group(3)}" for m in _REF.finditer(text)
    }


def as_list(value: object) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


@dataclass(frozen=True)
class StackDoc:
    """One synthesized stack (``cdk.tf.json``)."""

    name: str
    path: Path
    doc: JSON

    @classmethod
    def load(cls, path: Path, name: str | None = None) -> StackDoc:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return cls(name=name or path.parent.name, path=path, doc=doc)

    def resources(self, resource_type: str) -> dict[str, JSON]:
        return dict(self.doc.get("resource", {}).get(resource_type, {}))

    def data(self, data_type: str) -> dict[str, JSON]:
        return dict(self.doc.get("data", {}).get(data_type, {}))

    def all_resources(self) -> Iterator[tuple[str, str, JSON]]:
        for rtype, items in self.doc.get("resource", {}).items():
            for name, body in items.items():
                yield rtype, name, body

    def lookup(self, address: str) -> JSON | None:
        """The block at ``type.name`` / ``data.type.name`` (None when absent)."""
        parts = address.split(".")
        found: Any = None
        if parts[0] == "data" and len(parts) == 3:
            found = self.doc.get("data", {}).get(parts[1], {}).get(parts[2])
        elif len(parts) == 2:
            found = self.doc.get("resource", {}).get(parts[0], {}).get(parts[1])
        return found if isinstance(found, dict) else None

    def providers(self, kind: str = "aws") -> dict[str, JSON]:
        """alias ('' for the default) -> provider block."""
        blocks = self.doc.get("provider", {}).get(kind, [])
        return {b.get("alias", ""): b for b in as_list(blocks)}

    def default_tags(self, provider: str | None = None) -> dict[str, Any]:
        """The ``default_tags`` of the provider a resource uses (``provider`` = ``aws.<alias>``)."""
        alias = provider.split(".", 1)[1] if provider and "." in provider else ""
        block = self.providers().get(alias, {})
        tags: dict[str, Any] = {}
        for entry in as_list(block.get("default_tags")):
            tags.update(entry.get("tags", {}))
        return tags

    @property
    def environment(self) -> str:
        """The ``environment`` default tag of the stack's provider ('-' when untagged)."""
        value = self.default_tags().get("environment")
        return value if isinstance(value, str) else "-"

    def referencing(self, resource_type: str, target: str) -> dict[str, JSON]:
        """Resources of ``resource_type`` whose body references ``target`` (``type.name``)."""
        return {
            name: body
            for name, body in self.resources(resource_type).items()
            if target in references(_without_metadata(body))
        }

    def resolve_policy(self, value: object) -> list[JSON] | None:
        """Statements of a policy attribute: a literal JSON string or a reference to an
        ``aws_iam_policy_document`` (its statements, normalised to IAM JSON keys). None when
        the document cannot be known here."""
        if isinstance(value, str) and not is_reference(value):
            try:
                return [_iam_statement(s) for s in as_list(json.loads(value).get("Statement"))]
            except (ValueError, AttributeError):
                return None
        refs = references(value)
        docs = [r for r in refs if r.startswith("data.aws_iam_policy_document.")]
        if isinstance(value, str) and len(docs) == 1 and value.strip() == f"${{{docs[0]}.json}}":
            block = self.lookup(docs[0])
            if block is not None:
                return [_data_statement(s) for s in as_list(block.get("statement"))]
        return None


def _without_metadata(body: JSON) -> JSON:
    return {k: v for k, v in body.items() if k != "//"}


def _iam_statement(s: JSON) -> JSON:
    principals = s.get("Principal")
    return {
        "Sid": s.get("Sid", ""),
        "Effect": s.get("Effect", "Allow"),
        "Action": as_list(s.get("Action")),
        "NotAction": as_list(s.get("NotAction")),
        "Resource": as_list(s.get("Resource")),
        "Principal": principals if principals is not None else None,
        "Condition": s.get("Condition", {}),
    }


def _data_statement(s: JSON) -> JSON:
    principals = {p["type"]: as_list(p["identifiers"]) for p in as_list(s.get("principals"))}
    conditions: dict[str, dict[str, list[Any]]] = {}
    for c in as_list(s.get("condition")):
        conditions.setdefault(c["test"], {})[c["variable"]] = as_list(c["values"])
    return {
        "Sid": s.get("sid", ""),
        "Effect": s.get("effect", "Allow"),
        "Action": as_list(s.get("actions")),
        "NotAction": as_list(s.get("not_actions")),
        "Resource": as_list(s.get("resources")),
        "Principal": principals or None,
        "Condition": conditions,
    }


@dataclass(frozen=True)
class Outcome:
    """One result of a document check on one resource of one stack."""

    stack: str
    resource: str
    result: Result
    detail: str = ""


@dataclass
class DocumentCheck:
    """A check over whole stacks. Subclasses set the metadata and implement :meth:`scan`.

    ``id``: ``CKV_KKH_###``. ``name``: "Ensure ..." (what a reviewer reads).
    ``fsbp``: the AWS Foundational Security Best Practices control it maps to (None when
    no control exists). ``environments``: where it applies (empty: everywhere).
    """

    id: str
    name: str
    fsbp: str | None = None
    environments: Sequence[str] = field(default_factory=tuple)

    def applies_to(self, stack: StackDoc) -> bool:
        return not self.environments or stack.environment in self.environments

    def scan(self, stacks: Sequence[StackDoc]) -> Iterator[Outcome]:
        for stack in stacks:
            if self.applies_to(stack):
                yield from self.scan_stack(stack)

    def scan_stack(self, stack: StackDoc) -> Iterator[Outcome]:
        raise NotImplementedError

    # Convenience for subclasses.
    def outcome(self, stack: StackDoc, resource: str, ok: bool, detail: str = "") -> Outcome:
        return Outcome(stack.name, resource, Result.PASSED if ok else Result.FAILED, detail)


def checkov_value(conf: Mapping[str, Any], key: str, default: Any = None) -> Any:
    """A value from checkov's parsed configuration, where every attribute is wrapped in a
    one-element list (``{"retention_in_days": [90]}``)."""
    value = conf.get(key)
    if isinstance(value, list):
        return value[0] if value else default
    return default if value is None else value


def container_definitions(raw: object) -> list[JSON] | None:
    """The containers of an ``aws_ecs_task_definition``: a JSON string or a
    ``${jsonencode(...)}`` literal (what ``Fn.jsonencode`` synthesizes). None when neither.

    References inside (``${aws_...}``) are fine: only the structure is read."""
    from policies.hcl import jsonencoded

    if isinstance(raw, list):
        return [c for c in raw if isinstance(c, dict)]
    if not isinstance(raw, str):
        return None
    try:
        parsed = jsonencoded(raw) if raw.lstrip().startswith("${") else json.loads(raw)
    except ValueError:  # HclError is a ValueError
        return None
    return [c for c in parsed if isinstance(c, dict)] if isinstance(parsed, list) else None
