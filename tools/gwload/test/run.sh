#!/bin/sh
# gwload smoke tests against gwload-test-server (and, when Debian's
# python3-websockets is installed, against test/echo_server.py); the
# gateway protocol against gwload-test-server -G, the mock gateway.
#
#   BUILD=/abs/build sh tools/gwload/test/run.sh
#
# Loopback only, bounded: about 80 s.  Prints "N passed, N failed" last.

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
    spid=$!
    pids="$pids $spid"
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
rm -f "$TMP/out" "$TMP/err"
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

# --- protocol gateway, against gwload-test-server -G (the mock gateway) ---

seq 1 5000 | sed 's/^/Bot.gwload-test-token./' > "$TMP/tokens"
head -20 "$TMP/tokens" > "$TMP/tokens20"
sed 's/^Bot/Bad/' "$TMP/tokens20" > "$TMP/badtokens"
tok="--protocol gateway --proto-opt tokens=$TMP/tokens"

# json_ge FILE KEY MIN: KEY is at least MIN
json_ge() {
    [ "$(json_get "$1" "$2" 2>/dev/null || echo -1)" -ge "$3" ] 2>/dev/null
}

# jcheck NAME FILE EXPR: a Python expression over the JSON d is true
jcheck() {
    if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$2" "$3" 2>>"$TMP/err"
    then
        ok "$1"
    else
        not_ok "$1"
        echo "#   false: $3"
    fi
}

start_server -G -g 3 -b 3000 -I 300 -T "$TMP/tokens";    gw=$port gwpid=$spid
start_server -G -g 2 -b 300000 -f 65536;                 gwbig=$port
start_server -G -g 2 -I 200 -M skip-ack,seq-gap,op7 -F 2; gwmis=$port
start_server -G -g 2 -M hb-request,seq-repeat,bad-json -F 2; gwmis2=$port
start_server -G -M op9 -F 2;                             gwop9=$port
start_server -G -M close4004 -F 2;                       gw4004=$port
start_server -G -I 150 -M no-ack -F 2;                   gwzombie=$port
start_server -G -g 2 -M drop-guild -F 2;                 gwdrop=$port
start_server -G -T "$TMP/tokens20";                      gwscale=$port

expect "gateway: 100 identifies over 2 procs, 3 guilds each, heartbeats" 0 \
    gateway.identified=100 gateway.ready=100 gateway.sessions=100 \
    gateway.guild_create=300 gateway.guild_unexpected=0 \
    gateway.seq_errors=0 gateway.zombies=0 gateway.decode_errors=0 \
    gateway.identify_ms.n=100 \
    url="ws://127.0.0.1:$gw/gateway?v=10&encoding=json" \
    ok=true -- \
    --url "ws://127.0.0.1:$gw/gateway" -n 100 -r 0 --procs 2 --hold 1 \
    $tok --proto-opt shards=4 --proto-opt large_threshold=100
# the mock ACKed every beat it got, and every beat's d was a seq it sent;
# gwload got the ACKs back but for beats still in flight at the close
kill -USR1 "$gwpid"
sleep 0.2
hb=$(json_get "$TMP/r.json" gateway.heartbeats_sent)
if [ "$hb" -ge 100 ] \
   && json_ge "$TMP/r.json" gateway.heartbeat_acks $((hb - 10)) \
   && grep -q " $hb heartbeats, 0 bad_heartbeats, $hb acks" \
        "$TMP/server.$gw"
then
    ok "gateway: every heartbeat ACKed, each carrying a valid seq"
else
    not_ok "gateway: every heartbeat ACKed, each carrying a valid seq"
fi

expect "gateway: 300 KB GUILD_CREATEs in 64 KB frames are reassembled" 0 \
    gateway.identified=10 gateway.guild_create=20 gateway.decode_errors=0 -- \
    --url "ws://127.0.0.1:$gwbig/" -n 10 -r 0 $tok

expect "gateway: a missed ACK is a zombie, gaps and op 7 are counted" 1 \
    gateway.identified=20 gateway.zombies=10 gateway.seq_gaps=10 \
    gateway.seq_repeats=0 gateway.reconnect=10 gateway.resume.enabled=false \
    ok=false -- \
    --url "ws://127.0.0.1:$gwmis/" -n 20 -r 0 --hold 1 $tok \
    --proto-opt resume=0

expect "gateway: op 1 from the server is answered; repeats, bad JSON" 1 \
    gateway.identified=10 gateway.heartbeats_requested=5 \
    gateway.seq_repeats=5 gateway.decode_errors=5 -- \
    --url "ws://127.0.0.1:$gwmis2/" -n 10 -r 0 --hold 0.3 $tok
if [ "$(json_get "$TMP/r.json" gateway.heartbeat_acks)" \
     = $(($(json_get "$TMP/r.json" gateway.heartbeats_sent) + 5)) ]
then
    ok "gateway: the answers to op 1 are ACKed"
else
    not_ok "gateway: the answers to op 1 are ACKed"
fi

expect "gateway: op 9 fails the identify" 1 \
    gateway.identified=5 gateway.invalid_session=5 \
    gateway.identify_failed=5 dropped=0 -- \
    --url "ws://127.0.0.1:$gwop9/" -n 10 -r 0 $tok

expect "gateway: close 4004 is counted by code" 1 \
    gateway.identified=5 gateway.close_codes.4004=5 drops.close_frame=5 -- \
    --url "ws://127.0.0.1:$gw4004/" -n 10 -r 0 $tok
if grep -q '4004 authentication failed 5' "$TMP/out"; then
    ok "gateway: close codes are named in the summary"
else
    not_ok "gateway: close codes are named in the summary"
fi

expect "gateway: zombie=close closes with 4200" 0 \
    gateway.identified=10 gateway.zombies=5 closed=10 dropped=0 -- \
    --url "ws://127.0.0.1:$gwzombie/" -n 10 -r 0 --hold 1 $tok \
    --proto-opt zombie=close --proto-opt resume=0

expect "gateway: a missing GUILD_CREATE times the identify out" 1 \
    gateway.identified=5 gateway.identify_timeouts=5 \
    gateway.identify_failed=5 -- \
    --url "ws://127.0.0.1:$gwdrop/" -n 10 -r 0 $tok \
    --proto-opt identify_timeout=0.5

expect "gateway: the mock refuses unknown tokens with 4004" 1 \
    gateway.identified=0 gateway.close_codes.4004=3 -- \
    --url "ws://127.0.0.1:$gw/" -n 3 -r 0 \
    --protocol gateway --proto-opt tokens="$TMP/badtokens"
expect "gateway: ... and undefined intent bits with 4013" 1 \
    gateway.close_codes.4013=3 -- \
    --url "ws://127.0.0.1:$gw/" -n 3 -r 0 $tok --proto-opt intents=1073741824

expect "gateway: identify=0 waits for Hello only" 0 \
    gateway.hello=20 gateway.identify_sent=0 -- \
    --url "ws://127.0.0.1:$gw/" -n 20 -r 0 --protocol gateway \
    --proto-opt identify=0

expect "gateway: no tokens file is a usage error" 2 -- \
    --url "ws://127.0.0.1:$gw/" --protocol gateway
expect "gateway: an unknown --proto-opt is a usage error" 2 -- \
    --url "ws://127.0.0.1:$gw/" $tok --proto-opt nope=1

expect "gateway: 5000 identifies, as fast as they go" 0 \
    gateway.identified=5000 gateway.seq_errors=0 failed=0 -- \
    --url "ws://127.0.0.1:$gwscale/" -n 5000 -r 0 \
    --protocol gateway --proto-opt tokens="$TMP/tokens20"
echo "# 5000 identifies against the mock: $(json_get "$TMP/r.json" \
    gateway.identify_rate 2>/dev/null)/s, identify p50 $(json_get \
    "$TMP/r.json" gateway.identify_ms.p50 2>/dev/null) ms, p99 $(json_get \
    "$TMP/r.json" gateway.identify_ms.p99 2>/dev/null) ms"

# --- resume, against gwload-test-server -G -R (sessions with a replay ring) ---
#
# Each scenario gets a fresh mock, since -U N makes only the first N
# upgrades misbehave (the reconnects must not).  -A: the misbehaviour comes
# that many ms after the guilds; -L: dispatches "lost in flight", replayed.

res="$tok --proto-opt backoff=100-300"

start_server -G -R -I 500 -g 2 -e 2 -M drop-eof -L 3 -U 10 -A 100
expect "resume: a drop without a close frame, 3 events replayed, RESUMED" 0 \
    gateway.resume.resumed=10 gateway.resume.resume_attempts=10 \
    gateway.resume.replayed=30 gateway.resume.lost=0 \
    gateway.resume.repeated=0 gateway.resume.disconnects=10 \
    gateway.resume.disconnect_causes.no_close_frame=10 \
    gateway.resume.sessions_lost=0 gateway.resume.reidentified=0 \
    gateway.seq_errors=0 gateway.identified=10 gateway.identify_ms.n=10 \
    established=10 dropped=0 disconnected=10 reconnects=10 reconnected=10 \
    reconnecting=0 gateway.resume.resume_ms.n=10 ok=true -- \
    --url "ws://127.0.0.1:$port/gateway" -n 10 -r 0 --hold 1.5 $res
jcheck "resume: latency from the loss to RESUMED, at least the backoff" \
    "$TMP/r.json" \
    '100 <= d["gateway"]["resume"]["resume_ms"]["min"]
     <= d["gateway"]["resume"]["resume_ms"]["max"] < 1000
     and sum(d["gateway"]["resume"]["series"]["resumed"]) == 10
     and sum(d["gateway"]["resume"]["series"]["disconnects"]) == 10
     and d["gateway"]["resume"]["start_unix"] == d["probe"]["start_unix"]'
if grep -q "^  resumes         10 attempted (op 6), 10 resumed, 0 re-id" \
        "$TMP/out" \
   && grep -q "^  replay          30 events replayed, 0 lost" "$TMP/out" \
   && grep -q "^  resume       ms  p50" "$TMP/out" \
   && grep -q "10 resumed, 0 re-identified (losses unknown), 0 never" "$TMP/out"
then
    ok "resume: the summary says so"
else
    not_ok "resume: the summary says so"
fi

start_server -G -R -I 500 -M drop-rst -L 2 -U 10
expect "resume: after a reset" 0 \
    gateway.resume.resumed=10 gateway.resume.replayed=20 \
    gateway.resume.disconnect_causes.no_close_frame=10 dropped=0 -- \
    --url "ws://127.0.0.1:$port/" -n 10 -r 0 --hold 1.5 $res

start_server -G -R -I 500 -M drop-close -C 4009 -L 1 -U 10
expect "resume: after a close 4009 (session timed out)" 0 \
    gateway.resume.resumed=10 gateway.resume.replayed=10 \
    gateway.resume.disconnect_causes.close_frame=10 \
    gateway.close_codes.4009=10 dropped=0 -- \
    --url "ws://127.0.0.1:$port/" -n 10 -r 0 --hold 1.5 $res

# the mock ends a session its client closed with 1000 or 1001 (1.4): a
# resume after op 7 shows that gwload closed with another code
start_server -G -R -I 500 -M op7 -L 2 -U 10
expect "resume: op 7, closed with 4000, resumed" 0 \
    gateway.reconnect=10 gateway.resume.resumed=10 \
    gateway.resume.replayed=20 gateway.resume.disconnect_causes.op7=10 \
    gateway.resume.reidentified=0 dropped=0 -- \
    --url "ws://127.0.0.1:$port/" -n 10 -r 0 --hold 1.5 $res

start_server -G -R -I 500 -M op9-true -L 1 -U 10
expect "resume: op 9 d:true" 0 \
    gateway.resume.invalid_session_true=10 gateway.resume.resumed=10 \
    gateway.resume.disconnect_causes.op9=10 dropped=0 -- \
    --url "ws://127.0.0.1:$port/" -n 10 -r 0 --hold 1.5 $res

start_server -G -R -I 500 -M drop-close -C 4004 -U 5
expect "resume: no reconnect after close 4004" 1 \
    gateway.resume.resume_attempts=0 gateway.resume.disconnects=0 \
    dropped=5 drops.close_frame=5 reconnects=0 -- \
    --url "ws://127.0.0.1:$port/" -n 5 -r 0 --hold 1 $res

# what the gateway does while it has no resume: op 9 d:false
start_server -G -R -I 500 -M drop-eof,resume-invalid -L 2 -U 10
expect "resume: op 9 d:false, re-identified on --url after the delay" 0 \
    gateway.resume.resume_attempts=10 gateway.resume.invalid_session_false=10 \
    gateway.resume.resumed=0 gateway.resume.reidentified=10 \
    gateway.resume.lost_unknown=10 gateway.resume.sessions_lost=0 \
    gateway.resume.reidentify_ms.n=10 gateway.identified=10 \
    gateway.identify_sent=20 gateway.ready=20 gateway.seq_errors=0 \
    dropped=0 ok=true -- \
    --url "ws://127.0.0.1:$port/" -n 10 -r 0 --hold 2 $res
if grep -q "^  reidentify   ms  p50" "$TMP/out"; then
    ok "resume: re-identify latency in the summary"
else
    not_ok "resume: re-identify latency in the summary"
fi

start_server -G -R -I 500 -M drop-eof -U 10 -Q 10
expect "resume: a 429 waits its Retry-After" 0 \
    gateway.resume.http_429=10 gateway.resume.resumed=10 \
    reconnects=20 reconnect_failed=10 failed=0 dropped=0 -- \
    --url "ws://127.0.0.1:$port/" -n 10 -r 0 --hold 2.5 $res
jcheck "resume: ... 1 s, not the backoff" "$TMP/r.json" \
    '1000 <= d["gateway"]["resume"]["resume_ms"]["min"]
     and d["gateway"]["resume"]["resume_ms"]["max"] < 4000'

start_server -G -R -I 5000 -M drop-eof -L 1 -U 300 -A 300
expect "resume: backoff=0, 300 sessions come back at once" 0 \
    gateway.resume.resumed=300 gateway.resume.replayed=300 \
    gateway.resume.backoff_max_ms=0 dropped=0 -- \
    --url "ws://127.0.0.1:$port/" -n 300 -r 0 --hold 1.5 $tok \
    --proto-opt backoff=0
jcheck "resume: ... within a second or two (the series)" "$TMP/r.json" \
    'd["gateway"]["resume"]["resume_ms"]["p99"] < 1500
     and sum(d["gateway"]["resume"]["series"]["resumed"]) == 300
     and len([x for x in d["gateway"]["resume"]["series"]["resumed"]
              if x]) <= 3'
echo "# 300 resumes at once against the mock: resume p50 $(json_get \
    "$TMP/r.json" gateway.resume.resume_ms.p50 2>/dev/null) ms, p99 $(json_get \
    "$TMP/r.json" gateway.resume.resume_ms.p99 2>/dev/null) ms"

start_server -G -R -I 500 -M drop-eof,replay-gap -L 3 -U 10
expect "resume: a replay with a gap fails the run" 1 \
    gateway.resume.resumed=10 gateway.resume.lost=10 gateway.seq_gaps=10 \
    gateway.resume.replayed=20 -- \
    --url "ws://127.0.0.1:$port/" -n 10 -r 0 --hold 1.5 $res

start_server -G -R -I 500 -M drop-eof,replay-repeat -L 3 -U 10
expect "resume: a replay that repeats an event fails the run" 1 \
    gateway.resume.resumed=10 gateway.resume.repeated=10 \
    gateway.resume.lost=0 gateway.resume.replayed=40 -- \
    --url "ws://127.0.0.1:$port/" -n 10 -r 0 --hold 1.5 $res

start_server -G -R -I 500 -M drop-eof -U 5 -A 10 \
    -u "ws://127.0.0.1:$refused/resume"
expect "resume: an unreachable resume URL, retried with doubling delays" 1 \
    gateway.resume.sessions_lost=5 gateway.resume.resume_attempts=0 \
    dropped=0 -- \
    --url "ws://127.0.0.1:$port/" -n 5 -r 0 --hold 2 $tok \
    --proto-opt backoff=100
jcheck "resume: ... at +0.1, 0.3, 0.7 and 1.5 s (not 3.1)" "$TMP/r.json" \
    '15 <= d["reconnects"] == d["reconnect_failed"] <= 20
     and d["failures"]["refused"] == 0'

start_server -G -R -I 500 -M drop-eof -U 5 -A 10 -u "wss://gw.example/"
expect "resume: an unusable resume URL falls back to --url" 0 \
    gateway.resume.resume_url_bad=5 gateway.resume.resumed=5 -- \
    --url "ws://127.0.0.1:$port/" -n 5 -r 0 --hold 1 $res

start_server -G -R -I 500 -M drop-eof -U 5 -A 10
expect "resume: the default delay is 1-5 s: not back within 0.5 s" 1 \
    gateway.resume.backoff_min_ms=1000 gateway.resume.backoff_max_ms=5000 \
    gateway.resume.disconnects=5 gateway.resume.sessions_lost=5 \
    reconnects=0 dropped=0 -- \
    --url "ws://127.0.0.1:$port/" -n 5 -r 0 --hold 0.5 $tok
if grep -q "0 resumed, 0 re-identified (losses unknown), 5 never came back" \
        "$TMP/out"
then
    ok "resume: sessions that never came back are the verdict"
else
    not_ok "resume: sessions that never came back are the verdict"
fi

start_server -G -R -I 500 -M drop-eof -U 5
expect "resume: resume=0 keeps a drop a drop" 1 \
    dropped=5 drops.eof=5 reconnects=0 gateway.resume.enabled=false -- \
    --url "ws://127.0.0.1:$port/" -n 5 -r 0 --hold 1 $tok \
    --proto-opt resume=0
expect "resume: backoff=5-1 is a usage error" 2 -- \
    --url "ws://127.0.0.1:$port/" $tok --proto-opt backoff=5-1

# --- probes and gwload publish, through the mock's POST fan-out ---

# sub_start ARGS...: subscribers held in the background until sub_stop
sub_start() {
    # the last run's "holding" must not be mistaken for this one's
    rm -f "$TMP/sub.out" "$TMP/sub.err"
    "$GWLOAD" --no-progress --json "$TMP/sub.json" --hold forever "$@" \
        >"$TMP/sub.out" 2>"$TMP/sub.err" &
    sub=$!
    i=0
    while ! grep -q holding "$TMP/sub.err" 2>/dev/null && [ $i -lt 100 ]
    do
        i=$((i + 1))
        sleep 0.1
    done
}

# sub_stop: SIGINT, then $sub_rc; the outputs become $TMP/out and err.
# The last message may still be on its way (or in a resume's replay) when
# the publisher has its 2xx: give it a moment.
sub_stop() {
    sleep 0.5
    kill -INT "$sub"
    wait "$sub"
    sub_rc=$?
    cp "$TMP/sub.out" "$TMP/out"
    cp "$TMP/sub.err" "$TMP/err"
}

# publish ARGS...: gwload publish, JSON in $TMP/pub.json, $pub_rc
publish() {
    "$GWLOAD" publish --no-progress --json "$TMP/pub.json" "$@" \
        >"$TMP/out" 2>"$TMP/err"
    pub_rc=$?
}

start_server;                   pub=$port
start_server -D 50;             pubslow=$port
start_server -x 10;             pubskip=$port
start_server -G -I 500;         pubgw=$port
start_server -K 10;             pubka=$port
start_server -S 503;            pub503=$port
body='{"content":"%T","channel_id":"1"}'

sub_start --url "ws://127.0.0.1:$pub/sub/a" -n 200 -r 0 --procs 2 \
    --expect-messages @"$TMP/pub.json"
publish --url "http://127.0.0.1:$pub/pub/a" --body "$body" --rates 20,40 \
    --step 1
sub_stop
if [ "$pub_rc" = 0 ] && [ "$sub_rc" = 0 ]; then
    ok "probes: 200 ws subscribers over 2 procs, rates 20,40 (exit 0)"
else
    not_ok "probes: 200 ws subscribers, exit $pub_rc and $sub_rc"
fi
jcheck "publish: 2 steps, every request 2xx, numbers 0.." "$TMP/pub.json" \
    'd["accepted"] == d["sent"] == d["messages"] >= 55 and len(d["steps"]) == 2
     and d["steps"][1]["first_n"] == d["steps"][0]["sent"]
     and d["status"] == {"201": d["sent"]}'
cp "$TMP/pub.json" "$TMP/pub1.json"
jcheck "probes: every message reached all 200, none missing" \
    "$TMP/sub.json" \
    'd["probe"]["deliveries"] == d["probe"]["probed"] == 200 * d["probe"]
     ["expect_messages"] and d["probe"]["missing"] == 0
     and d["probe"]["receivers_min"] == d["probe"]["receivers_max"] == 200
     and d["probe"]["messages_seen"] == d["probe"]["expect_messages"]
     and d["probe"]["duplicates"] == 0 and d["probe"]["clock_skew"] == 0
     and d["probe"]["latency_ms"]["n"] == d["probe"]["deliveries"]'
jcheck "probes: the per-second series adds up" "$TMP/sub.json" \
    'sum(d["probe"]["series"]["deliveries"]) == d["probe"]["deliveries"]
     and len([x for x in d["probe"]["series"]["deliveries"] if x]) >= 2
     and all((p is None) == (n == 0) for p, n in
             zip(d["probe"]["series"]["p99_ms"],
                 d["probe"]["series"]["probed"]))
     and 1.5 < d["probe"]["window_s"] < 4'
if grep -q "^  delivery     ms  p50" "$TMP/out" \
   && grep -q "^  missing         0 (expected" "$TMP/out"
then
    ok "probes: delivery latency and missing in the summary"
else
    not_ok "probes: delivery latency and missing in the summary"
fi

sub_start --url "ws://127.0.0.1:$pubslow/sub/a" -n 50 -r 0
publish --url "http://127.0.0.1:$pubslow/pub/a" --body "x %T y" --rate 10 \
    --duration 1
sub_stop
jcheck "probes: a 50 ms server delay is measured" "$TMP/sub.json" \
    'd["probe"]["probed"] == 500 and d["probe"]["latency_ms"]["min"] >= 50
     and d["probe"]["latency_ms"]["p50"] < 250'

sub_start --url "ws://127.0.0.1:$pubskip/sub/a" -n 100 -r 0 \
    --expect-messages 10
publish --url "http://127.0.0.1:$pubskip/pub/a" --body "%T" --rate 20 \
    --duration 0.5
sub_stop
if [ "$sub_rc" = 1 ] && grep -q "10 connections got fewer than 10" "$TMP/out"
then
    ok "probes: missed messages fail --expect-messages"
else
    not_ok "probes: missed messages fail --expect-messages (exit $sub_rc)"
fi
jcheck "probes: 10 connections short, message 1 reached 90" "$TMP/sub.json" \
    'd["probe"]["connections_short"] == 10 and d["probe"]["missing"] == 10
     and d["probe"]["receivers_min"] == 90
     and d["probe"]["receivers_max"] == 100
     and d["probe"]["per_conn_min"] == 9'

sub_start --url "ws://127.0.0.1:$pubgw/gateway" -n 100 -r 0 --procs 2 \
    $tok --expect-messages @"$TMP/pub.json"
publish --url "http://127.0.0.1:$pubgw/api/v10/channels/1/messages" \
    --header "Authorization: Bot x" --body "$body" --rate 20 --duration 1
sub_stop
jcheck "probes: gateway MESSAGE_CREATEs, sequence kept, none missing" \
    "$TMP/sub.json" \
    'd["ok"] and d["gateway"]["message_create"] == 2000
     and d["gateway"]["dispatch"]["MESSAGE_CREATE"] == 2000
     and d["gateway"]["seq_errors"] == 0 and d["probe"]["probed"] == 2000
     and d["probe"]["missing"] == 0 and d["probe"]["unprobed"] == 0'

# every session gets every message exactly once, across resumes: what is
# published while a session is away is replayed on its resume
start_server -G -R -I 500 -M drop-eof -U 50 -A 300
sub_start --url "ws://127.0.0.1:$port/gateway" -n 50 -r 0 $tok \
    --proto-opt backoff=100-400 --expect-messages @"$TMP/pub.json"
publish --url "http://127.0.0.1:$port/api/v10/channels/1/messages" \
    --header "Authorization: Bot x" --body "$body" --rate 40 --duration 1.5
sub_stop
jcheck "probes: across resumes, none missing, none twice (exit $sub_rc)" \
    "$TMP/sub.json" \
    'd["ok"] and d["gateway"]["resume"]["resumed"] == 50
     and d["gateway"]["resume"]["replayed"] > 0
     and d["gateway"]["seq_errors"] == 0 and d["probe"]["missing"] == 0
     and d["probe"]["duplicates"] == 0 and d["probe"]["connections_extra"] == 0
     and d["probe"]["probed"] == 50 * d["probe"]["expect_messages"] >= 2000'

sub_start --url "ws://127.0.0.1:$pub/sub/a" -n 20 -r 0 --proto-opt probes=0
publish --url "http://127.0.0.1:$pub/pub/a" --body "%T" --rate 20 \
    --duration 0.5
sub_stop
jcheck "probes: --proto-opt probes=0 counts messages only" "$TMP/sub.json" \
    'd["ok"] and d["probe"]["deliveries"] == 0 and d["text_in"] == 200'
expect "protocol ws: an unknown --proto-opt is a usage error" 2 -- \
    --url "ws://127.0.0.1:$plain/" --proto-opt probes=2

# pacing: the achieved rate within 5 % of the target
publish --url "http://127.0.0.1:$pub/pub/b" --body "%T" --rate 200 \
    --duration 3
jcheck "publish: 200/s for 3 s is paced within 5 %" "$TMP/pub.json" \
    'd["ok"] and 570 <= d["sent"] <= 630 and d["skipped"] == 0
     and abs(d["steps"][0]["achieved_rate"] - 200) <= 10'
publish --url "http://127.0.0.1:$pub/pub/b" --body "%T" --rates 100,400,50 \
    --step 1.5 --connections 2
jcheck "publish: steps of 100, 400, 50/s each within 5 %" "$TMP/pub.json" \
    'd["ok"] and all(abs(s["achieved_rate"] - s["rate"]) <= 0.05 * s["rate"]
                     and 1.45 < s["duration_s"] < 1.55 for s in d["steps"])
     and abs(d["steps"][1]["start_s"] - 1.5) < 0.01'
echo "# publish pacing: $(json_get "$TMP/pub.json" steps 2>/dev/null |
    python3 -c 'import sys, ast
print(", ".join("%g/s -> %.1f/s" % (s["rate"], s["achieved_rate"])
                for s in ast.literal_eval(sys.stdin.read())))')"

publish --url "http://127.0.0.1:$pubka/pub/b" --body "%T" --rate 100 \
    --duration 1 --connections 1
jcheck "publish: Connection: close every 10 requests, reconnected" \
    "$TMP/pub.json" \
    'd["ok"] and d["connects"] >= 10 and d["errors"] == 0'

publish --url "http://127.0.0.1:$pub503/pub/b" --body "%T" --rate 50 \
    --duration 0.2
if [ "$pub_rc" = 1 ]; then
    jcheck "publish: a 503 is an error (exit 1)" "$TMP/pub.json" \
        'not d["ok"] and d["error_kinds"]["status"] == d["sent"] > 0
         and d["status"] == {"503": d["sent"]}'
else
    not_ok "publish: a 503 is an error (exit $pub_rc)"
fi

publish --url "http://127.0.0.1:$refused/pub/b" --body "%T" --rate 50 \
    --duration 0.3
if [ "$pub_rc" = 1 ]; then
    jcheck "publish: connection refused (exit 1)" "$TMP/pub.json" \
        'd["sent"] == 0 and d["error_kinds"]["connect"] >= 4'
else
    not_ok "publish: connection refused (exit $pub_rc)"
fi

publish --url "http://127.0.0.1:$pub/" --body "50%" --rate 1 --duration 1
[ "$pub_rc" = 2 ] && ok "publish: a bad template is a usage error" ||
    not_ok "publish: a bad template is a usage error (exit $pub_rc)"
publish --url "http://127.0.0.1:$pub/" --body "%T" --rates 1,2
[ "$pub_rc" = 2 ] && ok "publish: --rates without --step is a usage error" ||
    not_ok "publish: --rates without --step is a usage error (exit $pub_rc)"
expect "--expect-messages takes N or @FILE" 2 -- \
    --url "ws://127.0.0.1:$plain/" --expect-messages x

echo "$passed passed, $failed failed"
[ $failed = 0 ]
