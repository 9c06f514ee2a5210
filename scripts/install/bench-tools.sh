#!/usr/bin/env bash
# HTTP benchmark of the gateway (scripts/bench/gateway.ts): installs its load generators unless
# they are already there, so `deno task bench` measures instead of skipping:
# - `cc` (Debian `gcc` + `libc6-dev`) to build `openloop` (scripts/bench-tools/openloop.c), the
#   fixed-rate generator the target is read on; it is built here into scripts/bench-tools/bin/
#   (the benchmark also builds it on first use when it is missing or older than its source);
# - `wrk` (Debian `wrk`, a small C program) for the closed-loop saturation lines.
# Debian has no `wrk2`, and autocannon's --overallRate is not a fixed rate (each connection sends
# its per-second quota back to back at the start of every second), hence openloop.
set -euo pipefail
# shellcheck source=../lib/apt.sh
. "$(dirname "$0")/../lib/apt.sh"
export PATH="$PATH:/usr/sbin:/usr/bin"
tools="$(cd "$(dirname "$0")/../bench-tools" && pwd)"
status=0
if command -v wrk >/dev/null 2>&1; then
  echo "bench-tools: wrk already installed" >&2
else
  apt_install bench-tools "the gateway's saturation lines" "a small C program" wrk || status=1
fi
if ! command -v cc >/dev/null 2>&1 || [ ! -e /usr/include/stdio.h ]; then
  apt_install bench-tools "the gateway's fixed-rate lines" "the C compiler, ~60 MB" gcc libc6-dev || status=1
fi
if command -v cc >/dev/null 2>&1; then
  mkdir -p "$tools/bin"
  cc -O2 -o "$tools/bin/openloop" "$tools/openloop.c" && echo "bench-tools: built $tools/bin/openloop" >&2 || status=1
fi
exit $status
