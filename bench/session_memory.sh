#!/bin/bash
# Memory per idle identified session: N sessions (users in 5 guilds each)
# identify and stay idle; the growth of the workers' RSS plus the growth
# of the zone's used bytes, divided by N.
#
#   bench/session_memory.sh [N]
set -euo pipefail

source "$(dirname "$0")/lib.sh"

n=${1:-15000}
export RUN_DIR=$results/tmp/session-memory WORKERS=2
start_node
master=$(cat "$RUN_DIR/nginx.pid")

"$build/bin/gwctl" seed --users "$n" --guilds 100 --members $((n / 20)) \
    --out "$RUN_DIR/tokens.txt" --quiet

# fresh workers (the zone, with the directory, stays): the seeding's big
# request bodies must not have grown the heaps we measure
"$repo/tools/node.sh" reload
sleep 2

# warm up: each worker's first connections, then all gone
"$build/bin/gwload" --url "ws://127.0.0.1:$PORT/gateway" --protocol gateway \
    --proto-opt tokens="$RUN_DIR/tokens.txt" --connections 200 --rate 0 \
    --hold 0 --no-progress > /dev/null 2>&1
sleep 1

rss0=$(workers_rss_kb "$master")
zone0=$(zone_used)

"$build/bin/gwload" --url "ws://127.0.0.1:$PORT/gateway" --protocol gateway \
    --proto-opt tokens="$RUN_DIR/tokens.txt" --connections "$n" --procs 2 \
    --rate 5000 --hold 10 --no-progress --json "$RUN_DIR/gwload.json" \
    > "$RUN_DIR/gwload.out" 2>&1 &
load=$!

for i in $(seq 1 300); do
    [ "$(established "$PORT")" -ge "$n" ] && break
    sleep 0.1
done
sleep 3

rss1=$(workers_rss_kb "$master")
zone1=$(zone_used)
sessions=$(admin_status \
    | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["sessions"]["attached"])')

wait "$load"
load=

rss_per=$(( (rss1 - rss0) * 1024 / n ))
zone_per=$(( (zone1 - zone0) / n ))

cat > "$results/session_memory.json" <<JSON
{
  "benchmark": "session_memory",
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "machine": "$(machine_line)",
  "sessions": $n,
  "attached_at_sample": $sessions,
  "workers_rss_kib": [$rss0, $rss1],
  "zone_used_bytes": [$zone0, $zone1],
  "worker_bytes_per_session": $rss_per,
  "zone_bytes_per_session": $zone_per,
  "bytes_per_session": $((rss_per + zone_per))
}
JSON

echo "session_memory: $sessions idle identified sessions: $rss_per bytes" \
     "of worker RSS + $zone_per bytes of zone = $((rss_per + zone_per))" \
     "bytes per session"
