# Gateway v10: Hello on every socket, heartbeats and their ACKs (also for
# server-requested heartbeats), zombie detection, the query string (1.1,
# 1.4, 1.5 of shared/PROTOCOL.md).
use lib 't/lib';
use Test::Gateway;
use Test::Gateway::Fixture;

gateway_fixture();
run_tests();

__DATA__

=== TEST 1: Hello comes first, with the configured interval
--- config
location = /gateway { gateway; gateway_heartbeat_interval 41250ms; }
--- ws_script
open /gateway?v=10&encoding=json
< json {"op":10,"d":{"heartbeat_interval":41250},"s":null,"t":null}
--- no_error_log
[error]



=== TEST 2: every heartbeat gets an ACK, before Identify too, d null or seq
--- config
location = /gateway { gateway; }
--- ws_script
open /gateway?v=10&encoding=json
< json {"op":10}
> json {"op":1,"d":null}
< json {"op":11,"d":null,"s":null,"t":null}
> json {"op":1,"d":42}
< json {"op":11}
> json {"op":1}
< json {"op":11}
--- no_error_log
[error]



=== TEST 3: a silent client is asked for a heartbeat (op 1), and ACKed
--- config
location = /gateway { gateway; gateway_heartbeat_interval 400ms; }
--- ws_script
open /gateway?v=10
< json {"op":10,"d":{"heartbeat_interval":400}}
< json {"op":1,"d":null,"s":null,"t":null}
> json {"op":1,"d":null}
< json {"op":11}
< json {"op":1}
> json {"op":1,"d":null}
< json {"op":11}



=== TEST 4: a client silent for 1.5 intervals is a zombie: 4009
--- config
location = /gateway { gateway; gateway_heartbeat_interval 400ms; }
--- ws_script
open /gateway?v=10
< json {"op":10}
< json {"op":1}
< close 4009
< eof
--- error_log
closing with 4009, Session timed out: no heartbeat for



=== TEST 5: gateway_zombie_factor 3: asked at 2 intervals, closed at 3
--- config
location = /gateway {
    gateway;
    gateway_heartbeat_interval 300ms;
    gateway_zombie_factor 3;
}
--- ws_script
open /gateway?v=10
< json {"op":10}
< nothing 0.5
< json {"op":1}
< close 4009
< eof



=== TEST 6: heartbeats keep a connection alive well past the deadline
--- config
location = /gateway { gateway; gateway_heartbeat_interval 300ms; }
--- ws_script
open /gateway?v=10
< json {"op":10}
sleep 0.25
> json {"op":1,"d":null}
< json {"op":11}
sleep 0.25
> json {"op":1,"d":null}
< json {"op":11}
sleep 0.25
> json {"op":1,"d":null}
< json {"op":11}
sleep 0.25
> json {"op":1,"d":null}
< json {"op":11}
--- no_error_log
4009



=== TEST 7: a heartbeat with a bad d: 4002
--- config
location = /gateway { gateway; }
--- ws_script
open /gateway?v=10
< json {"op":10}
> json {"op":1,"d":"seven"}
< close 4002
< eof



=== TEST 8: an unsupported API version: Hello, then 4012
--- config
location = /gateway { gateway; }
--- ws_script
open a /gateway?v=5&encoding=json
a< json {"op":10}
a< close 4012
a< eof
open b /gateway?v=11
b< json {"op":10}
b< close 4012
b< eof
open c /gateway?v=ten
c< json {"op":10}
c< close 4012
c< eof
--- error_log
closing with 4012



=== TEST 9: versions 6 to 10 are served; so is a missing v
--- config
location = /gateway { gateway; }
--- ws_script
open a /gateway?v=6
a< json {"op":10}
a> json {"op":1,"d":null}
a< json {"op":11}
open b /gateway?v=9&encoding=json
b< json {"op":10}
b> json {"op":1,"d":null}
b< json {"op":11}
open c /gateway
c< json {"op":10}
c> json {"op":1,"d":null}
c< json {"op":11}



=== TEST 10: encoding=etf and transport compression are refused with 4012
--- config
location = /gateway { gateway; }
--- ws_script
open a /gateway?v=10&encoding=etf
a< json {"op":10}
a< close 4012
a< eof
open b /gateway?v=10&encoding=json&compress=zlib-stream
b< json {"op":10}
b< close 4012
b< eof
