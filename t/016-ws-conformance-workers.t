# The conformance suite against four workers (connections spread over all
# of them by the kernel), cases run concurrently.
use lib 't/lib';
use Test::Gateway;

master_on();
workers(4);
run_tests();

__DATA__

=== TEST 1: conformance over ws://, four workers
--- config
location /echo {
    gateway_ws_echo;
    gateway_max_message_size 16m;
    gateway_max_fragments 100000;
    gateway_send_queue 64m;
}
--- client
/usr/bin/python3 t/conformance/wsconform.py --jobs 8 --url ws://127.0.0.1:$TEST_NGINX_PORT/echo
--- client_timeout: 300
--- no_error_log
[error]
