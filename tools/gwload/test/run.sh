#!/bin/sh
# gwload smoke tests against gwload-test-server (and, when Debian's
# python3-websockets is installed, against test/echo_server.py).
#
#   BUILD=/abs/build sh tools/gwload/test/run.sh
#
# Loopback only, bounded: about 20 s.  Prints "N passed, N failed" last.

BUILD=${BUILD:-$(cd "$(dirname "$0")/../../.." && pwd)/build}
HERE=$(cd "$(dirname "$0")" && pwd)
GWLOAD=$BUILD/bin/gwload
SERVER=$BUILD/bin/gwload-test-server
TMP=$(mktemp -d /tmp/gwload-test.XXXXXX)

passed=0
failed=0
pids=""

cleanup() {
    for p in $pids; do
        kill "$p" 2>/dev/null
    done
    wait 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

ok() {
    passed=$((passed + 1))
    echo "ok - $1"
}

not_ok() {
    failed=$((failed + 1))
    echo "not ok - $1"
    sed 's/^/#   /' "$TMP/out" "$TMP/err" 2>/dev/null | tail -30
}

# a free port below the ephemeral range
free_port() {
    python3 -c '
import socket, random
for _ in range(200):
    p = random.randint(20000, 32000)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    s.close()
    print(p)
    break'
}

# start_server ARGS...: sets $port; not in $(...), so that $pids is kept
start_server() {
    port=$(free_port)
    "$SERVER" -l 127.0.0.1:"$port" "$@" >/dev/null 2>"$TMP/server.$port" &
    pids="$pids $!"
    i=0
    while ! grep -q listening "$TMP/server.$port" 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt 50 ] && break
        sleep 0.1
    done
}

# json_get FILE KEY: a top-level (or "a.b") value
json_get() {
    python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v[k]
print(str(v).lower() if isinstance(v, bool) else v)' "$1" "$2"
}

# expect NAME RC KEY=VALUE... -- gwload args
expect() {
    name=$1 want_rc=$2
    shift 2
    checks=""
    while [ "$1" != "--" ]; do
        checks="$checks $1"
        shift
    done
    shift
    "$GWLOAD" --no-progress --json "$TMP/r.json" "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    if [ "$rc" != "$want_rc" ]; then
        not_ok "$name: exit status $rc, expected $want_rc"
        return
    fi
    for c in $checks; do
        k=${c%%=*} v=${c#*=}
        got=$(json_get "$TMP/r.json" "$k")
        if [ "$got" != "$v" ]; then
            not_ok "$name: $k is $got, expected $v"
            return
        fi
    done
    ok "$name"
}

[ -x "$GWLOAD" ] && [ -x "$SERVER" ] || {
    echo "build first: make -C tools/gwload BUILD=... all test-server" >&2
    exit 1
}

start_server;                   plain=$port
start_server -P 200 -m 100;     busy=$port
start_server -s 503;            s503=$port
start_server -a;                badacc=$port
start_server -d 300;            drop=$port
start_server -d 300 -r;         rst=$port
refused=$(free_port)

expect "100 connections at 50/s, held 1 s" 0 \
    established=100 closed=100 failed=0 ok=true -- \
    --url "ws://127.0.0.1:$plain/gateway" -n 100 -r 50 --hold 1

expect "2000 connections, 2 procs, 3 source addresses, no rate limit" 0 \
    established=2000 closed=2000 procs=2 src_count=3 -- \
    --url "ws://127.0.0.1:$plain/" -n 2000 -r 0 --procs 2 --src-count 3 \
    --hold 0.5

expect "server pings and messages, client pings" 0 \
    established=50 ok=true -- \
    --url "ws://127.0.0.1:$busy/" -n 50 -r 0 --hold 1 --ping-interval 100 \
    --header "X-Test: 1"
if [ "$(json_get "$TMP/r.json" pongs_out)" -gt 0 ] \
   && [ "$(json_get "$TMP/r.json" msgs_in)" -gt 0 ] \
   && [ "$(json_get "$TMP/r.json" proto.pongs_received)" -gt 0 ]
then
    ok "pongs sent, messages counted, ping rtt measured"
else
    not_ok "pongs sent, messages counted, ping rtt measured"
fi

expect "connection refused is counted" 1 \
    failures.refused=10 established=0 -- \
    --url "ws://127.0.0.1:$refused/" -n 10 -r 0

expect "HTTP 503 is a status failure" 1 \
    failures.status=10 last_status=503 -- \
    --url "ws://127.0.0.1:$s503/" -n 10 -r 0

expect "a wrong Sec-WebSocket-Accept is refused" 1 \
    failures.bad_accept=10 -- \
    --url "ws://127.0.0.1:$badacc/" -n 10 -r 0

expect "a server close while held is a drop" 1 \
    established=10 dropped=10 drops.close_frame=10 last_close_code=1001 -- \
    --url "ws://127.0.0.1:$drop/" -n 10 -r 0 --hold 3

expect "a server reset while held is a drop" 1 \
    established=10 drops.reset=10 -- \
    --url "ws://127.0.0.1:$rst/" -n 10 -r 0 --hold 3

expect "a non-local source address is reported" 1 \
    failures.addr_unavail=3 -- \
    --url "ws://127.0.0.1:$plain/" -n 3 --src-from 192.0.2.1

# --hold forever ends cleanly on SIGINT
"$GWLOAD" --no-progress --json "$TMP/r.json" --url "ws://127.0.0.1:$plain/" \
    -n 300 -r 0 --procs 2 --hold forever >"$TMP/out" 2>"$TMP/err" &
gw=$!
i=0
while ! grep -q holding "$TMP/err" 2>/dev/null && [ $i -lt 50 ]; do
    i=$((i + 1))
    sleep 0.1
done
kill -INT $gw
wait $gw
rc=$?
if [ $rc = 0 ] && [ "$(json_get "$TMP/r.json" closed)" = 300 ]; then
    ok "--hold forever closes cleanly on SIGINT"
else
    not_ok "--hold forever closes cleanly on SIGINT (exit $rc)"
fi

expect "usage error exits 2" 2 -- --url "http://127.0.0.1:$plain/"

if /usr/bin/python3 -c 'import websockets' 2>/dev/null; then
    py=$(free_port)
    /usr/bin/python3 "$HERE/echo_server.py" --port "$py" --ping 0.2 \
        >/dev/null 2>"$TMP/py.err" &
    pids="$pids $!"
    i=0
    while ! python3 -c "import socket
socket.create_connection(('127.0.0.1', $py))" 2>/dev/null
    do
        i=$((i + 1))
        [ $i -gt 50 ] && break
        sleep 0.1
    done

    expect "interop with python3-websockets" 0 \
        established=100 closed=100 msgs_in=100 -- \
        --url "ws://127.0.0.1:$py/gateway" -n 100 -r 0 --hold 1 \
        --ping-interval 100
else
    echo "skip - python3-websockets is not installed"
fi

echo "$passed passed, $failed failed"
[ $failed = 0 ]
