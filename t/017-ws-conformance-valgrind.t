# The conformance suite with nginx under valgrind memcheck: no invalid
# access, no use of uninitialised memory, no leak.  Timeouts are scaled
# for valgrind's slowness and the 9.x sizes scaled down further.
use lib 't/lib';

BEGIN { $ENV{TEST_NGINX_USE_VALGRIND} = 1 }

use Test::Gateway;

master_on();
workers(2);
run_tests();

__DATA__

=== TEST 1: conformance over ws:// under valgrind
--- config
location /echo {
    gateway_ws_echo;
    gateway_max_message_size 16m;
    gateway_max_fragments 100000;
    gateway_send_queue 64m;
}
--- client
/usr/bin/python3 t/conformance/wsconform.py --scale 0.004 --time-scale 10 --jobs 4 --url ws://127.0.0.1:$TEST_NGINX_PORT/echo
--- client_timeout: 900
--- timeout: 60
--- no_error_log
[error]
