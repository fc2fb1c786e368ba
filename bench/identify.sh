#!/bin/bash
# Identifies per second: N users, each a member of 5 guilds, connect at
# once (TCP, upgrade, Hello, Identify, READY and 5 GUILD_CREATEs) with
# gwload on the same two cores as the node (2 workers).
#
#   bench/identify.sh [N]
set -euo pipefail

source "$(dirname "$0")/lib.sh"

n=${1:-20000}
export RUN_DIR=$results/tmp/identify WORKERS=2
start_node

# 100 guilds of n/20 members: every user in 5 guilds
"$build/bin/gwctl" seed --users "$n" --guilds 100 --members $((n / 20)) \
    --out "$RUN_DIR/tokens.txt" --quiet

runs=()
for run in 1 2 3; do
    "$build/bin/gwload" --url "ws://127.0.0.1:$PORT/gateway" \
        --protocol gateway --proto-opt tokens="$RUN_DIR/tokens.txt" \
        --connections "$n" --procs 2 --rate 0 --hold 0 --no-progress \
        --json "$RUN_DIR/run$run.json" > "$RUN_DIR/run$run.out" 2>&1
    runs+=("$RUN_DIR/run$run.json")
    sleep 2
done

/usr/bin/python3 - "$results/identify.json" "$n" "$(machine_line)" \
    "${runs[@]}" <<'PY'
import json, sys, time
out, n, machine, runs = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
rates, p99 = [], []
for path in runs:
    r = json.load(open(path))
    g = r["gateway"]
    assert g["identified"] == n, (path, g["identified"])
    rates.append(g["identify_rate"])
    p99.append(g["identify_ms"]["p99"])
result = {"benchmark": "identify", "date": time.strftime("%Y-%m-%dT%H:%M:%SZ",
          time.gmtime()), "machine": machine, "sessions": n,
          "guilds_per_user": 5, "workers": 2, "load_procs": 2,
          "identify_rate_per_s": rates, "identify_p99_ms": p99,
          "median_rate_per_s": sorted(rates)[len(rates) // 2]}
json.dump(result, open(out, "w"), indent=2)
print("identify: %d sessions (5 guilds each): %s identifies/s (median %.0f), "
      "p99 %s ms" % (n, ", ".join("%.0f" % x for x in rates),
                     result["median_rate_per_s"],
                     ", ".join("%.0f" % x for x in p99)))
PY
