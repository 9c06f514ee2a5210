# Sourced by scripts/install/*.sh (not run as a step of scripts/install-test-deps.sh):
# installs Debian packages with apt-get, as root or through passwordless sudo.
#
#   apt_install TAG WHAT_IS_SKIPPED SIZE_NOTE PACKAGE...
#
# TAG prefixes every message ("mysql: ..."), WHAT_IS_SKIPPED names what is skipped when the
# install cannot run ("the MySQL tests"), SIZE_NOTE is appended to the install message ("~190 MB").
# Returns 1, after saying why, when apt-get or root/sudo is missing or the install fails.
# Tries the install first and refreshes the package lists only when that fails, so a machine
# with fresh lists does not pay for an `apt-get update`.
apt_install() {
  local tag=$1 skipped=$2 note=$3
  shift 3
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "$tag: apt-get not found (not Debian?); $skipped will be skipped" >&2
    return 1
  fi
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo -n)
    else
      echo "$tag: need root (or sudo) to install $*; $skipped will be skipped" >&2
      return 1
    fi
  fi
  echo "$tag: apt-get install $* ($note)" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1 ||
    { "${sudo[@]}" apt-get update -qq && "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$@" >/dev/null; } ||
    { echo "$tag: apt-get install $* failed; $skipped will be skipped" >&2; return 1; }
  echo "$tag: installed $*" >&2
}
