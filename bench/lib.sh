# Helpers shared by the bench/*.sh scripts (sourced).

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD:-$repo/build}
results=$repo/bench/results
mkdir -p "$results"

# free TCP ports on 127.0.0.1
free_ports() {
    /usr/bin/python3 -c '
import socket, sys
socks = [socket.socket() for i in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}

# Private RSS (RssAnon) in KiB summed over the worker processes of the
# nginx master in $1.  VmRSS would also count the pages of the shared
# zone each worker touched, once per worker: the zone is measured on its
# own (zone_used), once.
workers_rss_kb() {
    local pid total=0 rss
    for pid in $(pgrep -P "$1"); do
        rss=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
        total=$((total + ${rss:-0}))
    done
    echo "$total"
}

# established TCP connections to local port $1
established() {
    ss -Htn state established "( sport = :$1 )" | wc -l
}

machine_line() {
    echo "$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r), nginx $(/usr/sbin/nginx -v 2>&1 | sed 's|.*/||')"
}

# seed_guild N BASE: one guild of N + 1 members (ids from BASE, gwctl
# seed) in the node of $RUN_DIR: the first member's token in
# $RUN_DIR/publisher.txt, the other N in $RUN_DIR/subscribers.txt, the
# guild's channel id in $channel
seed_guild() {
    "$build/bin/gwctl" seed --users $(($1 + 1)) --guilds 1 \
        --members $(($1 + 1)) --id-base "$2" --out "$RUN_DIR/tokens.txt" \
        --quiet
    channel=$(($2 + $1 + 1 + 1))
    head -1 "$RUN_DIR/tokens.txt" > "$RUN_DIR/publisher.txt"
    tail -n +2 "$RUN_DIR/tokens.txt" > "$RUN_DIR/subscribers.txt"
}

# /admin/status of the node in $RUN_DIR
admin_status() {
    curl -fsS -H "Authorization: Admin $(cat "$RUN_DIR/admin.secret")" \
        "http://127.0.0.1:$PORT/admin/status"
}

# the zone's used bytes from /admin/status
zone_used() {
    admin_status \
        | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["zone"]["used"])'
}

# wait_holding FILE [PID] [TENTHS]: until gwload (PID, if given, still
# running) says in FILE that every connection is established and held
wait_holding() {
    local i
    for i in $(seq 1 "${3:-600}"); do
        grep -q holding "$1" && return 0
        [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null && break
        sleep 0.1
    done
    grep -q holding "$1"
}

# A reconnect herd comes faster than a respawned worker accepts: deep
# accept queues (somaxconn caps the listen backlog) for the run;
# restore_backlogs puts the kernel's values back.  Without root they stay
# as they are.
backlog_sysctls="net.core.somaxconn net.ipv4.tcp_max_syn_backlog"
saved_backlogs=

raise_backlogs() {
    saved_backlogs=$(sysctl -n $backlog_sysctls 2>/dev/null | tr '\n' ' ')
    sysctl -q -w net.core.somaxconn="$1" net.ipv4.tcp_max_syn_backlog="$1" \
        2>/dev/null || echo "$(basename "$0"): kernel backlogs left as they are" >&2
}

restore_backlogs() {
    local k v
    set -- $saved_backlogs
    for k in $backlog_sysctls; do
        v=${1:-}
        shift || true
        [ -n "$v" ] && sysctl -q -w "$k=$v" 2>/dev/null || true
    done
}

# a node of $WORKERS workers in $RUN_DIR on free ports, stopped on exit
start_node() {
    read -r PORT TLS_PORT SFU_PORT <<< "$(free_ports 3)"
    export PORT TLS_PORT SFU_PORT RUN_DIR
    rm -rf "$RUN_DIR"
    "$repo/tools/node.sh" start > /dev/null
    trap 'stop_node' EXIT
}

stop_node() {
    [ -n "${load:-}" ] && { kill "$load" 2>/dev/null || true; }
    "$repo/tools/node.sh" stop > /dev/null 2>&1 || true
}
