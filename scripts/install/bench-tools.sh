#!/usr/bin/env bash
# HTTP benchmark of the gateway (scripts/bench/gateway.ts): installs the load generator `wrk`
# (Debian `wrk`, a small C program) unless it is already there. Without it the benchmark
# section says so instead of measuring.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/usr/bin"
if command -v wrk >/dev/null 2>&1; then
  echo "bench-tools: wrk already installed" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "bench-tools: apt-get not found (not Debian?); the gateway benchmark will be skipped" >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo -n)
  else
    echo "bench-tools: need root (or sudo) to install wrk; the gateway benchmark will be skipped" >&2
    exit 1
  fi
fi
echo "bench-tools: apt-get install wrk" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get install -y -qq --no-install-recommends wrk >/dev/null ||
  { "${sudo[@]}" apt-get update -qq && "${sudo[@]}" apt-get install -y -qq --no-install-recommends wrk >/dev/null; }
echo "bench-tools: installed wrk" >&2
