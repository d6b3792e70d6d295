"""The runtime contract, read from its single sources: app/Dockerfile (command, working
directory, user, environment), requirements/app.txt (the packages) and pyproject.toml (the
Python version); plus the rules for what counts as a secret value in a process's
environment or command line. Pure Python: the tests' expectations, never the target's state.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "app" / "Dockerfile"
APP_LOCK = REPO / "requirements" / "app.txt"
PYPROJECT = REPO / "pyproject.toml"

#: The only directories the service may write to (ECS: read-only root filesystem + /tmp).
ALLOWED_WRITABLE = ("/tmp",)

#: Variables through which ECS injects secrets (the task definition's `secrets`): the
#: contract's only places for a secret value.
SECRET_VARIABLES = frozenset({"DATABASE_PASSWORD", "REDIS_AUTH_TOKEN", "CARRIER_API_KEY"})
#: AWS credentials come from the task role (the container credentials endpoint), never
#: from static variables.
FORBIDDEN_VARIABLES = frozenset({"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"})
_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|PRIVATE_KEY|CREDENTIAL")
#: Names matching _SECRET_NAME that hold references or settings, not secret values.
_REFERENCE_NAME = re.compile(r"_(SECRET_ARN|KEY_ID|TTL_SECONDS|TIMEOUT_SECONDS)$")
_SECRET_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a URL with a password", re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]*:[^/\s@]+@", re.I)),
    ("an AWS access key id", re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b")),
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    ("a password/token parameter", re.compile(r"[?&;](password|token|secret)=[^&\s]+", re.I)),
)


@dataclass(frozen=True)
class ImageSpec:
    """The runtime stage of app/Dockerfile."""

    command: tuple[str, ...]
    """CMD, exec form (a JSON array): the process the container runs."""
    workdir: str
    user: str
    env: Mapping[str, str]
    base_image: str

    def option(self, name: str) -> str:
        """The value following ``name`` in the command (``--port`` -> ``"8000"``)."""
        return self.command[self.command.index(name) + 1]

    @property
    def port(self) -> int:
        return int(self.option("--port"))

    @property
    def uid(self) -> int:
        return int(self.user.split(":", 1)[0])


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined = re.sub(
        r"\\\n",
        " ",
        "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")),
    )
    pairs = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


def read_image_spec(dockerfile: Path = DOCKERFILE) -> ImageSpec:
    """Parse the final stage of ``dockerfile``; raise ValueError naming what is missing."""
    instructions = _instructions(dockerfile.read_text(encoding="utf-8"))
    args: dict[str, str] = {}
    stage: list[tuple[str, str]] = []
    base = ""
    for keyword, rest in instructions:
        if keyword == "FROM":
            image = rest.split()[0]
            base = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), image)
            stage = []
        elif keyword == "ARG" and not stage and "=" in rest:
            name, _, default = rest.partition("=")
            args[name] = default
        else:
            stage.append((keyword, rest))
    problems = []
    commands = [rest for keyword, rest in stage if keyword == "CMD"]
    if not commands or not commands[-1].startswith("["):
        problems.append("the runtime stage has no exec-form CMD")
    workdirs = [rest for keyword, rest in stage if keyword == "WORKDIR"]
    users = [rest for keyword, rest in stage if keyword == "USER"]
    if not workdirs:
        problems.append("the runtime stage has no WORKDIR")
    if not users:
        problems.append("the runtime stage has no USER")
    if problems:
        raise ValueError(f"{dockerfile}: " + "; ".join(problems))
    env: dict[str, str] = {}
    for keyword, rest in stage:
        if keyword == "ENV":
            for assignment in shlex.split(rest):
                name, _, value = assignment.partition("=")
                env[name] = value
    return ImageSpec(
        command=tuple(json.loads(commands[-1])),
        workdir=workdirs[-1],
        user=users[-1],
        env=env,
        base_image=base,
    )


def app_pins(lock: Path = APP_LOCK) -> dict[str, str]:
    """``name -> version`` of every pin in the runtime lock (names normalised)."""
    pins = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        requirement = line.split("#", 1)[0].split(";", 1)[0].strip()
        if requirement:
            name, _, version = requirement.partition("==")
            pins[normalise(re.sub(r"\[.*\]", "", name))] = version.strip()
    return pins


def normalise(name: str) -> str:
    """PEP 503 name normalisation (``PyYAML`` -> ``pyyaml``, ``typing_extensions`` ->
    ``typing-extensions``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def supported_python() -> tuple[int, int]:
    """The one minor version pyproject.toml allows (``>=3.11,<3.12`` -> (3, 11))."""
    spec = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["requires-python"]
    match = re.fullmatch(r">=(\d+)\.(\d+),<(\d+)\.(\d+)", spec.replace(" ", ""))
    if not match or (int(match[3]), int(match[4])) != (int(match[1]), int(match[2]) + 1):
        raise ValueError(f"requires-python {spec!r} does not pin one minor version")
    return int(match[1]), int(match[2])


def secret_findings(environ: Mapping[str, str], cmdline: Sequence[str]) -> list[str]:
    """Every place a secret value shows outside the contract's secret variables.

    Findings name variables and rules, never values, so a failing test prints none.
    """
    findings = []
    for name in sorted(FORBIDDEN_VARIABLES & environ.keys()):
        findings.append(f"{name} is set (static AWS credentials; use the task role)")
    for name in sorted(environ):
        if name in SECRET_VARIABLES or name in FORBIDDEN_VARIABLES:
            continue
        if _SECRET_NAME.search(name) and not _REFERENCE_NAME.search(name):
            findings.append(f"{name} looks like a secret outside the contract's secret variables")
    secrets = {name: environ[name] for name in SECRET_VARIABLES & environ.keys() if environ[name]}
    places = {f"environment variable {name}": value for name, value in environ.items()}
    places.update({f"command-line argument {i}": arg for i, arg in enumerate(cmdline)})
    for place, value in sorted(places.items()):
        for secret_name, secret in sorted(secrets.items()):
            if place != f"environment variable {secret_name}" and secret in value:
                findings.append(f"{place} contains the value of {secret_name}")
        if place.removeprefix("environment variable ") in SECRET_VARIABLES:
            continue
        for shape, pattern in _SECRET_SHAPES:
            if pattern.search(value):
                findings.append(f"{place} contains {shape}")
    return findings
