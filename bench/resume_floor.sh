#!/bin/bash
# The machine's floor for bench/resume_storm.sh's herd: 15000 loopback
# TCP connections held by a process that is SIGKILLed, and their 4 client
# processes reconnecting at once to 4 server processes (SO_REUSEPORT) and
# playing a resume's packets (upgrade, 101 + Hello, op 6, replay +
# RESUMED) with no server or client logic (bench/floor/resume_floor.c).
# Three runs.
#
#   bench/resume_floor.sh      (N=15000)
set -euo pipefail

source "$(dirname "$0")/lib.sh"

n=${N:-15000}

mkdir -p "$build/bin"
cc -O2 -Wall -Wextra -o "$build/bin/resume_floor" \
    "$repo/bench/floor/resume_floor.c"

out=$results/tmp/resume_floor
rm -rf "$out"
mkdir -p "$out"

# as bench/resume_storm.sh: deep accept queues for the run
raise_backlogs 16384
trap restore_backlogs EXIT

ulimit -n "$(ulimit -Hn)"

for run in 1 2 3; do
    read -r vport port <<< "$(free_ports 2)"
    "$build/bin/resume_floor" "$n" 4 4 "$vport" "$port" > "$out/run$run.jsonl"
    sleep 2
done

/usr/bin/python3 - "$results/resume_floor.json" "$n" "$(machine_line)" \
    "$out"/run*.jsonl <<'PY'
import json, sys, time
out, n, machine, runs = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
    sys.argv[4:]
results = []
for path in runs:
    lines = [json.loads(l) for l in open(path)]
    killed = [l["killed"] for l in lines if "killed" in l][0]
    clients = [l for l in lines if "client" in l]
    last = max(c["last_done"] for c in clients)
    done = sum(c["n"] for c in clients)
    results.append({"resumed": done, "seconds": round(last - killed, 3),
                    "per_s": round(done / (last - killed)),
                    "p50_ms": max(c["p50_ms"] for c in clients),
                    "p99_ms": max(c["p99_ms"] for c in clients)})
rates = sorted(r["per_s"] for r in results)
json.dump({"bench": "resume_floor", "machine": machine, "connections": n,
           "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "runs": results, "median_per_s": rates[len(rates) // 2]},
          open(out, "w"), indent=2)
print("resume_floor: %d connections: %s resumes/s (median %d)"
      % (n, ", ".join(str(r["per_s"]) for r in results),
         rates[len(rates) // 2]))
PY
