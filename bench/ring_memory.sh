#!/bin/bash
# Resume ring memory per session with 128 dispatches buffered: N sessions
# of one guild online (gwload), a member posts 160 messages through REST,
# and the zone's growth over those messages, less the message bodies
# (shared by all rings: the last 128 stay referenced), is divided by N.
#
#   bench/ring_memory.sh [N]         (default 10000)
set -euo pipefail

source "$(dirname "$0")/lib.sh"

n=${1:-10000}
messages=160
export RUN_DIR=$results/tmp/ring_memory WORKERS=2
start_node

base=2000000000
"$build/bin/gwctl" seed --users $((n + 1)) --guilds 1 --members $((n + 1)) \
    --id-base $base --out "$RUN_DIR/tokens.txt" --quiet
channel=$((base + n + 1 + 1))
head -1 "$RUN_DIR/tokens.txt" > "$RUN_DIR/publisher.txt"
tail -n +2 "$RUN_DIR/tokens.txt" > "$RUN_DIR/subscribers.txt"

"$build/bin/gwload" --url "ws://127.0.0.1:$PORT/gateway" --protocol gateway \
    --proto-opt tokens="$RUN_DIR/subscribers.txt" --proto-opt intents=33281 \
    --connections "$n" --procs 2 --rate 5000 \
    --hold 60 --no-progress > "$RUN_DIR/load.out" 2>&1 &
load=$!

for i in $(seq 1 300); do
    [ "$(established "$PORT")" -ge "$n" ] && break
    sleep 0.1
done
sleep 3

before=$(zone_used)

"$build/bin/gwload" publish \
    --url "http://127.0.0.1:$PORT/api/v10/channels/$channel/messages" \
    --header "Authorization: Bot $(cat "$RUN_DIR/publisher.txt")" \
    --body '{"content":"%T"}' --rate 40 --duration $((messages / 40)) \
    --no-progress --json "$RUN_DIR/publish.json" > "$RUN_DIR/publish.out" 2>&1
sleep 3

after=$(zone_used)

/usr/bin/python3 - "$results/ring_memory.json" "$n" "$before" "$after" \
    "$(machine_line)" "$RUN_DIR/publish.json" <<'PY'
import json, sys, time
out, n, before, after, machine, pub = sys.argv[1], int(sys.argv[2]), \
    int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
sent = json.load(open(pub))["accepted"]
# the bodies still referenced: the last 128 messages, each in a slab
# class of 1 KB (a MESSAGE_CREATE body is about 700 bytes)
shared = min(sent, 128) * 1024
per = (after - before - shared) / n
result = {"benchmark": "ring_memory", "date": time.strftime(
          "%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine,
          "sessions": n, "messages": sent, "zone_growth": after - before,
          "shared_bodies": shared, "bytes_per_session": round(per)}
json.dump(result, open(out, "w"), indent=2)
print("ring_memory: %d sessions, %d dispatches each (ring of 128): %d bytes "
      "of ring per session (zone +%d, of which %d shared bodies)"
      % (n, sent, per, after - before, shared))
PY
