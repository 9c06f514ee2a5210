#!/usr/bin/env bash
# MySQL tests of @eventlake/dataquery: installs MariaDB (Debian `mariadb-server`) unless it is
# already there. scripts/mysql-server/start.sh runs it as a throwaway server bound to 127.0.0.1;
# nothing is enabled as a system service here.
set -euo pipefail
# shellcheck source=../lib/apt.sh
. "$(dirname "$0")/../lib/apt.sh"
export PATH="$PATH:/usr/sbin:/usr/bin"
if command -v mariadbd >/dev/null 2>&1 && command -v mariadb-install-db >/dev/null 2>&1; then
  echo "mysql: mariadb-server already installed" >&2
  exit 0
fi
apt_install mysql "the MySQL tests" "~190 MB" mariadb-server
