#!/usr/bin/env bash
# Load-test the service on PostgreSQL + Redis (one uvicorn worker pinned to CPU 0, wrk on
# CPU 1) and, in the same run, the shared floors (raw ASGI, naive FastAPI ORM, Django);
# print requests/s, p50/p99 and the ratios the targets are stated in.
#   DUR=10s CONC=64 bench/run.sh        SHARED_BENCH_DIR=... to point at the floors
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
shared=${SHARED_BENCH_DIR:-$repo/../shared/bench}
DUR=${DUR:-10s}; CONC=${CONC:-64}; export PORT=${PORT:-8200}
[ -f "$shared/run_floors.sh" ] || { echo "bench: no floors at $shared (set SHARED_BENCH_DIR)" >&2; exit 1; }
log() { echo "bench: $*" >&2; }

if ! command -v wrk >/dev/null; then
  log "installing wrk"
  as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2
fi
# The floors need Django and friends; they stay out of the project's own environment.
# (Django 5.2 LTS: Django 6 needs Python 3.12.)
if [ ! -f .venv-bench/.installed-v2 ]; then
  log "creating .venv-bench for the floors"
  python3.11 -m venv --clear .venv-bench
  # Bytecode compiled now: the floors get 10 s to start and PYTHONDONTWRITEBYTECODE may be set.
  .venv/bin/uv pip install --quiet --compile-bytecode --python .venv-bench/bin/python \
    "uvicorn[standard]==0.54.0" fastapi==0.163.2 asyncpg==0.32.0 "sqlalchemy[asyncio]==2.1.9" \
    orjson==3.13.0 "django~=5.2.0" gunicorn==27.0.1 "psycopg[binary]==3.3.9"
  touch .venv-bench/.installed-v2
fi
eval "$(scripts/services.sh)"

log "seeding the floors' database (bench)"
psql -q -d postgres -tAc "select 1 from pg_database where datname='bench'" | grep -q 1 \
  || createdb bench
PGOPTIONS=--client-min-messages=warning psql -q -d bench -f "$shared/seed.sql" >/dev/null

ORDERS=${ORDERS:-60000}
log "seeding kakehashi_bench with $ORDERS orders"
bench_url=$(PYTHONPATH="$repo" .venv/bin/python bench/prepare.py "$DATABASE_URL" "$ORDERS" 2>/dev/null | tail -1)
prefix="kakehashi-bench:$$:"
work=$(mktemp -d)
trap 'rm -rf "$work"; for p in ${server:-} ${redis_pid:-}; do kill "$p" 2>/dev/null; done; true' EXIT
psql -q -d kakehashi_bench -At -c "select id from orders order by created_at desc" > "$work/all"
head -n 500 "$work/all" > "$work/hot"                     # cached: a hot working set
sed -n '2001,4000p' "$work/all" > "$work/warm"            # warm-up for the uncached run
sed -n '4001,$p' "$work/all" > "$work/cold"               # each id requested at most once

# A private Redis: other users of the shared one must not skew the numbers.
rport=$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no --daemonize no >/dev/null 2>&1 &
redis_pid=$!
REDIS_URL="redis://127.0.0.1:$rport/0"
for _ in $(seq 50); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done

log "starting the service (one worker on CPU 0; JSON request logs to /dev/null)"
env APP_ENV=test DATABASE_URL="$bench_url" REDIS_URL="$REDIS_URL" CACHE_KEY_PREFIX="$prefix" \
  LOG_LEVEL=INFO PYTHONDONTWRITEBYTECODE=1 \
  taskset -c 0 .venv/bin/uvicorn --factory app.main:create_app --host 127.0.0.1 --port "$PORT" \
  --loop uvloop --http httptools --no-access-log --timeout-keep-alive 75 >/dev/null 2>&1 &
server=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
token=$(curl -fs -X POST "http://127.0.0.1:$PORT/oauth/token" -d grant_type=client_credentials \
  -d client_id=bench-partner -d client_secret=bench-secret | .venv/bin/python -c \
  'import json, sys; print(json.load(sys.stdin)["access_token"])')
export AUTH_HEADER="Bearer $token" PATH_PREFIX=/v1/orders/

load() { # ids-file duration [script]
  IDS_FILE=$1 taskset -c 1 wrk -t1 -c"$CONC" -d"$2" -s "${3:-$shared/ids.lua}" \
    "http://127.0.0.1:$PORT" | grep RESULT | sed 's/^RESULT //'
}
flush() { redis-cli -u "$REDIS_URL" --scan --pattern "$prefix*" | xargs -r redis-cli -u "$REDIS_URL" del >/dev/null; }

flush; load "$work/warm" 3s >/dev/null
uncached=$(load "$work/cold" "$DUR")
# Every hot id is read once before the cached run, so it measures hits only.
HOT="$work/hot" .venv/bin/python - <<'PY'
import asyncio, os
import httpx
async def main() -> None:
    ids = open(os.environ["HOT"]).read().split()
    headers = {"Authorization": os.environ["AUTH_HEADER"]}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{os.environ['PORT']}", timeout=30) as client:
        for start in range(0, len(ids), 16):
            batch = ids[start:start + 16]
            responses = await asyncio.gather(*(client.get(f"/v1/orders/{i}", headers=headers) for i in batch))
            assert all(r.status_code == 200 for r in responses)
asyncio.run(main())
PY
load "$work/hot" 3s >/dev/null
cached=$(load "$work/hot" "$DUR")
load "$work/hot" 3s "$repo/bench/post.lua" >/dev/null
created=$(load "$work/hot" "$DUR" "$repo/bench/post.lua")
kill "$server"; wait "$server" 2>/dev/null || true; server=
flush

log "running the shared floors ($shared/run_floors.sh)"
floors=$(VENV="$repo/.venv-bench" DUR=$DUR CONC=$CONC bash "$shared/run_floors.sh" 2>/dev/null)

field() { grep -oE "(^| )$1=[0-9.]+" <<<"$2" | head -1 | cut -d= -f2; }
raw=$(grep '^raw-asgi' <<<"$floors"); fastapi=$(grep '^fastapi' <<<"$floors")
django=$(grep '^django' <<<"$floors")
ratio() { .venv/bin/python -c "import sys; a, b = sys.argv[1:]; print(f'{float(a) / float(b):.2f}' if a and b and float(b) else 'n/a')" "$1" "$2"; }
echo
echo "kakehashi service (auth on, one uvicorn worker on one core, $CONC connections, $DUR):"
echo "  GET /v1/orders/{id} cached    $cached"
echo "  GET /v1/orders/{id} uncached  $uncached"
echo "  POST /v1/orders               $created"
echo "floors (same machine, same run):"
sed 's/^/  /' <<<"$floors"
echo "ratios:"
echo "  uncached GET / Django twin order          $(ratio "$(field rps "$uncached")" "$(field rps "$django")")  (target >= 3)"
echo "  uncached GET / raw ASGI+asyncpg order     $(ratio "$(field rps "$uncached")" "$(field rps "$raw")")  (target >= 0.5)"
echo "  cached GET / FastAPI hello-world          $(ratio "$(field rps "$cached")" "$(field json_rps "$fastapi")")  (target >= 0.5)"
