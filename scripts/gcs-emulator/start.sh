#!/usr/bin/env bash
# Starts the Cloud Storage emulator (test-only) on 127.0.0.1:PORT with its blobs under DIR, writes
# DIR/server.pid, and waits until it answers. Prints "http://127.0.0.1:PORT" when ready.
# Usage: scripts/gcs-emulator/start.sh PORT DIR [OWNER_PID]   Stop: scripts/gcs-emulator/stop.sh DIR
# With OWNER_PID the emulator also stops by itself once that process has exited.
set -euo pipefail
unset RUST_BACKTRACE
here="$(cd "$(dirname "$0")" && pwd)"
port="${1:?usage: start.sh PORT DIR}"
dir="${2:?usage: start.sh PORT DIR}"
owner="${3:-}"
if ! command -v node >/dev/null 2>&1; then
  echo "gcs-emulator: node is not installed" >&2
  exit 3
fi
if [ ! -d "$here/node_modules/firebase-tools" ]; then
  echo "gcs-emulator: firebase-tools is not installed; run scripts/install/gcs.sh" >&2
  exit 3
fi
mkdir -p "$dir"
# setsid: its own process group, so the test runner's signals do not reach it and stop.sh owns it.
setsid node "$here/server.mjs" "$port" "$dir" $owner >"$dir/server.log" 2>&1 </dev/null &
pid=$!
echo "$pid" >"$dir/server.pid"
for _ in $(seq 1 300); do
  if grep -q "^ready " "$dir/server.log" 2>/dev/null; then
    echo "http://127.0.0.1:$port"
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "gcs-emulator: exited before it was ready:" >&2
    tail -n 20 "$dir/server.log" >&2 || true
    rm -f "$dir/server.pid"
    exit 1
  fi
  sleep 0.1
done
echo "gcs-emulator: not ready after 30 s" >&2
kill "$pid" 2>/dev/null || true
rm -f "$dir/server.pid"
exit 1
