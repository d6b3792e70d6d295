"""Runs INSIDE the target (the service's host or container) with the service's own
interpreter, standard library only; the tests send this file's source to
``<python> -c <source> <json request>`` through the testinfra backend and read one JSON
document back. Keep it dependency-free: the runtime image has nothing else.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any

_TCP_LISTEN = "0A"
_SKIP_TREES = ("/proc", "/sys", "/dev", "/run")


def _status(pid: int) -> dict[str, Any]:
    fields: dict[str, list[str]] = {}
    with open(f"/proc/{pid}/status", encoding="utf-8") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            fields[key] = value.split()
    return {
        "uid": [int(v) for v in fields["Uid"]],
        "gid": [int(v) for v in fields["Gid"]],
        "groups": [int(v) for v in fields.get("Groups", [])],
        "cap_eff": int(fields["CapEff"][0], 16),
        "cap_prm": int(fields["CapPrm"][0], 16),
        "ppid": int(fields["PPid"][0]),
    }


def _split_nul(path: str) -> list[str]:
    with open(path, "rb") as fh:
        return [part.decode("utf-8", "replace") for part in fh.read().split(b"\0") if part]


def _address(hex_address: str) -> tuple[str, int]:
    host, port = hex_address.split(":")
    raw = bytes.fromhex(host)
    if len(raw) == 4:
        return ".".join(str(b) for b in raw[::-1]), int(port, 16)
    words = [raw[i : i + 4][::-1] for i in range(0, 16, 4)]
    return ":".join(b"".join(words)[i : i + 2].hex() for i in range(0, 16, 2)), int(port, 16)


def _listening(pid: int) -> list[dict[str, Any]]:
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    sockets = []
    for proto in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{pid}/net/{proto}", encoding="utf-8") as fh:
                rows = fh.read().splitlines()[1:]
        except FileNotFoundError:
            continue
        for row in rows:
            cols = row.split()
            if cols[3] == _TCP_LISTEN and cols[9] in inodes:
                address, port = _address(cols[1])
                sockets.append({"proto": proto, "address": address, "port": port})
    return sockets


def process(pid: int) -> dict[str, Any]:
    environ: dict[str, str] = {}
    for entry in _split_nul(f"/proc/{pid}/environ"):
        name, _, value = entry.partition("=")
        environ[name] = value
    return {
        "status": _status(pid),
        "cmdline": _split_nul(f"/proc/{pid}/cmdline"),
        "cwd": os.readlink(f"/proc/{pid}/cwd"),
        "environ": environ,
        "listening": _listening(pid),
    }


def python(names: list[str]) -> dict[str, Any]:
    from importlib import metadata

    packages: dict[str, str | None] = {}
    for name in names:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    return {
        "version": list(sys.version_info[:3]),
        "executable": sys.executable,
        "prefix": sys.prefix,
        "base_prefix": sys.base_prefix,
        "packages": packages,
    }


def writable(roots: list[str], allowed: list[str], recursive_roots: list[str]) -> dict[str, Any]:
    """Paths under ``roots`` this user may write (access(2) honours read-only mounts)."""
    found: list[str] = []
    checked = 0

    def check(path: str) -> None:
        nonlocal checked
        checked += 1
        if os.access(path, os.W_OK, follow_symlinks=False):
            found.append(path)

    def skipped(path: str) -> bool:
        return any(path == p or path.startswith(p.rstrip("/") + "/") for p in allowed)

    for root in roots:
        if not os.path.isdir(root) or skipped(root):
            continue
        check(root)
        stack = [root] if root in recursive_roots else []
        while stack and len(found) <= 50:
            try:
                entries = list(os.scandir(stack.pop()))
            except OSError:
                continue
            for entry in entries:
                # Symlinks are judged by their targets, which are walked where they live.
                if entry.is_symlink() or skipped(entry.path) or entry.path in _SKIP_TREES:
                    continue
                check(entry.path)
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
    return {"writable": sorted(set(found)), "checked": checked, "uid": os.getuid()}


def create_file(directory: str) -> dict[str, Any]:
    import tempfile

    try:
        with tempfile.NamedTemporaryFile(dir=directory) as fh:
            fh.write(b"probe")
        return {"created": True, "error": None}
    except OSError as exc:
        return {"created": False, "error": f"{type(exc).__name__}: {exc}"}


def http(url: str, timeout: float) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            return {"status": response.status, "body": response.read().decode("utf-8", "replace")}
    except urllib.error.HTTPError as exc:
        return {"status": exc.code, "body": exc.read().decode("utf-8", "replace")}
    except OSError as exc:
        return {"status": None, "body": f"{type(exc).__name__}: {exc}"}


if __name__ == "__main__":
    request = json.loads(sys.argv[1])
    what = request.pop("what")
    json.dump(globals()[what](**request), sys.stdout)
