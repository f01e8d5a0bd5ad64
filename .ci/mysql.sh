#!/usr/bin/env bash
# Start a throw-away MariaDB (MySQL protocol) on 127.0.0.1:53306 for the data layer's tests
# and print the DSN to use as TEST_MYSQL_DSN. Installs Debian's mariadb-server when
# missing. Idempotent.
set -euo pipefail
PORT="${MYSQL_PORT:-53306}"
DIR="${MYSQL_DATA_DIR:-/tmp/kratos-rocketmq-mysql}"
if ! command -v mariadbd >/dev/null && ! command -v mysqld >/dev/null; then
  (DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mariadb-server >/dev/null 2>&1) ||
    (apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mariadb-server >/dev/null)
fi
server=$(command -v mariadbd || command -v mysqld)
sock="$DIR/mysqld.sock"
if ! mysqladmin --protocol=tcp -h 127.0.0.1 -P "$PORT" -u root ping >/dev/null 2>&1; then
  if [ ! -d "$DIR/mysql" ]; then
    mkdir -p "$DIR"
    mariadb-install-db --no-defaults --datadir="$DIR" --user="$(id -un)" --auth-root-authentication-method=normal >/dev/null
  fi
  "$server" --no-defaults --datadir="$DIR" --user="$(id -un)" --port="$PORT" --bind-address=127.0.0.1 \
    --socket="$sock" --pid-file="$DIR/mysqld.pid" --skip-log-bin --innodb-flush-log-at-trx-commit=0 \
    >"$DIR/log" 2>&1 &
  for _ in $(seq 1 60); do
    mysqladmin --protocol=tcp -h 127.0.0.1 -P "$PORT" -u root ping >/dev/null 2>&1 && break
    sleep 0.5
  done
fi
echo "root@tcp(127.0.0.1:$PORT)/mysql?parseTime=true"
