# The modules load with load_module, their directives parse, bad values are
# refused by nginx -t with a clear message, and the shipped configurations
# pass nginx -t.
use lib 't/lib';
use Test::Gateway;
use Test::Gateway::Fixture;

# a zone and secrets for the blocks that use "gateway"
gateway_fixture();

run_tests();

__DATA__

=== TEST 1: every location handler and WebSocket directive parses
--- config
gateway_max_message_size 8k;
location = /healthz { gateway_health; }
location /gateway {
    gateway;
    gateway_max_message_size 4096;
    gateway_max_fragments 64;
    gateway_send_queue 256k;
    gateway_send_timeout 10s;
    gateway_frame_timeout 5s;
}
location /echo { gateway_ws_echo; }
location /voice {
    voice_signal;
    voice_signal_max_message_size 4k;
    voice_signal_max_fragments 16;
    voice_signal_send_queue 128k;
    voice_signal_send_timeout 10s;
    voice_signal_frame_timeout 5s;
}
--- request
GET /healthz
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body
{"status":"ok"}
--- no_error_log
[error]



=== TEST 2: HEAD on the health check
--- config
location = /healthz { gateway_health; }
--- request
HEAD /healthz
--- error_code: 200
--- response_body



=== TEST 3: POST on the health check: 405
--- config
location = /healthz { gateway_health; }
--- request
POST /healthz
x
--- error_code: 405



=== TEST 4: a message size limit of 0 is refused
--- config
location /gateway { gateway; gateway_max_message_size 0; }
--- must_die
--- error_log
the WebSocket message size limit must not be 0



=== TEST 5: a fragment limit that is not a number is refused
--- config
location /gateway { gateway; gateway_max_fragments many; }
--- must_die
--- error_log
"gateway_max_fragments" directive invalid number



=== TEST 6: a send queue too small for a control frame is refused
--- config
location /gateway { gateway; gateway_send_queue 16; }
--- must_die
--- error_log
the WebSocket send queue must hold at least 127 bytes



=== TEST 7: two content handlers in one location are refused
--- config
location /gateway { gateway; gateway_ws_echo; }
--- must_die
--- error_log
"gateway_ws_echo" directive is duplicate



=== TEST 8: the gateway handler is a location directive only
--- config
gateway;
--- must_die
--- error_log
"gateway" directive is not allowed here



=== TEST 9: a bad time for the frame timeout is refused
--- config
location /voice { voice_signal; voice_signal_frame_timeout soon; }
--- must_die
--- error_log
"voice_signal_frame_timeout" directive invalid value



=== TEST 10: conf/nginx.conf (the example) and conf/node.conf.in pass nginx -t
--- config
location = /t { return 204; }
--- client
set -e
prefix=$TEST_NGINX_SERVROOT/example
mkdir -p $prefix/logs
ln -sfn $TEST_NGINX_REPO/build/modules $prefix/modules
sed -e "s|/etc/nginx/gateway/|$prefix/|" $TEST_NGINX_REPO/conf/nginx.conf > $prefix/nginx.conf
echo secret > $prefix/token.secret
echo secret > $prefix/admin.secret
${TEST_NGINX_BINARY:-/usr/sbin/nginx} -t -p $prefix/ -c $prefix/nginx.conf
node=$TEST_NGINX_SERVROOT/node
mkdir -p $node/logs $node/tmp
echo secret > $node/token.secret
echo secret > $node/admin.secret
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -days 1 -subj /CN=localhost -keyout $node/key.pem -out $node/cert.pem 2>/dev/null
sed -e "s|@BUILD@|$TEST_NGINX_REPO/build|" -e 's/@WORKERS@/1/' \
    -e 's/@PORT@/127.0.0.1:1/' -e 's/@TLS_PORT@/127.0.0.1:2/' \
    -e 's/@NODE_ID@/1/' -e 's/@HEARTBEAT_MS@/41250/' \
    $TEST_NGINX_REPO/conf/node.conf.in > $node/nginx.conf
${TEST_NGINX_BINARY:-/usr/sbin/nginx} -t -p $node/ -c $node/nginx.conf
