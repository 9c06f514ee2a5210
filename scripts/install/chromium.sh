#!/usr/bin/env bash
# Console browser test (apps/gateway/console_browser_test.ts): installs Debian's `chromium`
# unless it is already there. The test drives it headless with playwright-core through
# `executablePath: /usr/bin/chromium`; playwright's own browser download is never used.
set -euo pipefail
# shellcheck source=../lib/apt.sh
. "$(dirname "$0")/../lib/apt.sh"
if command -v chromium >/dev/null 2>&1; then
  echo "chromium: already installed ($(command -v chromium))" >&2
  exit 0
fi
apt_install chromium "the console browser test" "~100 MB with its libraries" chromium
