"""The service stays independent of the infrastructure code and of os.environ."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_app_never_imports_infrastructure_code() -> None:
    offenders = {
        str(path.relative_to(APP)): sorted(
            name for name in _imports(path) if name.split(".")[0] in {"stacks", "modules"}
        )
        for path in APP.rglob("*.py")
    }

    assert {path: names for path, names in offenders.items() if names} == {}


def test_only_settings_and_dev_tools_read_the_environment() -> None:
    # Settings is the one place configuration comes from; the mock carrier and the local
    # dev runner (never part of a deployed request path) read their own knobs.
    allowed = {"core/config.py", "carrier/mock.py", "devserver.py"}
    readers = {
        str(path.relative_to(APP))
        for path in APP.rglob("*.py")
        if "os.environ" in path.read_text() or "os.getenv" in path.read_text()
    }

    assert readers <= allowed
