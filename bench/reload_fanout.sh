#!/bin/bash
# A zero-downtime deploy under the fan-out load (issue 5): one guild of
# SUBS members, all online (gwload, gateway protocol, resume on) over 2
# nginx workers, a member posting RATE messages/s through REST; after
# BEFORE seconds `nginx -s reload`.  The old workers send op 7 to their
# clients spread over gateway_drain_window (5 s); each client reconnects at
# once (backoff=0: op 7 means "resume now", PROTOCOL.md 1.8) and resumes on
# a new worker.
#
# Measured: deliveries lost (gwload --expect-messages: every member must
# get every message, each session's s gap-free and never repeated), the
# sessions resumed and re-identified, and the per-second delivery latency
# p50/p99 before the reload, during the drain and after it.
#
#   bench/reload_fanout.sh     (SUBS=20000 RATE=5 BEFORE=15 AFTER=20)
set -euo pipefail

source "$(dirname "$0")/lib.sh"

subs=${SUBS:-20000}
rate=${RATE:-5}
before=${BEFORE:-15}
after=${AFTER:-20}
drain=5

work=$results/tmp/reload_fanout
rm -rf "$work"
mkdir -p "$work"

export RUN_DIR=$work/node WORKERS=2
start_node
master=$(cat "$RUN_DIR/nginx.pid")

seed_guild "$subs" 5000000000

"$build/bin/gwload" --url "ws://127.0.0.1:$PORT/gateway" --protocol gateway \
    --proto-opt tokens="$RUN_DIR/subscribers.txt" --proto-opt intents=33281 \
    --proto-opt backoff=0 --connections "$subs" --procs 2 --rate 0 \
    --hold forever --no-progress --json "$work/subscribers.json" \
    --expect-messages "@$work/publisher.json" \
    > "$work/subscribers.out" 2>&1 &
load=$!

wait_holding "$work/subscribers.out" "$load" || {
    echo "reload_fanout: the sessions did not all identify" >&2
    exit 1
}
sleep 2

"$build/bin/gwload" publish \
    --url "http://127.0.0.1:$PORT/api/v10/channels/$channel/messages" \
    --header "Authorization: Bot $(cat "$RUN_DIR/publisher.txt")" \
    --body '{"content":"%T"}' --rate "$rate" --duration $((before + after)) \
    --connections 4 --no-progress --json "$work/publisher.json" \
    > "$work/publisher.out" 2>&1 &
publisher=$!

sleep "$before"
date +%s.%N > "$work/reloaded_at"
kill -HUP "$master"

wait "$publisher" || true
sleep 3
kill -INT "$load"
status=0
wait "$load" || status=$?
load=

/usr/bin/python3 - "$results/reload_fanout.json" "$work" "$subs" "$rate" \
    "$drain" "$status" "$(machine_line)" <<'PY'
import json, sys, time

out, work, subs, rate, drain, status, machine = sys.argv[1], sys.argv[2], \
    int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), \
    int(sys.argv[6]), sys.argv[7]

r = json.load(open(work + "/subscribers.json"))
pub = json.load(open(work + "/publisher.json"))
reloaded = float(open(work + "/reloaded_at").read())
g = r["gateway"]
res = g["resume"]
p = r["probe"]
s = p["series"]
t0 = p["start_unix"]
k = int(reloaded - t0)
pub_first = int(pub["steps"][0]["start_unix"] - t0) + 1 \
    if pub.get("steps") else 0

def window(first, last):
    secs = [i for i in range(max(first, 0), last)
            if i < len(s["deliveries"]) and s["deliveries"][i]]
    p50 = sorted(s["p50_ms"][i] for i in secs if s["p50_ms"][i])
    p99 = [s["p99_ms"][i] for i in secs if s["p99_ms"][i]]
    return {"seconds": len(secs),
            "deliveries": sum(s["deliveries"][i] for i in secs),
            "p50_ms": round(p50[len(p50) // 2], 1) if p50 else None,
            "p99_ms": round(max(p99), 1) if p99 else None}

result = {
    "bench": "reload_fanout",
    "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    "machine": machine, "members": subs, "messages_per_s": rate,
    "drain_window_s": drain,
    "messages_posted": pub["accepted"],
    "deliveries_expected": pub["accepted"] * subs,
    "deliveries": p["deliveries"],
    "deliveries_lost": p["missing"] + res["lost"],
    "repeated": res["repeated"],
    "seq_errors": g["seq_errors"],
    "resumed": res["resumed"], "reidentified": res["reidentified"],
    "sessions_lost": res["sessions_lost"],
    "resume_ms": res["resume_ms"],
    "before": window(pub_first + 1, k),
    "drain": window(k, k + drain + 2),
    "after": window(k + drain + 2, len(s["deliveries"])),
    "gwload_exit_status": status,
}
result["ok"] = (result["deliveries_lost"] == 0 and result["repeated"] == 0
                and result["reidentified"] == 0 and status == 0
                and result["resumed"] >= subs)
json.dump(result, open(out, "w"), indent=2)
b, d = result["before"], result["drain"]
print("reload_fanout: %d members, %d msg/s: %d of %d deliveries, %d lost, "
      "%d resumed, %d re-identified; p99 before %s ms, during the drain %s ms "
      "(p50 %s / %s)"
      % (subs, rate, result["deliveries"], result["deliveries_expected"],
         result["deliveries_lost"], result["resumed"],
         result["reidentified"], b["p99_ms"], d["p99_ms"], b["p50_ms"],
         d["p50_ms"]))
PY
