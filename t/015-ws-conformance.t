# The Autobahn-equivalent conformance suite (t/conformance/wsconform.py):
# categories 0 (handshake), 1-7, 9 (scaled down) and 10 against the echo
# location, over ws:// and wss://, with one worker.
use lib 't/lib';
use Test::Gateway;

run_tests();

__DATA__

=== TEST 1: conformance over ws://, one worker
--- config
location /echo {
    gateway_ws_echo;
    gateway_max_message_size 16m;
    gateway_max_fragments 100000;
    gateway_send_queue 64m;
}
--- client
/usr/bin/python3 t/conformance/wsconform.py --url ws://127.0.0.1:$TEST_NGINX_PORT/echo
--- client_timeout: 300
--- no_error_log
[error]



=== TEST 2: conformance over wss://, one worker
--- config
location /echo {
    gateway_ws_echo;
    gateway_max_message_size 16m;
    gateway_max_fragments 100000;
    gateway_send_queue 64m;
}
--- client
/usr/bin/python3 t/conformance/wsconform.py --insecure --url wss://127.0.0.1:$TEST_NGINX_TLS_PORT/echo
--- client_timeout: 300
--- no_error_log
[error]
