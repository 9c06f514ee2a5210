#!/usr/bin/env bash
# Starts a throwaway MariaDB server for tests, bound to 127.0.0.1, all state under STATE_DIR.
#
#   scripts/mysql-server/start.sh STATE_DIR
#
# Initialises a data directory (mariadb-install-db --no-defaults, so /etc/mysql is never read),
# starts mariadbd on a free port, waits until it answers, creates the test user and prints the port
# as the last line of stdout. Writes STATE_DIR/run/mariadbd.pid and STATE_DIR/env (MYSQL_PORT,
# MYSQL_USER, MYSQL_PASSWORD, MYSQL_SOCKET). Stop with scripts/mysql-server/stop.sh STATE_DIR.
# Needs mariadb-server (scripts/install/mysql.sh); exits 2 when it is missing.
#
# Credentials: eventlake / eventlake-test (all privileges), over TCP from 127.0.0.1.
set -euo pipefail
unset RUST_BACKTRACE

if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 STATE_DIR" >&2
  exit 64
fi
state="$(mkdir -p "$1" && cd "$1" && pwd)"
for bin in mariadbd mariadb-install-db mariadb; do
  if ! command -v "$bin" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$bin" ]; then
    echo "mysql-server: missing $bin (run scripts/install/mysql.sh)" >&2
    exit 2
  fi
done
export PATH="$PATH:/usr/sbin:/usr/bin"
if [ -e "$state/run/mariadbd.pid" ] && kill -0 "$(cat "$state/run/mariadbd.pid")" 2>/dev/null; then
  echo "mysql-server: already running in $state (stop it with stop.sh first)" >&2
  exit 1
fi
mkdir -p "$state/data" "$state/run" "$state/log" "$state/tmp"
sock="$state/run/mysqld.sock"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"

if [ ! -d "$state/data/mysql" ]; then
  mariadb-install-db --no-defaults --datadir="$state/data" --user="$(id -un)" \
    --auth-root-authentication-method=normal --skip-test-db >"$state/log/install.log" 2>&1 || {
    echo "mysql-server: mariadb-install-db failed, see $state/log/install.log" >&2
    exit 1
  }
fi
mariadbd --no-defaults --datadir="$state/data" --socket="$sock" --port="$port" \
  --bind-address=127.0.0.1 --user="$(id -un)" --tmpdir="$state/tmp" \
  --pid-file="$state/run/mariadbd.server.pid" --skip-log-bin --innodb-buffer-pool-size=32M \
  --log-error="$state/log/error.log" >/dev/null 2>&1 &
pid=$!
echo "$pid" >"$state/run/mariadbd.pid"
for _ in $(seq 1 100); do
  if mariadb --no-defaults --socket="$sock" -uroot -e "SELECT 1" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "mysql-server: mariadbd exited, see $state/log/error.log" >&2
    rm -f "$state/run/mariadbd.pid"
    exit 1
  fi
  sleep 0.1
done
mariadb --no-defaults --socket="$sock" -uroot <<'SQL'
CREATE USER IF NOT EXISTS 'eventlake'@'127.0.0.1' IDENTIFIED BY 'eventlake-test';
CREATE USER IF NOT EXISTS 'eventlake'@'localhost' IDENTIFIED BY 'eventlake-test';
GRANT ALL PRIVILEGES ON *.* TO 'eventlake'@'127.0.0.1';
GRANT ALL PRIVILEGES ON *.* TO 'eventlake'@'localhost';
FLUSH PRIVILEGES;
SQL
cat >"$state/env" <<ENV
MYSQL_PORT=$port
MYSQL_USER=eventlake
MYSQL_PASSWORD=eventlake-test
MYSQL_SOCKET=$sock
ENV
echo "$port"
