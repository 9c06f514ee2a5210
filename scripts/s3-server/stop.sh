#!/usr/bin/env bash
# Stops the test S3 server that start.sh started in STATE_DIR, by the PIDs it wrote there, and waits
# for the processes to exit. Leaves STATE_DIR itself to the caller.
#
#   scripts/s3-server/stop.sh STATE_DIR
set -uo pipefail
if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 STATE_DIR" >&2
  exit 64
fi
run="$1/run"
pids=()
for pidfile in "$run"/proxy.pid "$run"/object.pid "$run"/container.pid "$run"/account.pid \
  "$run"/memcached.pid; do
  [ -e "$pidfile" ] || continue
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    # start.sh ran each server with setsid: its PID is also its process group, which holds the
    # server's own worker processes and nothing else.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    pids+=("$pid")
  fi
  rm -f "$pidfile"
done
for pid in "${pids[@]}"; do
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
  fi
done
exit 0
