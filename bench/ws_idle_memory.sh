#!/bin/bash
# User-space memory per idle upgraded WebSocket connection: the RSS growth
# of the nginx workers while N connections (default 15000) are open and
# idle on /gateway, divided by N.  The load (gwload) runs on the same
# machine, spread over source addresses 127.0.0.2 and up.
#
#   bench/ws_idle_memory.sh [N]
set -euo pipefail

source "$(dirname "$0")/lib.sh"

n=${1:-15000}
read -r port tls_port sfu_port <<< "$(free_ports 3)"
run_dir=$results/tmp/ws-idle-memory
rm -rf "$run_dir"

export RUN_DIR=$run_dir PORT=$port TLS_PORT=$tls_port SFU_PORT=$sfu_port
export WORKERS=2

cleanup() {
    [ -n "${load:-}" ] && kill "$load" 2>/dev/null
    "$repo/tools/node.sh" stop > /dev/null 2>&1 || true
}
trap cleanup EXIT

"$repo/tools/node.sh" start > /dev/null
master=$(cat "$run_dir/nginx.pid")

# warm each worker up (its scratch buffer, first allocations), then settle
"$build/bin/gwload" --url "ws://127.0.0.1:$port/gateway" --connections 200 \
    --rate 0 --hold 0.5 --no-progress > /dev/null
sleep 1

before=$(workers_rss_kb "$master")

"$build/bin/gwload" --url "ws://127.0.0.1:$port/gateway" --connections "$n" \
    --rate 5000 --hold 8 --no-progress --json "$run_dir/gwload.json" \
    > "$run_dir/gwload.out" &
load=$!

for i in $(seq 1 300); do
    [ "$(established "$port")" -ge "$n" ] && break
    sleep 0.1
done

held=$(established "$port")
sleep 2
after=$(workers_rss_kb "$master")

wait "$load"
load=

per_conn=$(( (after - before) * 1024 / n ))

cat > "$results/ws_idle_memory.json" <<JSON
{
  "benchmark": "ws_idle_memory",
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "machine": "$(machine_line)",
  "connections": $n,
  "held": $held,
  "workers": 2,
  "workers_rss_before_kib": $before,
  "workers_rss_after_kib": $after,
  "bytes_per_connection": $per_conn
}
JSON

echo "ws_idle_memory: $held connections held; workers RSS $before KiB ->" \
     "$after KiB; $per_conn bytes per idle upgraded connection"
