#!/usr/bin/env bash
# GCS tests: installs the Cloud Storage emulator (npm firebase-tools, pinned by
# scripts/gcs-emulator/package-lock.json) unless it is already there. Needs node and npm.
set -euo pipefail
cd "$(dirname "$0")/../gcs-emulator"
if [ -d node_modules/firebase-tools ]; then
  echo "gcs: firebase-tools already installed in scripts/gcs-emulator" >&2
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "gcs: npm is not installed; the GCS tests will be skipped" >&2
  exit 1
fi
echo "gcs: npm ci in scripts/gcs-emulator (firebase-tools, ~300 MB)" >&2
npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
