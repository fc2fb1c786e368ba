#!/bin/bash
# Fan-out, side by side with nchan, the same load generator for both.
#
# gateway: one guild of SUBS members, all online (gwload, gateway protocol,
# intents GUILDS|GUILD_MESSAGES|MESSAGE_CONTENT) over 2 nginx workers; a
# member posts messages through POST /api/v10/channels/{id}/messages at
# increasing rates; every member session gets each MESSAGE_CREATE.
#
# nchan: Debian's libnginx-mod-nchan, 2 workers, SUBS WebSocket
# subscribers on one channel, messages published by HTTP POST at the same
# rates.
#
# Each message carries gwload:<send time ns>:<n>; the subscribers time
# every delivery.  Per rate step: deliveries per second and p50/p99
# latency over the step's seconds (the first one left out as transition).
# A step is sustained when the publisher achieved its rate (95%: the
# pacing's first token), its deliveries per second are at least 99% of
# rate x SUBS and its p99 stays under 1 s.
#
#   bench/fanout.sh      (SUBS=20000 RATES=1,2,5,10,20,40,60,80 STEP=10)
set -euo pipefail

source "$(dirname "$0")/lib.sh"

subs=${SUBS:-20000}
rates=${RATES:-1,2,5,10,20,40,60,80}
step=${STEP:-10}
settle=${SETTLE:-5}

# nchan answers a publish only after its fan-out: enough connections that
# the publisher is never what limits the rate (the same for both)
publishers=${PUBLISHERS:-16}

nsteps=$(echo "$rates" | tr ',' '\n' | wc -l)
hold=$((settle + nsteps * step + 10))

work=$results/tmp/fanout
rm -rf "$work"
mkdir -p "$work"

if [ ! -f /usr/lib/nginx/modules/ngx_nchan_module.so ]; then
    echo "fanout: libnginx-mod-nchan is not installed (make deps)" >&2
    exit 1
fi

# wait until $2 connections are established to port $1
wait_established() {
    local i
    for i in $(seq 1 600); do
        [ "$(established "$1")" -ge "$2" ] && return 0
        sleep 0.1
    done
    echo "fanout: only $(established "$1") of $2 connections" >&2
    return 1
}

# --- the gateway -----------------------------------------------------------

export RUN_DIR=$work/gateway WORKERS=2
start_node

seed_guild "$subs" 1000000000

"$build/bin/gwload" --url "ws://127.0.0.1:$PORT/gateway" --protocol gateway \
    --proto-opt tokens="$RUN_DIR/subscribers.txt" --proto-opt intents=33281 \
    --connections "$subs" --procs 2 --rate 0 --hold "$hold" --no-progress \
    --json "$work/gateway-subscribers.json" \
    > "$work/gateway-subscribers.out" 2>&1 &
load=$!

wait_established "$PORT" "$subs"
sleep "$settle"

"$build/bin/gwload" publish \
    --url "http://127.0.0.1:$PORT/api/v10/channels/$channel/messages" \
    --header "Authorization: Bot $(cat "$RUN_DIR/publisher.txt")" \
    --body '{"content":"%T"}' --rates "$rates" --step "$step" \
    --connections "$publishers" \
    --no-progress --json "$work/gateway-publisher.json" \
    > "$work/gateway-publisher.out" 2>&1 || true

wait "$load" || true
load=
stop_node
trap - EXIT

# --- nchan -----------------------------------------------------------------

read -r nchan_port <<< "$(free_ports 1)"
nchan_dir=$work/nchan
mkdir -p "$nchan_dir/logs"

cat > "$nchan_dir/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_nchan_module.so;

worker_processes      2;
worker_rlimit_nofile  20000;
error_log             logs/error.log warn;
pid                   nginx.pid;

events {
    worker_connections  19000;
}

http {
    access_log  off;

    client_body_temp_path  tmp/client_body;
    proxy_temp_path        tmp/proxy;
    fastcgi_temp_path      tmp/fastcgi;
    uwsgi_temp_path        tmp/uwsgi;
    scgi_temp_path         tmp/scgi;

    nchan_shared_memory_size  256m;

    server {
        listen  127.0.0.1:$nchan_port reuseport backlog=4096;

        location = /sub {
            nchan_subscriber                websocket;
            nchan_channel_id                fanout;
            nchan_subscriber_first_message  newest;
        }

        location = /pub {
            nchan_publisher    http;
            nchan_channel_id   fanout;
        }
    }
}
EOF
mkdir -p "$nchan_dir/tmp"

/usr/sbin/nginx -p "$nchan_dir/" -c "$nchan_dir/nginx.conf"
trap '/usr/sbin/nginx -p "$nchan_dir/" -c "$nchan_dir/nginx.conf" -s stop 2>/dev/null; [ -n "${load:-}" ] && { kill "$load" 2>/dev/null || true; }' EXIT

"$build/bin/gwload" --url "ws://127.0.0.1:$nchan_port/sub" --protocol ws \
    --connections "$subs" --procs 2 --rate 0 --hold "$hold" --no-progress \
    --json "$work/nchan-subscribers.json" \
    > "$work/nchan-subscribers.out" 2>&1 &
load=$!

wait_established "$nchan_port" "$subs"
sleep "$settle"

"$build/bin/gwload" publish --url "http://127.0.0.1:$nchan_port/pub" \
    --body '%T' --rates "$rates" --step "$step" --no-progress \
    --connections "$publishers" \
    --json "$work/nchan-publisher.json" \
    > "$work/nchan-publisher.out" 2>&1 || true

wait "$load" || true
load=

/usr/bin/python3 - "$results/fanout.json" "$subs" "$(machine_line)" "$work" \
    <<'PY'
import json, sys, time

out, subs, machine, work = sys.argv[1], int(sys.argv[2]), sys.argv[3], \
    sys.argv[4]

def steps(name):
    pub = json.load(open("%s/%s-publisher.json" % (work, name)))
    sub = json.load(open("%s/%s-subscribers.json" % (work, name)))
    probe = sub["probe"]
    series = probe["series"]
    t0 = probe["start_unix"]
    rows = []
    for st in pub["steps"]:
        # receive seconds inside the step, the first left out
        first = int(st["start_unix"] - t0) + 1
        last = int(st["start_unix"] + st["duration_s"] - t0)
        secs = [i for i in range(first, last) if i < len(series["deliveries"])]
        d = [series["deliveries"][i] for i in secs]
        p50 = [series["p50_ms"][i] for i in secs if series["p50_ms"][i]]
        p99 = [series["p99_ms"][i] for i in secs if series["p99_ms"][i]]
        rate = st["rate"]
        per_s = sum(d) / len(d) if d else 0
        row = {"rate": rate, "achieved_rate": st["achieved_rate"],
               "offered_deliveries_per_s": rate * subs,
               "deliveries_per_s": round(per_s),
               "p50_ms": round(sorted(p50)[len(p50) // 2], 1) if p50 else None,
               "p99_ms": round(max(p99), 1) if p99 else None,
               "post_p99_ms": st["post_ms"]["p99"]}
        row["sustained"] = (per_s >= 0.99 * rate * subs
                            and st["achieved_rate"] >= 0.95 * rate
                            and row["p99_ms"] is not None
                            and row["p99_ms"] < 1000)
        rows.append(row)
    best = max([r["deliveries_per_s"] for r in rows if r["sustained"]] or [0])
    peak = max(series["deliveries"] or [0])
    return {"steps": rows, "sustained_deliveries_per_s": best,
            "peak_second_deliveries": peak,
            "deliveries": probe["deliveries"],
            "sequence_errors": sub.get("gateway", {}).get("seq_errors"),
            "subscribers_ok": sub["ok"]}

gw, nc = steps("gateway"), steps("nchan")
ratio = (gw["sustained_deliveries_per_s"] / nc["sustained_deliveries_per_s"]
         if nc["sustained_deliveries_per_s"] else None)
result = {"benchmark": "fanout", "date": time.strftime("%Y-%m-%dT%H:%M:%SZ",
          time.gmtime()), "machine": machine, "subscribers": subs,
          "workers": 2, "load_procs": 2, "gateway": gw, "nchan": nc,
          "sustained_ratio": ratio}
json.dump(result, open(out, "w"), indent=2)

def show(name, r):
    print("fanout %-7s rate/s  deliveries/s (offered)   p50 ms   p99 ms  "
          "post p99 ms  sustained" % name)
    for s in r["steps"]:
        print("               %5d  %8d (%8d)  %7s  %7s  %11s  %s" % (
              s["rate"], s["deliveries_per_s"],
              s["offered_deliveries_per_s"], s["p50_ms"], s["p99_ms"],
              s["post_p99_ms"], "yes" if s["sustained"] else "no"))
    print("       %-7s sustained %d deliveries/s, best second %d" % (
          name, r["sustained_deliveries_per_s"], r["peak_second_deliveries"]))

show("gateway", gw)
show("nchan", nc)
print("fanout: %d subscribers: gateway sustains %d deliveries/s, nchan %d: "
      "ratio %s" % (subs, gw["sustained_deliveries_per_s"],
                    nc["sustained_deliveries_per_s"],
                    "%.2f" % ratio if ratio else "n/a"))
PY
