#!/usr/bin/env bash
# Start a throw-away PostgreSQL on 127.0.0.1:55432 for the data layer's tests and print the
# DSN to use as TEST_POSTGRES_DSN. Installs Debian's postgresql when missing. Idempotent.
set -euo pipefail
PGPORT="${PGPORT:-55432}"
PGDATA="${PGDATA_DIR:-/tmp/kratos-rocketmq-pg}"
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bin" ]; then
  (apt-get install -y --no-install-recommends postgresql >/dev/null 2>&1) ||
    (apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql >/dev/null)
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi
run() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
if ! "$bin/pg_isready" -q -h 127.0.0.1 -p "$PGPORT"; then
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    mkdir -p "$PGDATA"; [ "$(id -u)" = 0 ] && chown postgres "$PGDATA"
    run "$bin/initdb -D $PGDATA -U postgres -A trust >/dev/null"
  fi
  run "$bin/pg_ctl -D $PGDATA -o '-p $PGPORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off' -l $PGDATA/log -w start >/dev/null"
fi
echo "postgres://postgres@127.0.0.1:$PGPORT/postgres?sslmode=disable"
