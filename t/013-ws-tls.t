# WebSockets over TLS (wss) go through the same core.
use lib 't/lib';
use Test::Gateway;

run_tests();

__DATA__

=== TEST 1: echo over wss, big and small, then a clean close
--- config
location /echo { gateway_ws_echo; gateway_max_message_size 1m; }
--- ws_script
open /echo tls
> text "over TLS"
< text "over TLS"
> binary rep:200000:"t"
< binary len=200000
> ping "p"
< pong "p"
> close 1000
< close 1000
< eof
--- no_error_log
[error]



=== TEST 2: a protocol error over wss closes with its code
--- config
location /echo { gateway_ws_echo; }
--- ws_script
open /echo tls
> frame op=1 rsv=2 payload="x"
< close 1002
< eof
