#!/bin/bash
# The node of `make run`, `make start`, `make stop` and `make reload`:
# nginx with both modules, and the SFU, under RUN_DIR.
#
#   tools/node.sh run|start|stop|reload
#
# Variables (shared/CONTRACT.md): PORT TLS_PORT WORKERS SFU_PORT RUN_DIR
# HEARTBEAT_MS CLUSTER_REDIS NODE_ID, and BUILD, NGINX_BIN.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)

PORT=${PORT:-8080}
TLS_PORT=${TLS_PORT:-8443}
WORKERS=${WORKERS:-2}
SFU_PORT=${SFU_PORT:-50000}
RUN_DIR=${RUN_DIR:-run}
HEARTBEAT_MS=${HEARTBEAT_MS:-41250}
NODE_ID=${NODE_ID:-1}
BUILD=${BUILD:-$repo/build}
NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}

mkdir -p "$RUN_DIR"
run_dir=$(cd "$RUN_DIR" && pwd)

nginx_pid=$run_dir/nginx.pid
sfu_pid=$run_dir/sfu.pid

nginx_cmd() {
    "$NGINX_BIN" -p "$run_dir/" -c "$run_dir/nginx.conf" "$@"
}

# random secrets and a self-signed certificate on first start; existing
# ones are kept (that is how the nodes of a cluster share them)
prepare() {
    mkdir -p "$run_dir/logs" "$run_dir/tmp"

    for secret in admin.secret token.secret; do
        if [ ! -s "$run_dir/$secret" ]; then
            (umask 077; head -c 32 /dev/urandom | od -An -tx1 \
                | tr -d ' \n' > "$run_dir/$secret")
        fi
    done

    if [ ! -s "$run_dir/cert.pem" ] || [ ! -s "$run_dir/key.pem" ]; then
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
            -nodes -days 3650 -subj /CN=localhost \
            -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
            -keyout "$run_dir/key.pem" -out "$run_dir/cert.pem" \
            > /dev/null 2>&1
    fi

    sed -e "s|@BUILD@|$BUILD|g" \
        -e "s|@WORKERS@|$WORKERS|g" \
        -e "s|@PORT@|$PORT|g" \
        -e "s|@TLS_PORT@|$TLS_PORT|g" \
        -e "s|@HEARTBEAT_MS@|$HEARTBEAT_MS|g" \
        -e "s|@NODE_ID@|$NODE_ID|g" \
        "$repo/conf/node.conf.in" > "$run_dir/nginx.conf"

    nginx_cmd -t -q
}

running() {
    [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

wait_healthy() {
    local i
    for i in $(seq 1 100); do
        if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" \
            2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "node: /healthz did not answer on port $PORT" >&2
    return 1
}

banner() {
    cat <<MSG
gateway node running in $run_dir
  gateway    ws://127.0.0.1:$PORT/gateway   wss://127.0.0.1:$TLS_PORT/gateway
  voice      ws://127.0.0.1:$PORT/voice     wss://127.0.0.1:$TLS_PORT/voice
  health     http://127.0.0.1:$PORT/healthz
  sfu        udp 0.0.0.0:$SFU_PORT
  admin secret: $(cat "$run_dir/admin.secret")
MSG
}

sfu_cmd=("$BUILD/bin/gateway-sfu" --port "$SFU_PORT" --pid "$sfu_pid"
         --log "$run_dir/logs/sfu.log")

stop_pid() {
    local file=$1 sig=$2 pid i
    running "$file" || return 0
    pid=$(cat "$file")
    kill -"$sig" "$pid" 2>/dev/null || return 0
    for i in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

case "${1:-}" in

start)
    if running "$nginx_pid"; then
        echo "node: already running (pid $(cat "$nginx_pid"))" >&2
        exit 1
    fi
    prepare
    nginx_cmd
    setsid "${sfu_cmd[@]}" < /dev/null > /dev/null 2>&1 &
    wait_healthy
    banner
    ;;

run)
    if running "$nginx_pid"; then
        echo "node: already running (pid $(cat "$nginx_pid"))" >&2
        exit 1
    fi
    prepare
    nginx_cmd -g "daemon off;" &
    nginx_fg=$!
    "${sfu_cmd[@]}" &
    sfu_fg=$!
    trap 'kill -QUIT $nginx_fg 2>/dev/null; kill -TERM $sfu_fg 2>/dev/null' \
        INT TERM
    wait_healthy || { kill -QUIT $nginx_fg $sfu_fg 2>/dev/null; exit 1; }
    banner
    echo "Ctrl-C stops the node."
    wait $nginx_fg || true
    kill -TERM $sfu_fg 2>/dev/null || true
    wait $sfu_fg || true
    ;;

stop)
    stop_pid "$nginx_pid" QUIT
    stop_pid "$sfu_pid" TERM
    ;;

reload)
    running "$nginx_pid" || { echo "node: not running" >&2; exit 1; }
    prepare
    nginx_cmd -s reload
    ;;

*)
    echo "usage: $0 run|start|stop|reload" >&2
    exit 2
    ;;
esac
