"""`make run`: the API on http://127.0.0.1:8000 with the mock carrier on :8001.

Embedded defaults need no setup (SQLite, in-process cache, generated signing key); with
DATABASE_URL / REDIS_URL set the same command uses PostgreSQL and Redis. The schema must be
migrated first (`make run` does `alembic upgrade head` as its own step).
Switch the carrier's failure mode while it runs, e.g.:
    curl -X PUT localhost:8001/_mock/mode -d '{"mode": "error", "status": 503}'
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx

from app.carrier.mock import DEFAULT_API_KEY

API_PORT = int(os.environ.get("PORT", "8000"))
CARRIER_PORT = int(os.environ.get("MOCK_CARRIER_PORT", "8001"))


def main() -> int:
    python = sys.executable
    env = dict(os.environ)
    env.setdefault("CARRIER_BASE_URL", f"http://127.0.0.1:{CARRIER_PORT}")
    env.setdefault("CARRIER_API_KEY", DEFAULT_API_KEY)
    env.setdefault("MOCK_CARRIER_API_KEY", env["CARRIER_API_KEY"])
    subprocess.run(  # noqa: S603 - our own interpreter and module
        [python, "-m", "app.cli", "seed-demo", "--base-url", f"http://127.0.0.1:{API_PORT}"],
        check=True,
        env=env,
    )
    carrier = subprocess.Popen(  # noqa: S603
        [
            python,
            "-m",
            "uvicorn",
            "--factory",
            "app.carrier.mock:create_mock_carrier",
            "--host",
            "127.0.0.1",
            "--port",
            str(CARRIER_PORT),
            "--log-level",
            "warning",
            "--timeout-graceful-shutdown",
            "1",
        ],
        env=env,
    )
    try:
        for _ in range(50):
            try:
                httpx.get(f"http://127.0.0.1:{CARRIER_PORT}/_mock/mode", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        print(f"mock carrier on http://127.0.0.1:{CARRIER_PORT} (PUT /_mock/mode to break it)")
        return subprocess.call(  # noqa: S603
            [
                python,
                "-m",
                "uvicorn",
                "--factory",
                "app.main:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(API_PORT),
                "--timeout-keep-alive",
                "75",
            ],
            env=env,
        )
    except KeyboardInterrupt:
        return 0
    finally:
        carrier.terminate()
        carrier.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
