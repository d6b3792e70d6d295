#!/usr/bin/env bash
# Make sure the PostgreSQL and Redis the tests need are reachable; start (or, as root on
# Debian, install) them when they are not. Honors DATABASE_URL / REDIS_URL when set: then the
# given servers are used as they are and nothing is started.
# Prints the URLs to export, as shell assignments, on stdout; progress goes to stderr.
set -euo pipefail

log() { echo "services: $*" >&2; }
wait_for() { # wait_for <seconds> <command...>
  local limit=$1; shift
  for _ in $(seq "$limit"); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
  return 1
}
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi; }
apt_install() {
  log "installing $* from Debian packages"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432; }
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]; }

if [ -z "${DATABASE_URL:-}" ]; then
  if ! command -v pg_isready >/dev/null || ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    pg_up 2>/dev/null || apt_install postgresql
  fi
  if ! pg_up; then
    log "starting PostgreSQL"
    ver=$(ls /etc/postgresql | sort -V | tail -1)
    # Trust local TCP connections for the throwaway test cluster (as the CI machines do).
    hba=/etc/postgresql/$ver/main/pg_hba.conf
    if ! grep -q '^host all all 127.0.0.1/32 trust' "$hba" 2>/dev/null; then
      as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    fi
    as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start >&2
    wait_for 30 pg_up || { log "PostgreSQL did not become ready"; exit 1; }
  fi
  if ! psql -h 127.0.0.1 -U postgres -tAc "select 1 from pg_database where datname='test'" \
      | grep -q 1; then
    createdb -h 127.0.0.1 -U postgres test
  fi
  echo "export DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test"
else
  log "using DATABASE_URL from the environment"
fi

if [ -z "${REDIS_URL:-}" ]; then
  command -v redis-server >/dev/null || apt_install redis-server
  if ! redis_up; then
    log "starting Redis"
    as_root mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log >&2
    wait_for 30 redis_up || { log "Redis did not become ready"; exit 1; }
  fi
  echo "export REDIS_URL=redis://127.0.0.1:6379/0"
else
  log "using REDIS_URL from the environment"
fi
