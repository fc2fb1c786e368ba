#!/bin/bash
# make bench: every benchmark, one after the other (they share the
# machine's two cores, so never in parallel).  Each writes
# bench/results/<name>.json and prints one summary line.
set -euo pipefail

cd "$(dirname "$0")"

status=0
for bench in ws_idle_memory identify session_memory ring_memory fanout broadcast_floor \
             resume_storm resume_floor reload_fanout; do
    if ! "./$bench.sh"; then
        echo "bench: $bench failed" >&2
        status=1
    fi
done

exit $status
