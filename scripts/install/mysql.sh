#!/usr/bin/env bash
# MySQL tests of @eventlake/dataquery: installs MariaDB (Debian `mariadb-server`) unless it is
# already there. scripts/mysql-server/start.sh runs it as a throwaway server bound to 127.0.0.1;
# nothing is enabled as a system service here.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/usr/bin"
if command -v mariadbd >/dev/null 2>&1 && command -v mariadb-install-db >/dev/null 2>&1; then
  echo "mysql: mariadb-server already installed" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "mysql: apt-get not found (not Debian?); the MySQL tests will be skipped" >&2
  exit 1
fi
sudo=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo -n)
  else
    echo "mysql: need root (or sudo) to install mariadb-server; the MySQL tests will be skipped" >&2
    exit 1
  fi
fi
echo "mysql: apt-get install mariadb-server (~190 MB)" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends mariadb-server >/dev/null
echo "mysql: installed mariadb-server" >&2
