#!/bin/sh
# gwctl tests against test/mock_admin.py, an in-memory admin API.
#
#   BUILD=/abs/build sh tools/gwctl/test/run.sh
#
# Every command, its output and exit status, the error paths, tokens
# checked by an independent verifier (test/gwtoken.py), the three response
# framings, a 100000-user seed (timed; SEED_USERS=0 skips it) and a
# valgrind pass (VALGRIND=0 skips it).  Loopback only.  Prints
# "N passed, N failed" last.

BUILD=${BUILD:-$(cd "$(dirname "$0")/../../.." && pwd)/build}
HERE=$(cd "$(dirname "$0")" && pwd)
GWCTL=$BUILD/bin/gwctl
PY=/usr/bin/python3
TOK="$PY $HERE/gwtoken.py"
TMP=$(mktemp -d /tmp/gwctl-test.XXXXXX)
RUN=$TMP/run
SEED_USERS=${SEED_USERS:-100000}

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
    echo "not ok - $1 (exit $rc)"
    sed 's/^/#   /' "$TMP/out" "$TMP/err" 2>/dev/null | tail -30
}

# gw ARGS...: runs gwctl; $rc, $TMP/out, $TMP/err
gw() {
    "$GWCTL" "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
}

# check NAME SHELL-CONDITION
check() {
    if eval "$2"; then
        ok "$1"
    else
        not_ok "$1"
    fi
}

# usage NAME ARGS...: gwctl ARGS must exit 2
usage() {
    name=$1
    shift
    gw "$@"
    check "usage: $name" '[ $rc = 2 ] && [ -s "$TMP/err" ]'
}

# jeq FILE PATH WANT: the value at PATH ("a.b", "list.-1", "list.*.key";
# "-": the whole document) of the JSON in FILE is WANT; strings compare
# bare, other values as compact JSON, a missing key as "<missing>"
jeq() {
    got=$($PY -c '
import json, sys

def get(v, keys):
    if not keys:
        return v
    k, rest = keys[0], keys[1:]
    if k == "*":
        return [get(x, rest) for x in v]
    if isinstance(v, list):
        return get(v[int(k)], rest)
    return get(v[k], rest) if k in v else "<missing>"

v = get(json.load(open(sys.argv[1])),
        [] if sys.argv[2] == "-" else sys.argv[2].split("."))
print(v if isinstance(v, str)
      else json.dumps(v, separators=(",", ":"), ensure_ascii=False))' \
        "$1" "$2")
    [ "$got" = "$3" ] || { echo "# $2: got $got, want $3" >>"$TMP/err"; false; }
}

# start_mock NAME ARGS...: sets $port (not in $(...): $pids must stay)
start_mock() {
    name=$1
    shift
    $PY "$HERE/mock_admin.py" --run-dir "$RUN" "$@" \
        >"$TMP/mock.$name" 2>"$TMP/mock.$name.err" &
    pids="$pids $!"
    i=0
    while ! grep -q listening "$TMP/mock.$name" 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt 100 ] && break
        sleep 0.05
    done
    port=$(awk '/listening/ { print $2 }' "$TMP/mock.$name")
}

# state: the mock's whole state into $TMP/state.json
state() {
    $PY -c '
import sys, urllib.request
sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())' \
        "$URL/mock/state" >"$TMP/state.json"
}

# me TOKEN: GET /api/v10/users/@me on the mock, prints the username or
# the HTTP status
me() {
    $PY -c '
import json, sys, urllib.request, urllib.error
r = urllib.request.Request(sys.argv[1] + "/api/v10/users/@me",
                           headers={"Authorization": "Bot " + sys.argv[2]})
try:
    print(json.load(urllib.request.urlopen(r))["username"])
except urllib.error.HTTPError as e:
    print(e.code)' "$URL" "$1"
}

if [ ! -x "$GWCTL" ]; then
    echo "not ok - $GWCTL is not built"
    exit 1
fi

mkdir -p "$RUN" "$TMP/run-nl" "$TMP/empty"
(umask 077
 head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$RUN/admin.secret"
 head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$RUN/token.secret"
 # the same secret with a newline, as an editor would save it
 cat "$RUN/token.secret" >"$TMP/run-nl/token.secret"
 echo >>"$TMP/run-nl/token.secret")

start_mock main
URL=http://127.0.0.1:$port
G="--url $URL --run-dir $RUN"


# ---------------------------------------------------------------- usage

gw --help
check "--help prints the usage" \
    '[ $rc = 0 ] && grep -q "seed --users" "$TMP/out"'

usage "no command"
usage "unknown command" frobnicate
usage "half a command" user
usage "unknown subcommand" user rename 1
usage "user add without a name" $G user add
usage "user add with two names" $G user add a b
usage "a non-snowflake id" $G user del abc
usage "id 0" $G user del 0
usage "a leading zero" $G user get 012
usage "an id past 2^64-1" $G user del 18446744073709551616
usage "member add with one id" $G member add 1
usage "an option of another command" $G status --bot
usage "an unknown option" $G status --nope
usage "an option without its value" $G user add x --id
usage "an option given twice" $G user add x --id 1 --id 2
usage "--id not a snowflake" $G user add x --id -5
usage "https" --url https://127.0.0.1:1 status
usage "not a URL" --url 127.0.0.1:8080 status
usage "a bad port" --url http://127.0.0.1:99999 status
usage "--timeout 0" $G --timeout 0 status
usage "--channel without a name" $G guild put 1 g --channel 5
usage "--channel with a bad id" $G guild put 1 g --channel x:general:0
usage "seed without counts" $G seed --out "$TMP/t"
usage "seed --members more than --users" $G seed --users 2 --guilds 1 \
    --members 3
usage "seed --batch 0" $G seed --users 2 --batch 0
usage "dispatch with bad JSON" $G dispatch 1 EV '{x'
usage "token of a non-snowflake" --run-dir "$RUN" token bob


# ---------------------------------------------------------------- token

gw --run-dir "$RUN" token 42 --issued-at 1700000000
want=$($TOK mint "$RUN/token.secret" 42 1700000000)
check "token: byte-identical to the reference minter" \
    '[ $rc = 0 ] && [ "$(cat "$TMP/out")" = "$want" ]'

gw --run-dir "$RUN" token 18446744073709551615 --issued-at 0
want=$($TOK mint "$RUN/token.secret" 18446744073709551615 0)
check "token: the largest id, issued_at 0" \
    '[ $rc = 0 ] && [ "$(cat "$TMP/out")" = "$want" ]'

gw --run-dir "$TMP/run-nl" token 42 --issued-at 1700000000
want=$($TOK mint "$RUN/token.secret" 42 1700000000)
check "token: a trailing newline in token.secret is not part of it" \
    '[ $rc = 0 ] && [ "$(cat "$TMP/out")" = "$want" ]'

gw --run-dir "$RUN" token 1234567890123456789
check "token: issued now, verified (HMAC-SHA256, constant time)" \
    '[ $rc = 0 ] && $TOK verify "$RUN/token.secret" --max-age 5 \
         <"$TMP/out" | grep -qx "1234567890123456789 [0-9]*"'

RUN_DIR=$RUN "$GWCTL" token 7 >"$TMP/out" 2>"$TMP/err"
rc=$?
check "token: RUN_DIR from the environment" \
    '[ $rc = 0 ] && $TOK verify "$RUN/token.secret" <"$TMP/out" \
         | grep -q "^7 "'

gw --run-dir "$TMP/empty" token 42
check "token: no token.secret exits 1" \
    '[ $rc = 1 ] && grep -q token.secret "$TMP/err"'


# ---------------------------------------------------------------- users

b64="[A-Za-z0-9_-]"
gw $G user add alice
alice=$(cut -d" " -f1 "$TMP/out")
alice_token=$(cut -d" " -f2 "$TMP/out")
check "user add: prints ID TOKEN" \
    '[ $rc = 0 ] && grep -Eqx "[1-9][0-9]* $b64+\.$b64+\.$b64{43}" "$TMP/out"'
check "user add: the token names the user" \
    '[ -n "$alice" ] && [ "$(echo "$alice_token" | $TOK verify "$RUN/token.secret" \
          | cut -d" " -f1)" = "$alice" ]'
check "user add: the token works (GET /api/v10/users/@me)" \
    '[ "$(me "$alice_token")" = alice ]'

gw --run-dir "$RUN" token "$alice"
check "token: gwctl's own token is accepted by the server" \
    '[ "$(me "$(cat "$TMP/out")")" = alice ]'

bob=123456789012345678
gw $G user add bob --bot --id $bob
check "user add --bot --id" '[ $rc = 0 ] && grep -q "^$bob " "$TMP/out"'
bob_token=$(cut -d" " -f2 "$TMP/out")

gw $G user get $bob
check "user get: indented JSON" \
    '[ $rc = 0 ] && grep -q "^  \"bot\": true" "$TMP/out" \
     && jeq "$TMP/out" username bob'

gw $G user add bob2 --id $bob
check "user add of a taken id: 409 and the server's error, exit 1" \
    '[ $rc = 1 ] && grep -q "HTTP 409" "$TMP/err" \
     && grep -q "\"message\":\"user exists\"" "$TMP/err"'

gw $G -- user add -dash-
check "user add: -- before a name starting with -" '[ $rc = 0 ]'


# ---------------------------------------------------------------- guilds

gw $G guild put 1000 "Test guild" --owner $bob \
    --channel 1001:general:0 --channel 1002:Voice:2 --channel 1003:a:b
check "guild put: prints the guild" \
    '[ $rc = 0 ] && jeq "$TMP/out" channels.*.name \
                        "[\"general\",\"Voice\",\"a:b\"]" \
     && jeq "$TMP/out" channels.*.type "[0,2,0]" \
     && jeq "$TMP/out" owner_id $bob'

gw $G guild put 2000 "No channels"
state
check "guild put without --channel: no channels, no owner" \
    '[ $rc = 0 ] && jeq "$TMP/state.json" guilds.2000.channels "[]" \
     && jeq "$TMP/state.json" guilds.2000.owner_id null'

gw $G guild get 1000
check "guild get" \
    '[ $rc = 0 ] && jeq "$TMP/out" name "Test guild"'

gw $G guild put 3000 "x" --owner 99
check "guild put with an unknown owner: 404, exit 1" \
    '[ $rc = 1 ] && grep -q "HTTP 404 Not Found" "$TMP/err"'


# ---------------------------------------------------------------- members

gw $G member add 1000 $bob
state
check "member add: silent, exit 0" \
    '[ $rc = 0 ] && [ ! -s "$TMP/out" ] && [ ! -s "$TMP/err" ] \
     && jeq "$TMP/state.json" guilds.1000.members "[\"$bob\"]"'

gw $G member add 1000 999
want='{"code":10013,"message":"Unknown User"}'
check "member add of an unknown user: the Discord error, exit 1" \
    '[ $rc = 1 ] && grep -qF "HTTP 404 Not Found: $want" "$TMP/err"'

gw $G member add 999 $bob
check "member add to an unknown guild" \
    '[ $rc = 1 ] && grep -q "Unknown Guild" "$TMP/err"'

gw $G dispatch 1000 TEST_EVENT '{"x": [1, "é"]}'
want='{"guild_id":"1000","t":"TEST_EVENT","d":{"x":[1,"é"]}}'
state
check "dispatch" \
    '[ $rc = 0 ] && jeq "$TMP/state.json" dispatches.-1 "$want"'

echo '{"from": "stdin"}' | "$GWCTL" $G dispatch 1000 EV2 - \
    >"$TMP/out" 2>"$TMP/err"
rc=$?
state
check "dispatch: DATA from stdin" \
    '[ $rc = 0 ] && jeq "$TMP/state.json" dispatches.-1.d \
                        "{\"from\":\"stdin\"}"'

gw $G dispatch 1000 EV3
state
check "dispatch: DATA defaults to {}" \
    '[ $rc = 0 ] && jeq "$TMP/state.json" dispatches.-1.d "{}"'

gw $G member del 1000 $bob
check "member del" '[ $rc = 0 ] && [ ! -s "$TMP/out" ]'

gw $G member del 1000 $bob
check "member del of a non-member: exit 1" \
    '[ $rc = 1 ] && grep -q 10007 "$TMP/err"'


# ---------------------------------------------------------------- status

gw $G status
check "status: indented JSON" \
    '[ $rc = 0 ] && [ "$(sed -n 2p "$TMP/out" | cut -c1-3)" = "  \"" ] \
     && jeq "$TMP/out" users 3 \
     && jeq "$TMP/out" session_list "<missing>"'

gw $G status --sessions
check "status --sessions" \
    '[ $rc = 0 ] && jeq "$TMP/out" session_list "[]"'

(cd "$TMP" && PORT=$port "$GWCTL" status >"$TMP/out" 2>"$TMP/err")
rc=$?
check "defaults: --url from PORT, --run-dir run" '[ $rc = 0 ]'


# ---------------------------------------------------------------- deletes

gw $G user del $bob
check "user del" '[ $rc = 0 ] && [ ! -s "$TMP/out" ]'

gw $G user get $bob
check "user get of a deleted user: 404, exit 1" \
    '[ $rc = 1 ] && grep -q "Unknown User" "$TMP/err"'
check "a deleted user's token is refused" '[ "$(me "$bob_token")" = 401 ]'

gw $G guild del 1000
check "guild del" '[ $rc = 0 ]'

gw $G guild get 1000
check "guild get of a deleted guild: exit 1" \
    '[ $rc = 1 ] && grep -q 10004 "$TMP/err"'


# ---------------------------------------------------------------- errors

gw --url "$URL" --run-dir "$RUN" --secret wrong status
want='{"code":0,"message":"401: Unauthorized"}'
check "a wrong admin secret: 401, exit 1" \
    '[ $rc = 1 ] && grep -qF "HTTP 401 Unauthorized: $want" "$TMP/err"'

gw --url "$URL" --run-dir "$TMP/empty" status
check "no admin.secret: exit 1" \
    '[ $rc = 1 ] && grep -q admin.secret "$TMP/err"'

gw --url "$URL" --run-dir "$TMP/empty" --secret "$(cat "$RUN/admin.secret")" \
    status
check "--secret instead of RUN_DIR/admin.secret" '[ $rc = 0 ]'

closed=$($PY -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
gw --url "http://127.0.0.1:$closed" --run-dir "$RUN" status
check "connection refused: exit 1" \
    '[ $rc = 1 ] && grep -q "connect to 127.0.0.1" "$TMP/err"'

gw --url "http://no-such-host.invalid:1" --run-dir "$RUN" status
check "unknown host: exit 1" '[ $rc = 1 ]'

# a server that accepts (the backlog does) and never answers
$PY -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(5)
print(s.getsockname()[1], flush=True); time.sleep(30)' >"$TMP/mute" &
pids="$pids $!"
i=0
while [ ! -s "$TMP/mute" ] && [ $i -lt 100 ]; do
    i=$((i + 1))
    sleep 0.05
done
gw --url "http://127.0.0.1:$(cat "$TMP/mute")" --run-dir "$RUN" \
    --timeout 1 status
check "--timeout: a server that does not answer, exit 1" \
    '[ $rc = 1 ] && grep -q "timed out" "$TMP/err"'

echo keep >"$TMP/keep"
gw --url "$URL" --run-dir "$TMP/empty" seed --users 3 --out "$TMP/keep"
check "seed: no admin secret, exit 1, --out untouched" \
    '[ $rc = 1 ] && [ "$(cat "$TMP/keep")" = keep ]'

start_mock remote --remote
gw --url "http://127.0.0.1:$port" --run-dir "$RUN" status
check "a non-loopback client: 403, exit 1" \
    '[ $rc = 1 ] && grep -q "HTTP 403" "$TMP/err"'

start_mock prefix --prefix /node1
gw --url "http://127.0.0.1:$port/node1/" --run-dir "$RUN" status
check "--url with a path prefix" '[ $rc = 0 ]'
gw --url "http://127.0.0.1:$port" --run-dir "$RUN" status
check "no such route: 404, exit 1" \
    '[ $rc = 1 ] && grep -q "404: Not Found" "$TMP/err"'


# ---------------------------------------------------------------- seed

# seed_check BASE N M K TOKENS: ids, names, memberships and tokens
seed_check() {
    state
    $PY - "$TMP/state.json" "$@" <<'EOF'
import json, subprocess, sys
d = json.load(open(sys.argv[1]))
base, n, m, k = map(int, sys.argv[2:6])
users = [str(base + i) for i in range(n)]
for i, u in enumerate(users):
    assert d["users"][u]["username"] == "load-%d" % i, u
    assert d["users"][u]["bot"] is True, u
for g in range(m):
    gid = str(base + n + g)
    guild = d["guilds"][gid]
    ch = [(c["id"], c["type"]) for c in guild["channels"]]
    assert ch == [(str(base + n + m + 2 * g), 0),
                  (str(base + n + m + 2 * g + 1), 2)], ch
    want = sorted({users[(g * k + i) % n] for i in range(k)}, key=int)
    assert guild["members"] == want, (gid, guild["members"], want)
with open(sys.argv[6] + ".ids", "w") as f:
    f.write("".join(u + "\n" for u in users))
EOF
}

gw $G seed --users 10 --guilds 3 --members 4 --id-base 1000000 \
    --out "$TMP/tokens"
check "seed: users, guilds, channels, members as documented" \
    '[ $rc = 0 ] && seed_check 1000000 10 3 4 "$TMP/tokens" \
     && $TOK verify "$RUN/token.secret" --max-age 10 \
            --ids "$TMP/tokens.ids" <"$TMP/tokens" >/dev/null'
check "seed: progress on stderr" \
    'grep -q "^seed: 10 users (0 existed), 3 guilds, 12 members" "$TMP/err"'
check "seed: a token works" \
    '[ "$(me "$(sed -n 3p "$TMP/tokens")")" = load-2 ]'

gw $G seed --users 10 --guilds 3 --members 4 --id-base 1000000 \
    --out "$TMP/tokens"
check "seed: a rerun is idempotent (existing users get minted tokens)" \
    '[ $rc = 0 ] && grep -q "10 existed" "$TMP/err" \
     && seed_check 1000000 10 3 4 "$TMP/tokens" \
     && $TOK verify "$RUN/token.secret" --max-age 10 \
            --ids "$TMP/tokens.ids" <"$TMP/tokens" >/dev/null'

gw $G seed --users 7 --guilds 5 --members 7 --id-base 2000000 --batch 3 \
    --out "$TMP/tokens"
check "seed: batches of 3 lines across the phases" \
    '[ $rc = 0 ] && [ $(grep -c "^seed: .* lines" "$TMP/err") = 16 ] \
     && seed_check 2000000 7 5 7 "$TMP/tokens" \
     && $TOK verify "$RUN/token.secret" --ids "$TMP/tokens.ids" \
            <"$TMP/tokens" >/dev/null'

gw $G seed --users 5 --guilds 2 --members 2 --quiet
check "seed: tokens to stdout without --out, --quiet" \
    '[ $rc = 0 ] && [ ! -s "$TMP/err" ] && [ $(wc -l <"$TMP/out") = 5 ]'

gw $G seed --guilds 2 --id-base 3000000 --out "$TMP/tokens"
state
check "seed: guilds only" \
    '[ $rc = 0 ] && [ ! -s "$TMP/tokens" ] \
     && jeq "$TMP/state.json" guilds.3000001.name load-guild-1'

gw $G seed --users 3 --id-base 18446744073709551614
check "seed: ids past 2^64-1 are refused" \
    '[ $rc = 2 ] && grep -q "leaves no room" "$TMP/err"'

gw $G seed --users 3 --out "$TMP/no/such/dir/tokens"
check "seed: an unwritable --out exits 1 before any request" \
    '[ $rc = 1 ] && grep -q "No such file" "$TMP/err"'

start_mock failing --fail-ops member
gw --url "http://127.0.0.1:$port" --run-dir "$RUN" seed --users 20 \
    --guilds 2 --members 20 --out "$TMP/tokens"
check "seed: failed lines are shown (10 at most), exit 1" \
    '[ $rc = 1 ] && [ $(grep -c "mock failure" "$TMP/err") = 10 ] \
     && grep -q "40 lines failed" "$TMP/err" \
     && [ $(wc -l <"$TMP/tokens") = 20 ]'

start_mock small --max-body 1000
gw --url "http://127.0.0.1:$port" --run-dir "$RUN" seed --users 100 \
    --out "$TMP/tokens"
check "seed: 413 from the server, exit 1" \
    '[ $rc = 1 ] && grep -q "HTTP 413.*40005" "$TMP/err"'


# ---------------------------------------------------------------- framing

for mode in "chunked --interim" eof; do
    start_mock "frame-$(echo $mode | cut -d" " -f1)" --framing $mode
    F="--url http://127.0.0.1:$port --run-dir $RUN"
    m=$(echo $mode | cut -d" " -f1)

    gw $F user add "framed-$m" --id 777
    check "$m responses: user add" '[ $rc = 0 ] && grep -q "^777 " "$TMP/out"'

    gw $F guild put 778 "framed $m" --owner 777 --channel 779:general:0
    check "$m responses: guild put" \
        '[ $rc = 0 ] && jeq "$TMP/out" name "framed $m"'

    gw $F member add 778 777
    check "$m responses: member add (204)" '[ $rc = 0 ]'

    gw $F status
    check "$m responses: status" \
        '[ $rc = 0 ] && jeq "$TMP/out" members 1'

    gw $F user get 1
    check "$m responses: an error" \
        '[ $rc = 1 ] && grep -q "Unknown User" "$TMP/err"'

    gw $F seed --users 50 --guilds 5 --members 10 --out "$TMP/tokens"
    check "$m responses: seed" \
        '[ $rc = 0 ] && [ $(wc -l <"$TMP/tokens") = 50 ]'
done


# ---------------------------------------------------------------- valgrind

if [ "${VALGRIND:-1}" != 0 ] && command -v valgrind >/dev/null; then
    vg() {
        valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
            --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
            "$GWCTL" "$@" >"$TMP/out" 2>"$TMP/err"
        rc=$?
    }
    start_mock vg --framing chunked
    V="--url http://127.0.0.1:$port --run-dir $RUN"
    vgok=1
    for cmd in "user add vg --id 5" "user add vg --id 5" "user get 5" \
               "guild put 6 g --owner 5 --channel 7:a:0 --channel 8:b:2" \
               "member add 6 5" "dispatch 6 EV {\"a\":1}" "status --sessions" \
               "seed --users 500 --guilds 5 --members 100 --batch 300 \
                     --quiet --out $TMP/vgtok" \
               "member del 6 5" "user del 5" "guild get 6" "token 5" \
               "user del abc" "status --nope"
    do
        # shellcheck disable=SC2086
        vg $V $cmd
        if [ $rc = 99 ] || grep -q "==[0-9]*==" "$TMP/err"; then
            vgok=0
            echo "# valgrind: gwctl $cmd"
            sed 's/^/#   /' "$TMP/err" | head -30
        fi
    done
    rc=0
    check "valgrind: no errors, no leaks (14 runs)" '[ $vgok = 1 ]'
else
    echo "skip - valgrind"
fi


# ---------------------------------------------------------------- big seed

if [ "$SEED_USERS" != 0 ]; then
    start_mock big
    gw --url "http://127.0.0.1:$port" --run-dir "$RUN" seed \
        --users "$SEED_USERS" --guilds 100 --members 1000 \
        --out "$TMP/tokens"
    cat "$TMP/err" | sed 's/^/# /'
    base=$(sed -n 's/.*ids from \([0-9]*\).*/\1/p' "$TMP/err")
    $PY -c 'import sys
b, n = int(sys.argv[1]), int(sys.argv[2])
sys.stdout.write("".join("%d\n" % (b + i) for i in range(n)))' \
        "$base" "$SEED_USERS" >"$TMP/tokens.ids"
    check "seed: $SEED_USERS users, 100 guilds of 1000 (the mock is Python)" \
        '[ $rc = 0 ] && $TOK verify "$RUN/token.secret" --max-age 60 \
             --ids "$TMP/tokens.ids" <"$TMP/tokens" >/dev/null'
fi

echo "$passed passed, $failed failed"
[ $failed = 0 ]
