"""app/Dockerfile: hadolint-clean and shaped for the ECS task definition's contract."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from tests.app.conftest import REPO, VENV_BIN

DOCKERFILE = REPO / "app" / "Dockerfile"


def instructions(name: str) -> list[str]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    return [
        line.split(None, 1)[1]
        for line in text.splitlines()
        if line.strip().upper().startswith(name + " ")
    ]


def container_command() -> list[str]:
    (cmd,) = [line for line in instructions("CMD") if line.startswith("[")]
    command: list[str] = json.loads(cmd)
    return command


def test_dockerfile_is_clean_under_hadolint() -> None:
    result = subprocess.run(
        [str(VENV_BIN / "hadolint"), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_dockerfile_is_multi_stage_on_a_pinned_slim_base() -> None:
    stages = instructions("FROM")
    (base,) = {re.search(r"PYTHON_IMAGE=(\S+)", DOCKERFILE.read_text()).group(1)}  # type: ignore[union-attr]

    assert stages == ["${PYTHON_IMAGE} AS build", "${PYTHON_IMAGE} AS runtime"]
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", base)


def test_image_runs_as_numeric_non_root_user_without_bytecode_writes() -> None:
    (user,) = instructions("USER")
    env = " ".join(instructions("ENV"))

    assert re.fullmatch(r"[1-9]\d{3,}:[1-9]\d{3,}", user)
    assert "PYTHONDONTWRITEBYTECODE=1" in env
    assert "compileall" in DOCKERFILE.read_text()


def test_command_runs_uvicorn_with_timeouts_matching_alb_and_ecs() -> None:
    command = container_command()

    def option(name: str) -> str:
        return command[command.index(name) + 1]

    assert command[:3] == ["uvicorn", "--factory", "app.main:create_app"]
    assert option("--port") == "8000"
    assert (option("--loop"), option("--http")) == ("uvloop", "httptools")
    assert int(option("--timeout-keep-alive")) > 60  # ALB idle timeout
    assert int(option("--timeout-graceful-shutdown")) < 120  # ECS stop timeout


def test_runtime_stage_carries_no_build_inputs_or_dev_tools() -> None:
    runtime = DOCKERFILE.read_text().split("AS runtime", 1)[1]
    requirements = (REPO / "requirements" / "app.txt").read_text()

    assert "requirements/dev.txt" not in DOCKERFILE.read_text()
    assert "apt-get" not in runtime
    assert "pip install" not in runtime
    for tool in ("pytest", "ruff", "mypy", "cdktf", "moto"):
        assert f"\n{tool}==" not in requirements


def test_migration_command_works_from_the_image_working_directory() -> None:
    (workdir,) = set(instructions("WORKDIR")) - {"/build"}
    copied = " ".join(instructions("COPY"))

    assert workdir == "/srv"
    assert "alembic.ini" in copied
    assert "pyproject.toml" in copied  # the version /version reports
    assert Path(REPO / "alembic.ini").is_file()
