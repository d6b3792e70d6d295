"""Reading synthesized Terraform JSON in tests: readable lookups and reference helpers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

JSON = dict[str, Any]
ENVIRONMENTS = ("dev", "staging", "prod")


def ref(resource_type: str, name: str, attribute: str = "id") -> str:
    """The interpolation Terraform JSON uses to point at another resource's attribute."""
    return f"${{{resource_type}.{name}.{attribute}}}"


def refs_in(value: Any) -> set[str]:
    """Every ``type.name`` addressed by interpolations anywhere inside ``value``."""
    text = json.dumps(value)
    return set(re.findall(r"\$\{(?:data\.)?([a-z0-9_]+\.[A-Za-z0-9_-]+)\.", text))


@dataclass(frozen=True)
class Stack:
    """One synthesized stack."""

    id: str
    doc: JSON

    def resources(self, resource_type: str) -> dict[str, JSON]:
        """name -> body of every resource of ``resource_type`` (empty when none)."""
        return dict(self.doc.get("resource", {}).get(resource_type, {}))

    def data(self, data_type: str) -> dict[str, JSON]:
        return dict(self.doc.get("data", {}).get(data_type, {}))

    def one(self, resource_type: str, path_contains: str = "") -> tuple[str, JSON]:
        """The single resource of a type (optionally whose construct path contains a text)."""
        found = [
            (name, body)
            for name, body in self.resources(resource_type).items()
            if path_contains in body["//"]["metadata"]["path"]
        ]
        assert len(found) == 1, (
            f"{self.id}: expected one {resource_type} matching {path_contains!r}, found "
            f"{[n for n, _ in found]}"
        )
        return found[0]

    def by_path(self, resource_type: str, path_contains: str) -> dict[str, JSON]:
        return {
            name: body
            for name, body in self.resources(resource_type).items()
            if path_contains in body["//"]["metadata"]["path"]
        }

    def policy_document(self, policy_ref: str) -> JSON:
        """Resolve ``${data.aws_iam_policy_document.X.json}`` to its data block."""
        match = re.fullmatch(r"\$\{data\.aws_iam_policy_document\.([^.]+)\.json\}", policy_ref)
        assert match, f"not a policy document reference: {policy_ref!r}"
        return self.data("aws_iam_policy_document")[match.group(1)]

    def all_resources(self) -> Iterator[tuple[str, str, JSON]]:
        for rtype, items in self.doc.get("resource", {}).items():
            for name, body in items.items():
                yield rtype, name, body


@dataclass
class Synthesized:
    """The output directory of one synthesis run."""

    outdir: Path
    stack_ids: tuple[str, ...]
    _cache: dict[str, Stack] = field(default_factory=dict)

    def stack(self, stack_id: str) -> Stack:
        if stack_id not in self._cache:
            path = self.outdir / "stacks" / stack_id / "cdk.tf.json"
            self._cache[stack_id] = Stack(stack_id, json.loads(path.read_text()))
        return self._cache[stack_id]

    def of(self, env: str, component: str) -> Stack:
        return self.stack(f"kakehashi-{env}-{component}")

    @cached_property
    def files(self) -> dict[Path, str]:
        """Every file synthesis wrote, as text."""
        return {p: p.read_text() for p in self.outdir.rglob("*") if p.is_file()}


_REMOTE = re.compile(
    r"\$\{data\.terraform_remote_state\.cross-stack-reference-input-([A-Za-z0-9_-]+)"
    r"\.outputs\.([A-Za-z0-9_-]+)\}"
)


def remote_output(synthesized: Synthesized, value: str) -> tuple[Stack, Any]:
    """Follow a cross-stack reference (``${data.terraform_remote_state.<stack>.outputs.X}``)
    to the producing stack and the value of its output ``X``."""
    match = _REMOTE.fullmatch(value)
    assert match, f"not a cross-stack reference: {value!r}"
    producer = synthesized.stack(match.group(1))
    return producer, producer.doc["output"][match.group(2)]["value"]
