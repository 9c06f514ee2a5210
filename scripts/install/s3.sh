#!/usr/bin/env bash
# S3 tests: installs OpenStack Swift (account/container/object servers, proxy with s3api) and
# memcached from Debian, unless they are already there. scripts/s3-server/start.sh runs them as a
# throwaway server bound to 127.0.0.1; nothing is enabled as a system service here.
set -euo pipefail
# shellcheck source=../lib/apt.sh
. "$(dirname "$0")/../lib/apt.sh"
packages=(swift-proxy swift-object swift-container swift-account memcached)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "s3: ${packages[*]} already installed" >&2
  exit 0
fi
apt_install s3 "the S3 tests" "~50 MB" "${missing[@]}"
