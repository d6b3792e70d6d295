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


# --------------------------------------------------------------------------------------
# `${jsonencode(...)}` values (container definitions, dashboards) are HCL expressions, not
# JSON: literals plus references. `hcl_jsonencoded` turns one into Python data, each
# reference or function call kept as its Terraform text wrapped in `${...}`.
# --------------------------------------------------------------------------------------


def hcl_jsonencoded(value: str) -> Any:
    """Python data of a ``${jsonencode(<literal>)}`` attribute."""
    match = re.fullmatch(r"\$\{jsonencode\((.*)\)\}", value, flags=re.DOTALL)
    assert match, f"not a jsonencode expression: {value[:80]!r}"
    parser = _HclParser(match.group(1))
    result = parser.value()
    parser.skip()
    assert parser.pos == len(parser.text), f"trailing text: {parser.text[parser.pos :][:80]!r}"
    return result


class _HclParser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str) -> None:
        assert self.peek() == char, f"expected {char!r} at {self.text[self.pos :][:60]!r}"
        self.pos += 1

    def value(self) -> Any:
        char = self.peek()
        if char == "{":
            return self.object()
        if char == "[":
            return self.tuple()
        if char == '"':
            return self.string()
        return self.term()

    def object(self) -> dict[str, Any]:
        self.expect("{")
        out: dict[str, Any] = {}
        while self.peek() != "}":
            key = self.string() if self.peek() == '"' else self.bare()
            assert self.peek() in "=:", f"expected '=' at {self.text[self.pos :][:60]!r}"
            self.pos += 1
            out[key] = self.value()
            if self.peek() == ",":
                self.pos += 1
        self.expect("}")
        return out

    def tuple(self) -> list[Any]:
        self.expect("[")
        out = []
        while self.peek() != "]":
            out.append(self.value())
            if self.peek() == ",":
                self.pos += 1
        self.expect("]")
        return out

    def string(self) -> str:
        self.expect('"')
        start = self.pos
        escaped = False
        while True:
            char = self.text[self.pos]
            if char == '"' and not escaped:
                break
            escaped = char == "\\" and not escaped
            self.pos += 1
        raw = self.text[start : self.pos]
        self.pos += 1
        return str(json.loads(f'"{raw}"')).replace("$${", "${")

    def bare(self) -> str:
        self.skip()
        match = re.compile(r"[A-Za-z0-9_.-]+").match(self.text, self.pos)
        assert match, f"expected a name at {self.text[self.pos :][:60]!r}"
        self.pos = match.end()
        return match.group(0)

    def term(self) -> Any:
        """A number, bool, null, reference or function call (kept as ``${text}``)."""
        self.skip()
        start, depth, in_string = self.pos, 0, False
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if in_string:
                if char == "\\":
                    self.pos += 1
                elif char == '"':
                    in_string = False
            elif char == '"':
                in_string = True
            elif char in "([{":
                depth += 1
            elif char in ")]}":
                if depth == 0:
                    break
                depth -= 1
            elif char == "," and depth == 0:
                break
            self.pos += 1
        raw = self.text[start : self.pos].strip()
        literals = {"true": True, "false": False, "null": None}
        if raw in literals:
            return literals[raw]
        if re.fullmatch(r"-?\d+", raw):
            return int(raw)
        if re.fullmatch(r"-?\d+\.\d*(e-?\d+)?", raw):
            return float(raw)
        return f"${{{raw}}}"


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
