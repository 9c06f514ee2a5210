#!/usr/bin/env bash
# S3 tests: installs OpenStack Swift (account/container/object servers, proxy with s3api) and
# memcached from Debian, unless they are already there. scripts/s3-server/start.sh runs them as a
# throwaway server bound to 127.0.0.1; nothing is enabled as a system service here.
set -euo pipefail
packages=(swift-proxy swift-object swift-container swift-account memcached)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "s3: ${packages[*]} already installed" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "s3: apt-get not found (not Debian?); the S3 tests will be skipped" >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo -n)
  else
    echo "s3: need root (or sudo) to install ${missing[*]}; the S3 tests will be skipped" >&2
    exit 1
  fi
fi
echo "s3: apt-get install ${missing[*]} (~50 MB)" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "s3: installed ${missing[*]}" >&2
