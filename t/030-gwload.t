# gwload, the load generator: its own unit and smoke tests, and a run
# against the real gateway location (connections spread over source
# addresses and processes, held, closed cleanly).
use lib 't/lib';
use Test::Gateway;
use Test::Gateway::Fixture;

# a zone and secrets for the blocks that use "gateway"
gateway_fixture();

workers(2);
worker_connections(4096);
run_tests();

__DATA__

=== TEST 1: gwload's unit and smoke tests
--- config
location = /t { return 204; }
--- client
make -s -C tools/gwload BUILD=$TEST_NGINX_REPO/build test
--- client_timeout: 180



=== TEST 2: 3000 connections to /gateway over 2 processes, held, closed
--- main_config
worker_rlimit_nofile 8192;
--- config
location /gateway { gateway; }
--- client
set -e
out=$TEST_NGINX_SERVROOT/gwload.json
build/bin/gwload --url ws://127.0.0.1:$TEST_NGINX_PORT/gateway \
    --connections 3000 --procs 2 --src-count 2 --rate 0 --hold 1 \
    --no-progress --json $out
/usr/bin/python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["established"] == 3000 and r["closed"] == 3000, r
assert r["close_unclean"] == 0 and r["dropped"] == 0, r
print("3000 established, held and closed cleanly")
' $out
--- client_timeout: 120
--- no_error_log
[error]
