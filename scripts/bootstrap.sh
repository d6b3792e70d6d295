#!/usr/bin/env bash
# Create or update the project virtualenv (.venv) from the pinned lock in requirements/.
# Idempotent: make calls it whenever requirements/*.txt is newer than the install stamp.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
UV_VERSION=0.13.8
venv=${1:-.venv}
lock=${2:-requirements/dev.txt}

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "bootstrap: Python 3.11 is required (found $("$PYTHON" --version 2>&1)); set PYTHON=..." >&2
  exit 1
fi
if [ ! -x "$venv/bin/python" ]; then
  echo "bootstrap: creating $venv"
  "$PYTHON" -m venv "$venv"
fi
if ! "$venv/bin/uv" --version 2>/dev/null | grep -q "$UV_VERSION"; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi
echo "bootstrap: syncing $venv with $lock (first run: 1-2 min, byte-compiling everything once)"
# Byte-compile at install time: the AWS provider bindings are 230 MB of Python and this
# machine may set PYTHONDONTWRITEBYTECODE, which would recompile them on every import.
UV_COMPILE_BYTECODE_TIMEOUT=${UV_COMPILE_BYTECODE_TIMEOUT:-1800} \
  "$venv/bin/uv" pip sync --quiet --compile-bytecode --python "$venv/bin/python" "$lock"
# uv leaves its lock file world-writable (0666); nothing in the virtualenv may be writable
# by another user (tests/infra asserts the service user can write nothing outside /tmp).
chmod go-w "$venv/.lock" 2>/dev/null || true
touch "$venv/.installed"
