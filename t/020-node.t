# make start / make reload / make stop (shared/CONTRACT.md): a node in its
# own RUN_DIR on its own ports, healthy once start returns, stopped
# completely by stop.
use lib 't/lib';
use Test::Gateway;

run_tests();

__DATA__

=== TEST 1: start, health over http and https, reload, stop
--- config
location = /t { return 204; }
--- client
set -eu
ports=$(/usr/bin/python3 -c '
import socket
socks = [socket.socket() for i in range(2)] + [socket.socket(type=socket.SOCK_DGRAM)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')
set -- $ports
export PORT=$1 TLS_PORT=$2 SFU_PORT=$3 WORKERS=2
export RUN_DIR=$TEST_NGINX_SERVROOT/node
trap 'make -s -C $TEST_NGINX_REPO stop >/dev/null 2>&1 || true' EXIT
make -s -C $TEST_NGINX_REPO start | grep -q "gateway node running"
test "$(curl -fsS http://127.0.0.1:$PORT/healthz)" = '{"status":"ok"}'
test "$(curl -fsSk https://127.0.0.1:$TLS_PORT/healthz)" = '{"status":"ok"}'
test -s $RUN_DIR/admin.secret && test -s $RUN_DIR/token.secret
test -s $RUN_DIR/nginx.pid && test -s $RUN_DIR/sfu.pid
nginx=$(cat $RUN_DIR/nginx.pid); sfu=$(cat $RUN_DIR/sfu.pid)
kill -0 $nginx && kill -0 $sfu
secret=$(cat $RUN_DIR/admin.secret)
make -s -C $TEST_NGINX_REPO reload
sleep 1
test "$(curl -fsS http://127.0.0.1:$PORT/healthz)" = '{"status":"ok"}'
test "$(cat $RUN_DIR/admin.secret)" = "$secret"
make -s -C $TEST_NGINX_REPO stop
! kill -0 $nginx 2>/dev/null
! kill -0 $sfu 2>/dev/null
! curl -fsS http://127.0.0.1:$PORT/healthz 2>/dev/null
echo "node started, reloaded and stopped"
--- client_timeout: 120
