#!/usr/bin/env bash
# HTTP benchmark of the gateway (scripts/bench/gateway.ts): installs the load generator `wrk`
# (Debian `wrk`, a small C program) unless it is already there. Without it the benchmark
# section says so instead of measuring.
set -euo pipefail
# shellcheck source=../lib/apt.sh
. "$(dirname "$0")/../lib/apt.sh"
export PATH="$PATH:/usr/sbin:/usr/bin"
if command -v wrk >/dev/null 2>&1; then
  echo "bench-tools: wrk already installed" >&2
  exit 0
fi
apt_install bench-tools "the gateway benchmark" "a small C program" wrk
