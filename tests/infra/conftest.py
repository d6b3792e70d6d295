"""The service under test, as the container runs it, on the backend given by ``--hosts``.

* ``local://`` (the default, ``make test``): the service is started here with the exact
  command, working directory layout and environment contract of app/Dockerfile, on the local
  PostgreSQL/Redis (DATABASE_URL/REDIS_URL). Run as root, it runs as the dedicated system user
  ``kakehashi-svc`` (created when missing); as an ordinary user, as that user.
* ``docker://<container>`` (the GitHub workflow, after ``docker run`` of the built image):
  the container's PID 1 is the service; nothing is started here.

Everything the tests read comes from the target through testinfra's backend (``host.run``),
so the same tests hold for both.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shlex
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest
import testinfra

from tests.infra.contract import REPO, ImageSpec, read_image_spec

SERVICE_USER = "kakehashi-svc"
#: Bound for the service to answer /healthz after start (import + lifespan start-up).
STARTUP_TIMEOUT_SECONDS = 60.0
#: uvicorn's --timeout-graceful-shutdown is 30 s; after this the service is killed.
STOP_TIMEOUT_SECONDS = 35.0
PROBE_SOURCE = (Path(__file__).parent / "_probe.py").read_text(encoding="utf-8")
VENV = Path(sys.prefix)


@dataclass
class Service:
    """The running service as the tests see it."""

    kind: Literal["local", "image"]
    host: Any
    """The testinfra Host every read goes through."""
    spec: ImageSpec
    pid: int
    port: int
    command: tuple[str, ...]
    """What the process must be running: the Dockerfile's CMD (port adjusted locally)."""
    workdir: str
    uid: int
    """The unprivileged user the service must run as."""
    run_as: tuple[str, ...] = ()
    """Prefix that runs a probe as the service's user (``runuser -u ...`` locally as root)."""
    log: Path | None = None
    _interpreter: str | None = field(default=None, repr=False)

    @property
    def interpreter(self) -> str:
        """The service's Python: argv[0] of the process (the ``uvicorn`` script's shebang)."""
        if self._interpreter is None:
            cmdline = self.host.file(f"/proc/{self.pid}/cmdline").content.split(b"\0")
            self._interpreter = cmdline[0].decode()
        return self._interpreter

    def probe(self, what: str, *, as_service_user: bool = False, **args: Any) -> Any:
        """Run :mod:`tests.infra._probe` in the target with the service's interpreter,
        as the service's user when asked (otherwise as the backend's user)."""
        prefix = " ".join(shlex.quote(p) for p in self.run_as) if as_service_user else ""
        result = self.host.run(
            f"{prefix} %s -c %s %s".strip(),
            self.interpreter,
            PROBE_SOURCE,
            json.dumps({"what": what, **args}),
        )
        if result.rc != 0:
            raise AssertionError(f"probe {what} failed (rc {result.rc}): {result.stderr[-2000:]}")
        return json.loads(result.stdout)


def _hostspec(config: pytest.Config) -> str:
    hosts = [h for h in (config.getoption("hosts") or "local://").split(",") if h]
    if len(hosts) != 1:
        raise pytest.UsageError(f"tests/infra checks one target at a time, got --hosts {hosts}")
    return hosts[0]


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("0.0.0.0", port))  # noqa: S104 - probing the port the service binds
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _service_user() -> pwd.struct_passwd:
    """The dedicated unprivileged user, created (system user, no home, no shell) if missing."""
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        created = subprocess.run(
            [
                "useradd",
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                SERVICE_USER,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        try:
            return pwd.getpwnam(SERVICE_USER)
        except KeyError:
            raise RuntimeError(f"cannot create user {SERVICE_USER}: {created.stderr}") from None


def _grant_traversal(paths: list[Path]) -> list[tuple[Path, int]]:
    """Give "others" search (x, not list) permission on every ancestor directory of
    ``paths`` that lacks it, so the service user can reach the repository, the virtualenv
    and its interpreter (e.g. pyenv under /root). Returns what to restore."""
    changed = []
    for path in paths:
        for directory in reversed(path.resolve().parents):
            mode = directory.stat().st_mode
            if not mode & stat.S_IXOTH:
                directory.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)
                changed.append((directory, stat.S_IMODE(mode)))
    return changed


def _contract_env(spec: ImageSpec) -> dict[str, str]:
    """The container's environment: the image's ENV, the task definition's variables (with
    local PostgreSQL/Redis and the local signer instead of KMS) and canary secret values
    injected the way ECS injects secrets. Nothing is inherited from the test runner."""
    from stacks.environments import load_environments

    dev = load_environments()["dev"]
    env = {name: value for name, value in spec.env.items() if name != "PATH"}
    # The image's PATH puts its virtualenv first; here that virtualenv is .venv.
    env["PATH"] = f"{VENV / 'bin'}:/usr/local/bin:/usr/bin:/bin"
    env["HOME"] = "/nonexistent"
    revision = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    env.update(
        {
            "GIT_REVISION": revision or "unknown",
            "APP_ENV": "test",  # deployed names refuse plain-text local PostgreSQL/Redis
            "LOG_LEVEL": "WARNING",
            "AWS_REGION": dev.region,
            "DATABASE_URL": os.environ.get(
                "DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
            ),
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            "JWT_SIGNER": "local",
            "JWT_ISSUER": f"https://{dev.domain_name}",
            "JWT_AUDIENCE": "kakehashi-api",
            # Secrets arrive only through the contract's secret variables; the values are
            # fresh random canaries the tests then look for everywhere else.
            "DATABASE_PASSWORD": secrets.token_urlsafe(24),
            "CARRIER_API_KEY": secrets.token_urlsafe(24),
        }
    )
    return env


def _wait_healthy(service: Service, proc: subprocess.Popen[bytes] | None) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    url = f"http://127.0.0.1:{service.port}/healthz"
    last = "no answer yet"
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(
                f"the service exited with {proc.returncode} before answering {url}:\n"
                + _tail(service.log)
            )
        try:
            answer = service.probe("http", url=url, timeout=2)
        except AssertionError as exc:  # the target cannot run the probe yet
            last = str(exc)
        else:
            if answer["status"] == 200:
                return
            last = f"{answer['status']}: {answer['body'][:200]}"
        time.sleep(0.5)
    raise RuntimeError(
        f"the service did not answer 200 on {url} within {STARTUP_TIMEOUT_SECONDS:g} s "
        f"(last: {last})\n" + _tail(service.log)
    )


def _tail(log: Path | None) -> str:
    if log is None or not log.exists():
        return ""
    return "service output (last lines):\n" + "\n".join(log.read_text().splitlines()[-30:])


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def service(request: pytest.FixtureRequest) -> Iterator[Service]:
    spec = read_image_spec()
    hostspec = _hostspec(request.config)
    host = testinfra.get_host(hostspec)
    backend = host.backend.get_connection_type()
    if backend == "docker":
        image = Service(
            kind="image",
            host=host,
            spec=spec,
            pid=1,  # exec-form CMD: the service is the container's init process
            port=spec.port,
            command=spec.command,
            workdir=spec.workdir,
            uid=spec.uid,
        )
        _wait_healthy(image, None)
        yield image
        return
    if backend != "local":
        raise pytest.UsageError(f"tests/infra supports local:// and docker://, not {hostspec}")

    # -- local: start the service the way the container starts it --------------------------
    command = list(spec.command)
    port = spec.port
    if not _port_free(port):
        # A shared development machine may already serve :8000; the command is otherwise
        # unchanged and the tests expect the substituted port.
        port = _free_port()
        command[command.index("--port") + 1] = str(port)
    user: pwd.struct_passwd | None = None
    run_as: tuple[str, ...] = ()
    restore: list[tuple[Path, int]] = []
    if os.geteuid() == 0:
        user = _service_user()
        run_as = ("runuser", "-u", SERVICE_USER, "--")
        restore = _grant_traversal([REPO, VENV / "bin" / "python", VENV])
    log = Path(tempfile.mkstemp(prefix="kakehashi-svc-", suffix=".log")[1])
    try:
        with log.open("wb") as out:
            proc = subprocess.Popen(
                command,  # argv[0] "uvicorn" is looked up on the contract PATH, as in the image
                cwd=REPO,  # the image's WORKDIR holds the same layout (app/, pyproject.toml)
                env=_contract_env(spec),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                user=user.pw_uid if user else None,
                group=user.pw_gid if user else None,
                extra_groups=[] if user else None,
                start_new_session=True,
            )
        local = Service(
            kind="local",
            host=host,
            spec=spec,
            pid=proc.pid,
            port=port,
            command=tuple(command),
            workdir=str(REPO),
            uid=user.pw_uid if user else os.getuid(),
            run_as=run_as,
            log=log,
        )
        try:
            _wait_healthy(local, proc)
            yield local
        finally:
            _stop(proc)
    finally:
        for directory, mode in reversed(restore):
            directory.chmod(mode)
        log.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def process(service: Service) -> dict[str, Any]:
    """/proc facts of the healthy service: status, cmdline, cwd, environ, listening sockets."""
    facts: dict[str, Any] = service.probe("process", pid=service.pid)
    return facts
