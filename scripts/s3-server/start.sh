#!/usr/bin/env bash
# Starts a throwaway S3 server for tests: OpenStack Swift with the s3api middleware, one host, one
# replica, everything bound to 127.0.0.1, all state under STATE_DIR.
#
#   scripts/s3-server/start.sh STATE_DIR
#
# Builds the rings and the configs (from templates/) in STATE_DIR/conf, picks free ports, starts
# memcached, the account/container/object servers and the proxy, waits until S3 answers, writes one
# PID file per process to STATE_DIR/run/*.pid and prints the endpoint (http://127.0.0.1:PORT) as
# the last line of stdout. Also writes STATE_DIR/env (S3_ENDPOINT, ports) for other tools.
# S3_SERVER_WORKERS (default 0) sets the worker processes of the proxy and object server; each
# server runs in its own session, so stop.sh stops a server with its workers by its one PID.
# Stop with scripts/s3-server/stop.sh STATE_DIR. Needs: swift-proxy swift-object swift-container
# swift-account memcached (scripts/install/s3.sh). Exits 2 when they are missing.
#
# Credentials (tempauth; region us-east-1, path-style addressing):
#   test:tester / testing    owner (account admin) of the test buckets
#   test:reader / reading    same account, no rights on any bucket
#   other:tester / othering  admin of another account
set -euo pipefail
unset RUST_BACKTRACE

if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 STATE_DIR" >&2
  exit 64
fi
here="$(cd "$(dirname "$0")" && pwd)"
state="$(mkdir -p "$1" && cd "$1" && pwd)"

missing=()
for bin in memcached swift-ring-builder swift-proxy-server swift-object-server \
  swift-container-server swift-account-server; do
  command -v "$bin" >/dev/null 2>&1 || missing+=("$bin")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "s3-server: missing ${missing[*]} (run scripts/install/s3.sh)" >&2
  exit 2
fi

# A leftover server in this state dir: refuse rather than start a second one over the same files.
for pidfile in "$state"/run/*.pid; do
  [ -e "$pidfile" ] || continue
  if kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "s3-server: already running in $state (stop it with stop.sh first)" >&2
    exit 1
  fi
done

conf="$state/conf"
# Worker processes of the proxy and the object server (0 = serve in the one process). Swift
# spends ~10 ms of Python CPU per request; on an idle multi-core machine more workers help, on
# a shared 2-core one they did not (measured), so one process is the default.
workers="${S3_SERVER_WORKERS:-0}"
mkdir -p "$conf" "$state/srv/d1" "$state/log" "$state/run"

# Free ports, chosen by the kernel (bind to port 0) and released just before the servers take them.
read -r p_proxy p_account p_container p_object p_memcached < <(python3 - <<'PY'
import socket
socks = []
for _ in range(5):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
PY
)

for tmpl in "$here"/templates/*.conf; do
  sed -e "s|@CONF@|$conf|g" -e "s|@DEVICES@|$state/srv|g" -e "s|@USER@|$(id -un)|g" \
    -e "s|@PORT_PROXY@|$p_proxy|g" -e "s|@PORT_ACCOUNT@|$p_account|g" \
    -e "s|@PORT_CONTAINER@|$p_container|g" -e "s|@PORT_OBJECT@|$p_object|g" \
    -e "s|@PORT_MEMCACHED@|$p_memcached|g" -e "s|@WORKERS@|$workers|g" \
    "$tmpl" >"$conf/$(basename "$tmpl")"
done

# Rings: 2^10 partitions, 1 replica, min_part_hours 1, one device per ring.
for ring in account:$p_account container:$p_container object:$p_object; do
  name="${ring%%:*}"
  port="${ring##*:}"
  (
    cd "$conf"
    swift-ring-builder "$name.builder" create 10 1 1 >/dev/null
    swift-ring-builder "$name.builder" add "r1z1-127.0.0.1:$port/d1" 100 >/dev/null
    swift-ring-builder "$name.builder" rebalance >/dev/null || true
  )
  [ -s "$conf/$name.ring.gz" ] || { echo "s3-server: could not build the $name ring" >&2; exit 1; }
done

started=()
cleanup_on_failure() {
  for pid in "${started[@]}"; do kill "$pid" 2>/dev/null || true; done
  echo "s3-server: failed to start; logs in $state/log" >&2
}
trap cleanup_on_failure ERR

start() { # name command...
  local name=$1
  shift
  # setsid: own session, so a terminal's Ctrl-C to the caller does not reach the servers mid-test.
  setsid "$@" >"$state/log/$name.log" 2>&1 </dev/null &
  echo $! >"$state/run/$name.pid"
  started+=("$!")
}

user="$(id -un)"
memcached_user=()
[ "$(id -u)" = 0 ] && memcached_user=(-u root)
start memcached memcached -l 127.0.0.1 -p "$p_memcached" -U 0 -m 64 "${memcached_user[@]}"
start account swift-account-server "$conf/account-server.conf" -v
start container swift-container-server "$conf/container-server.conf" -v
start object swift-object-server "$conf/object-server.conf" -v
start proxy swift-proxy-server "$conf/proxy-server.conf" -v

endpoint="http://127.0.0.1:$p_proxy"
healthy() {
  for port in "$p_account" "$p_container" "$p_object" "$p_proxy"; do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthcheck")" = 200 ] ||
      return 1
  done
  # The whole chain: tempauth (memcached) and the account server answer an authenticated request.
  local token
  token="$(curl -s -D - -o /dev/null -H 'X-Auth-User: test:tester' -H 'X-Auth-Key: testing' \
    "$endpoint/auth/v1.0" | tr -d '\r' | sed -n 's/^[Xx]-[Aa]uth-[Tt]oken: //p')"
  [ -n "$token" ] || return 1
  local code
  code="$(curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $token" "$endpoint/v1/AUTH_test")"
  [ "$code" = 204 ] || [ "$code" = 200 ]
}
for _ in $(seq 1 300); do
  if healthy; then
    cat >"$state/env" <<ENV
S3_ENDPOINT=$endpoint
S3_REGION=us-east-1
S3_PORT_PROXY=$p_proxy
S3_PORT_ACCOUNT=$p_account
S3_PORT_CONTAINER=$p_container
S3_PORT_OBJECT=$p_object
S3_PORT_MEMCACHED=$p_memcached
ENV
    echo "$endpoint"
    exit 0
  fi
  for pid in "${started[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "s3-server: a server exited during startup:" >&2
      tail -n 20 "$state"/log/*.log >&2 || true
      false
    fi
  done
  sleep 0.1
done
echo "s3-server: not healthy after 30 s" >&2
false
