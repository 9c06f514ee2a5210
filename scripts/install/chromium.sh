#!/usr/bin/env bash
# Console browser test (apps/gateway/console_browser_test.ts): installs Debian's `chromium`
# unless it is already there. The test drives it headless with playwright-core through
# `executablePath: /usr/bin/chromium`; playwright's own browser download is never used.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  echo "chromium: already installed ($(command -v chromium))" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium: apt-get not found (not Debian?); the console browser test will be skipped" >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo -n)
  else
    echo "chromium: need root (or sudo) to install chromium; the console browser test will be skipped" >&2
    exit 1
  fi
fi
echo "chromium: apt-get install chromium (~100 MB with its libraries)" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null
echo "chromium: installed $(command -v chromium)" >&2
