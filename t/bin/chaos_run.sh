#!/bin/bash
# Chaos under a steady event stream (issue 5): N gwload gateway clients of
# one guild receive M messages/s posted through REST while the node is
# reloaded twice and one worker is killed; gwload resumes every lost
# session (jittered backoff 1-3 s) and checks that each session got every
# message exactly once with a gap-free s.
#
#   t/bin/chaos_run.sh N RATE [SCALE]
#
# (TEST_NGINX_PORT, TEST_NGINX_BACKEND_PORT, TEST_NGINX_SERVROOT set).
# SCALE stretches the timeline and the 5 s bound, for valgrind.
set -euo pipefail

n=$1
rate=$2
scale=${3:-1}
port=$TEST_NGINX_PORT
root=$TEST_NGINX_SERVROOT
work=$root/chaos
bin=${TEST_NGINX_REPO:-.}/build/bin
master=$(cat "$root/logs/nginx.pid")

mkdir -p "$work"

"$bin/gwctl" --url "http://127.0.0.1:$port" --secret t-admin-secret \
    --run-dir "$work" seed --users $((n + 1)) --guilds 1 \
    --members $((n + 1)) --id-base 3000000000 --out "$work/tokens.txt" \
    --quiet
channel=$((3000000000 + n + 1 + 1))
head -1 "$work/tokens.txt" > "$work/publisher.txt"
tail -n +2 "$work/tokens.txt" > "$work/subscribers.txt"

"$bin/gwload" --url "ws://127.0.0.1:$TEST_NGINX_BACKEND_PORT/gateway" --protocol gateway \
    --proto-opt tokens="$work/subscribers.txt" --proto-opt intents=33281 \
    --proto-opt backoff=1000-3000 --connections "$n" --procs 2 --rate 2000 \
    --hold forever --no-progress --json "$work/subscribers.json" \
    --expect-messages "@$work/publisher.json" \
    > "$work/subscribers.out" 2>&1 &
load=$!
trap 'kill $load 2>/dev/null || true' EXIT

for i in $(seq 1 300); do
    grep -q holding "$work/subscribers.out" && break
    sleep 0.1
done

"$bin/gwload" publish \
    --url "http://127.0.0.1:$port/api/v10/channels/$channel/messages" \
    --header "Authorization: Bot $(cat "$work/publisher.txt")" \
    --body '{"content":"%T"}' --rate "$rate" --duration $((26 * scale)) \
    --connections 4 --no-progress --json "$work/publisher.json" \
    > "$work/publisher.out" 2>&1 &
publisher=$!

# two reloads, then a worker killed
sleep $((3 * scale))
kill -HUP "$master"
sleep $((7 * scale))
kill -HUP "$master"
sleep $((7 * scale))
victim=$(pgrep -P "$master" | head -1)
kill -KILL "$victim"
echo "reloaded twice, killed worker $victim"

wait "$publisher"
sleep $((6 * scale))
kill -INT "$load"
status=0
wait "$load" || status=$?
trap - EXIT

/usr/bin/python3 - "$work/subscribers.json" "$n" "$status" "$scale" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
n, status, scale = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
g = r["gateway"]
res = g["resume"]
p = r["probe"]
print("sessions %d, resumed %d, re-identified %d, lost %d, repeated %d, "
      "sessions lost %d, replayed %d, resume ms p50 %s p99 %s max %s, "
      "messages %s, missing %s"
      % (g["identified"], res["resumed"], res["reidentified"], res["lost"],
         res["repeated"], res["sessions_lost"], res["replayed"],
         res["resume_ms"]["p50"], res["resume_ms"]["p99"],
         res["resume_ms"]["max"], p["messages_seen"], p["missing"]))
assert g["identified"] == n, g["identified"]
assert res["reidentified"] == 0, res["reidentified"]
assert res["lost"] == 0 and res["repeated"] == 0, (res["lost"], res["repeated"])
assert res["sessions_lost"] == 0, res["sessions_lost"]
assert g["seq_errors"] == 0, g["seq_errors"]
assert p["missing"] == 0, p["missing"]
# every session was told to move twice, and some were on the killed worker
assert res["resumed"] >= 2 * n, res["resumed"]
# the backoff is 1-3 s: every client back within 5 s of losing its socket
assert res["resume_ms"]["max"] < 5000 * scale, res["resume_ms"]
assert status == 0, "gwload exit status %d" % status
print("ok")
PY
