# nginx -s reload: the old worker closes its WebSockets with 1001 (going
# away) and exits; new connections are served by the new workers.
use lib 't/lib';
use Test::Gateway;

master_on();
workers(2);
run_tests();

__DATA__

=== TEST 1: reload closes open WebSockets with 1001 and new ones work
--- config
location /echo { gateway_ws_echo; }
location = /healthz { gateway_health; }
location /gateway { gateway; }
--- ws_script
open a /echo
open b /gateway
a> text "before reload"
a< text "before reload"
hup
a< close 1001
a< eof
b< close 1001
b< eof
open c /echo
c> text "after reload"
c< text "after reload"
--- no_error_log
[error]
[alert]
