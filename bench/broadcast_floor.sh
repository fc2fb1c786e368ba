#!/bin/bash
# The machine's floor for bench/fanout.sh's latency: a broadcast of a
# 700-byte message to SUBS loopback TCP sockets at 5 per second from 2
# writer processes to 2 reader processes, with no server or client logic
# (bench/floor/broadcast_floor.c).  Three runs.
#
#   bench/broadcast_floor.sh      (SUBS=20000 ROUNDS=25 INTERVAL=0.2)
set -euo pipefail

source "$(dirname "$0")/lib.sh"

subs=${SUBS:-20000}
rounds=${ROUNDS:-25}
interval=${INTERVAL:-0.2}

mkdir -p "$build/bin"
cc -O2 -Wall -Wextra -o "$build/bin/broadcast_floor" \
    "$repo/bench/floor/broadcast_floor.c"

out=$results/tmp/broadcast_floor
mkdir -p "$out"

for run in 1 2 3; do
    read -r port <<< "$(free_ports 1)"
    "$build/bin/broadcast_floor" "$subs" "$rounds" "$interval" "$port" \
        > "$out/run$run.jsonl"
    sleep 1
done

/usr/bin/python3 - "$results/broadcast_floor.json" "$subs" "$interval" \
    "$(machine_line)" "$out"/run*.jsonl <<'PY'
import json, sys, time
out, subs, interval, machine, runs = sys.argv[1], int(sys.argv[2]), \
    float(sys.argv[3]), sys.argv[4], sys.argv[5:]
results = []
for path in runs:
    readers = [json.loads(l) for l in open(path)]
    results.append({"p50_ms": max(r["p50_ms"] for r in readers),
                    "p99_ms": max(r["p99_ms"] for r in readers),
                    "deliveries": sum(r["deliveries"] for r in readers)})
result = {"benchmark": "broadcast_floor", "date": time.strftime(
          "%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine,
          "sockets": subs, "messages_per_s": 1 / interval,
          "message_bytes": 700, "runs": results}
json.dump(result, open(out, "w"), indent=2)
print("broadcast_floor: %d sockets, %.0f broadcasts/s, bare writev/epoll: "
      "p50 %s ms, p99 %s ms" % (subs, 1 / interval,
      ", ".join("%.0f" % r["p50_ms"] for r in results),
      ", ".join("%.0f" % r["p99_ms"] for r in results)))
PY
