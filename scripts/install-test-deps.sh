#!/usr/bin/env bash
# Installs, on a fresh Debian machine, what the test servers need. Idempotent; each step says what it does.
# Steps that fail leave their tests skipped (with a message), never silently passed.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
# (steps are added by the packages that need a server)
exit $status
