#!/usr/bin/env bash
# Stops the emulator that start.sh started with the same DIR, by the PID in DIR/server.pid.
# Usage: scripts/gcs-emulator/stop.sh DIR
set -uo pipefail
dir="${1:?usage: stop.sh DIR}"
pidfile="$dir/server.pid"
[ -f "$pidfile" ] || exit 0
pid="$(cat "$pidfile")"
if kill -0 "$pid" 2>/dev/null; then
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
fi
rm -f "$pidfile"
exit 0
