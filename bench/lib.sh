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

# RSS in KiB summed over the worker processes of the nginx master in $1
workers_rss_kb() {
    local pid total=0 rss
    for pid in $(pgrep -P "$1"); do
        rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
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
