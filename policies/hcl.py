"""Read the literal inside a ``${jsonencode(...)}`` attribute (stdlib only).

cdktf renders ``Fn.jsonencode(data)`` as an HCL expression (``{"name" = "api", "port" =
8000, "arn" = aws_x.y.arn}``), not JSON, so container definitions built that way cannot be
``json.loads``-ed. This reader returns the Python data; every reference or function call
stays a string wrapped in ``${...}`` (an unresolved value, see
:func:`policies.document.is_reference`).
"""

from __future__ import annotations

import json
import re
from typing import Any

_JSONENCODE = re.compile(r"\s*\$\{jsonencode\((.*)\)\}\s*", re.DOTALL)
_CLOSERS = {"(": ")", "[": "]", "{": "}"}


class HclError(ValueError):
    """Not a literal this reader understands."""


def jsonencoded(value: str) -> Any:
    """The data of ``${jsonencode(<literal>)}``; :class:`HclError` when it is not one."""
    match = _JSONENCODE.fullmatch(value)
    if not match:
        raise HclError("not a ${jsonencode(...)} expression")
    reader = _Reader(match.group(1))
    result = reader.value()
    if reader.peek():
        raise HclError(f"trailing text at {reader.pos}")
    return result


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self) -> str:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def value(self) -> Any:
        char = self.peek()
        if char == "{":
            return self.collection("{", "}", mapping=True)
        if char == "[":
            return self.collection("[", "]", mapping=False)
        if char == '"':
            return self.string()
        return self.term()

    def collection(self, opener: str, closer: str, *, mapping: bool) -> Any:
        self.pos += 1
        items: list[Any] = []
        pairs: dict[str, Any] = {}
        while self.peek() != closer:
            if not self.peek():
                raise HclError(f"unterminated {opener}")
            if mapping:
                key = self.string() if self.peek() == '"' else self.bare_key()
                if self.peek() not in ("=", ":"):
                    raise HclError(f"expected '=' at {self.pos}")
                self.pos += 1
                pairs[key] = self.value()
            else:
                items.append(self.value())
            if self.peek() == ",":
                self.pos += 1
        self.pos += 1
        return pairs if mapping else items

    def bare_key(self) -> str:
        match = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*").match(self.text, self.pos)
        if not match:
            raise HclError(f"expected a key at {self.pos}")
        self.pos = match.end()
        return match.group(0)

    def string(self) -> str:
        """A quoted string; ``${...}`` interpolations inside are kept verbatim."""
        start = self.pos
        self.pos += 1
        depth = 0
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\":
                self.pos += 2
                continue
            if self.text.startswith("${", self.pos):
                depth += 1
                self.pos += 2
                continue
            if char == "}" and depth:
                depth -= 1
            elif char == '"' and not depth:
                self.pos += 1
                return str(json.loads(self.text[start : self.pos]))
            self.pos += 1
        raise HclError("unterminated string")

    def term(self) -> Any:
        """A number, bool, null, or an expression (reference, call) up to the next , ] }."""
        start, stack = self.pos, []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == '"':
                self.string()
                continue
            if char in _CLOSERS:
                stack.append(_CLOSERS[char])
            elif stack and char == stack[-1]:
                stack.pop()
            elif not stack and char in ",]}":
                break
            self.pos += 1
        text = self.text[start : self.pos].strip()
        if not text:
            raise HclError(f"expected a value at {start}")
        if text in ("true", "false"):
            return text == "true"
        if text == "null":
            return None
        if re.fullmatch(r"-?\d+", text):
            return int(text)
        if re.fullmatch(r"-?\d+\.\d*([eE][-+]?\d+)?", text):
            return float(text)
        return f"${{{text}}}"
