#!/usr/bin/env bash
# Stops the test MariaDB server that start.sh started in STATE_DIR, by the PID it wrote there, and
# waits for it to exit. Leaves STATE_DIR itself to the caller.
#
#   scripts/mysql-server/stop.sh STATE_DIR
set -uo pipefail
if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 STATE_DIR" >&2
  exit 64
fi
pidfile="$1/run/mariadbd.pid"
[ -e "$pidfile" ] || exit 0
pid="$(cat "$pidfile")"
if kill -0 "$pid" 2>/dev/null; then
  kill "$pid" 2>/dev/null
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
fi
rm -f "$pidfile"
exit 0
