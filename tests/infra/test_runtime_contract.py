"""The runtime contract of the service, checked on the running process (testinfra).

The same tests run against the service started locally the way the container starts it
(``make test``) and against the built image (``--hosts docker://<container>``); see
conftest.py. Expectations come from app/Dockerfile, requirements/app.txt and pyproject.toml.
"""

from __future__ import annotations

import json
import os
from pathlib import PurePosixPath
from typing import Any

import pytest

from tests.infra.conftest import Service
from tests.infra.contract import (
    ALLOWED_WRITABLE,
    app_pins,
    secret_findings,
    supported_python,
)

SHELLS = {"sh", "bash", "dash", "ash", "zsh"}


def test_runs_as_the_unprivileged_service_user(service: Service, process: dict[str, Any]) -> None:
    status = process["status"]

    assert service.uid != 0
    assert status["uid"] == [service.uid] * 4  # real, effective, saved, filesystem
    assert 0 not in status["gid"]
    assert 0 not in status["groups"]
    assert (status["cap_eff"], status["cap_prm"]) == (0, 0)


def test_runs_the_exec_form_command_of_the_dockerfile(
    service: Service, process: dict[str, Any]
) -> None:
    interpreter, script, *args = process["cmdline"]

    # Exec form: the kernel runs the uvicorn script's interpreter directly, no shell between.
    assert PurePosixPath(interpreter).name.startswith("python")
    assert PurePosixPath(interpreter).name not in SHELLS
    assert PurePosixPath(script).name == service.command[0]
    assert tuple(args) == service.command[1:]
    assert process["cwd"] == service.workdir


def test_listens_on_its_port_and_on_no_other_tcp_port(
    service: Service, process: dict[str, Any]
) -> None:
    listening = process["listening"]

    assert {s["port"] for s in listening} == {service.port}
    assert {s["address"] for s in listening} <= {service.spec.option("--host"), "::"}


def test_answers_healthz_with_200(service: Service) -> None:
    answer = service.probe("http", url=f"http://127.0.0.1:{service.port}/healthz", timeout=5)

    assert answer["status"] == 200
    assert json.loads(answer["body"])["status"] == "ok"


def test_environment_and_command_line_carry_no_secret_values(process: dict[str, Any]) -> None:
    # The findings name variables and rules only; a failure never prints a secret.
    assert secret_findings(process["environ"], process["cmdline"]) == []


def test_runs_the_supported_python_version(service: Service) -> None:
    facts = service.probe("python", names=[])
    major, minor, patch = facts["version"]

    assert (major, minor) == supported_python()
    if service.kind == "image":
        # The runtime stage's base image tag pins the patch release too.
        assert f"python:{major}.{minor}.{patch}-" in service.spec.base_image


def test_runs_exactly_the_pinned_versions_of_the_app_lock(service: Service) -> None:
    pins = app_pins()

    installed = service.probe("python", names=sorted(pins))["packages"]

    mismatched = {
        name: (installed[name], pin) for name, pin in pins.items() if installed[name] != pin
    }
    assert mismatched == {}, "installed vs requirements/app.txt"


def test_cannot_write_outside_tmp(service: Service, process: dict[str, Any]) -> None:
    if service.kind == "local" and os.stat(service.workdir).st_uid == service.uid:
        pytest.skip(
            "the service runs as the owner of its working tree (tests run as an ordinary "
            "user), so that tree is writable by construction; asserted under the dedicated "
            "user when run as root, and in the image"
        )
    python = service.probe("python", names=[])
    # The service's own trees (working directory, virtualenv, interpreter) and the system's.
    trees = {service.workdir, python["prefix"], python["base_prefix"], "/etc", "/usr", "/opt"}
    recursive = sorted(t for t in trees if not any(t.startswith(f"{o}/") for o in trees))

    found = service.probe(
        "writable",
        as_service_user=True,
        roots=["/", *recursive],
        allowed=list(ALLOWED_WRITABLE),
        recursive_roots=recursive,
    )

    assert found["uid"] == service.uid
    assert found["checked"] > 1000  # the walk really covered the trees
    assert found["writable"] == []


def test_can_write_tmp(service: Service) -> None:
    for directory in ALLOWED_WRITABLE:
        assert service.probe("create_file", as_service_user=True, directory=directory) == {
            "created": True,
            "error": None,
        }
