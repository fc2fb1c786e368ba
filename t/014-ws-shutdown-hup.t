# nginx -s reload: the old worker closes its WebSockets and exits, the
# bare WebSocket locations with 1001 (going away), the gateway with op 7
# (Reconnect) and 1012 (service restart); new connections are served by
# the new workers.
use lib 't/lib';
use Test::Gateway;
use Test::Gateway::Fixture;

# a zone and secrets for the blocks that use "gateway"
gateway_fixture();

master_on();
workers(2);
run_tests();

__DATA__

=== TEST 1: reload closes open WebSockets (1001, op 7 + 1012), new ones work
--- config
location /echo { gateway_ws_echo; }
location = /healthz { gateway_health; }
location /gateway { gateway; }
--- ws_script
open a /echo
open b /gateway
b< json {"op":10}
a> text "before reload"
a< text "before reload"
hup
a< close 1001
a< eof
b< json {"op":7,"d":null}
b< close 1012
b< eof
open c /echo
c> text "after reload"
c< text "after reload"
--- no_error_log
[error]
[alert]
