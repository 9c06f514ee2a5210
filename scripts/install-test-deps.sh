#!/usr/bin/env bash
# Installs, on a fresh Debian machine, what the test servers need, by running every
# scripts/install/*.sh in turn. Each step is idempotent and says what it does. A step that fails
# leaves its tests skipped (each such test says why), never silently passed.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
for step in scripts/install/*.sh; do
  [ -e "$step" ] || continue
  echo "install: $step" >&2
  bash "$step" || { echo "install: $step failed" >&2; status=1; }
done
exit $status
