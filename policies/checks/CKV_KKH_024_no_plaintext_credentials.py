"""No credential is written into the synthesized configuration (it would land in git
history, CI logs and the state). Secrets are referenced (Secrets Manager, ``*_wo``
write-only arguments fed from ephemeral values), never inlined.

A string is a plaintext credential when its attribute name says so (``password``,
``auth_token``, ``secret_key``, ...; ``*_arn``/``*_id``/``*_name`` merely point at one) and the
value is a literal rather than a reference, or when the value itself looks like one (access
key id, private key block, JWT, vendor tokens) whatever its name. Every resource, data
source, provider, variable default and output is scanned; each is reported once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from policies.document import (
    SECRET_NAME,
    SECRET_NAME_SAFE_SUFFIX,
    SECRET_VALUE,
    DocumentCheck,
    Outcome,
    StackDoc,
    is_reference,
)

#: Attribute names that look like credentials but hold configuration.
NOT_CREDENTIALS = frozenset(
    {
        "secret_string_wo_version",
        "password_length",
        "manage_master_user_password",
        "transit_encryption_enabled",
        "auth_token_update_strategy",
        "token_type",
        "secret_name",
    }
)


def findings(value: Any, path: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "//":
                continue
            yield from findings(item, f"{path}.{key}" if path else str(key))
            if (
                isinstance(item, str)
                and item
                and not is_reference(item)
                and key not in NOT_CREDENTIALS
                and SECRET_NAME.search(key)
                and not SECRET_NAME_SAFE_SUFFIX.search(key)
            ):
                yield f"{path}.{key}" if path else key
        # ECS-style {"name": "DB_PASSWORD", "value": "..."} pairs.
        name, literal = value.get("name"), value.get("value")
        if (
            isinstance(name, str)
            and isinstance(literal, str)
            and literal
            and not is_reference(literal)
            and SECRET_NAME.search(name)
            and not SECRET_NAME_SAFE_SUFFIX.search(name)
        ):
            yield f"{path}[{name}]"
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from findings(item, f"{path}[{i}]")
    elif isinstance(value, str):
        if SECRET_VALUE.search(value):
            yield path or "<value>"
        elif value.lstrip().startswith(("{", "[")):
            try:
                import json

                yield from findings(json.loads(value), path)
            except ValueError:
                pass


class NoPlaintextCredentials(DocumentCheck):
    def scan_stack(self, stack: StackDoc) -> Iterator[Outcome]:
        blocks: list[tuple[str, Any]] = []
        for rtype, name, body in stack.all_resources():
            blocks.append((f"{rtype}.{name}", body))
        for dtype, items in stack.doc.get("data", {}).items():
            blocks += [(f"data.{dtype}.{name}", body) for name, body in items.items()]
        for kind, providers in stack.doc.get("provider", {}).items():
            for body in providers if isinstance(providers, list) else [providers]:
                alias = f".{body['alias']}" if body.get("alias") else ""
                blocks.append((f"provider.{kind}{alias}", body))
        blocks += [(f"variable.{n}", b) for n, b in stack.doc.get("variable", {}).items()]
        blocks += [(f"output.{n}", b) for n, b in stack.doc.get("output", {}).items()]
        blocks += [
            (f"terraform.backend.{k}", b)
            for k, b in stack.doc.get("terraform", {}).get("backend", {}).items()
        ]
        for address, body in blocks:
            found = sorted(set(findings(body)))
            yield self.outcome(
                stack, address, not found, "plaintext credential at " + ", ".join(found)
            )


check = NoPlaintextCredentials(
    id="CKV_KKH_024", name="Ensure no plaintext credentials appear in the synthesized configuration"
)
