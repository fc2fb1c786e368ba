# The opening handshake (RFC 6455 4.2.1, 4.2.2, 4.4): refused requests get
# a 4xx with the reason and never a crash; accepted ones get a correct 101.
use lib 't/lib';
use Test::Gateway;
use Test::Gateway::Fixture;

# a zone and secrets for the blocks that use "gateway"
gateway_fixture();

run_tests();

__DATA__

=== TEST 1: a valid handshake gets 101 with the RFC 6455 1.3 example accept
--- config
location /echo { gateway_ws_echo; }
--- raw_request eval
"GET /echo HTTP/1.1\r
Host: localhost\r
Upgrade: websocket\r
Connection: Upgrade\r
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r
Sec-WebSocket-Version: 13\r
\r
"
--- error_code: 101
--- response_headers
Upgrade: websocket
Connection: upgrade
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
--- no_error_log
[error]



=== TEST 2: a plain GET on a WebSocket endpoint: 426 naming the protocol
--- config
location /echo { gateway_ws_echo; }
--- request
GET /echo
--- error_code: 426
--- response_headers
Upgrade: websocket
--- response_body_like: "Upgrade: websocket" is required
--- error_log
WebSocket handshake refused with 426



=== TEST 3: Connection without the Upgrade token: 400
--- config
location /echo { gateway_ws_echo; }
--- raw_request eval
"GET /echo HTTP/1.1\r
Host: localhost\r
Upgrade: websocket\r
Connection: keep-alive\r
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r
Sec-WebSocket-Version: 13\r
\r
"
--- error_code: 400
--- response_body_like: lacks the "Upgrade" token



=== TEST 4: Connection token lists and header case do not matter
--- config
location /echo { gateway_ws_echo; }
--- raw_request eval
"GET /echo HTTP/1.1\r
host: localhost\r
upgrade: WebSocket\r
connection: keep-alive,  Upgrade\r
sec-websocket-key:   dGhlIHNhbXBsZSBub25jZQ==  \r
sec-websocket-version: 13\r
\r
"
--- error_code: 101
--- response_headers
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=



=== TEST 5: an unsupported version: 426 listing version 13
--- config
location /echo { gateway_ws_echo; }
--- raw_request eval
"GET /echo HTTP/1.1\r
Host: localhost\r
Upgrade: websocket\r
Connection: Upgrade\r
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r
Sec-WebSocket-Version: 8\r
\r
"
--- error_code: 426
--- response_headers
Sec-WebSocket-Version: 13
--- response_body_like: Sec-WebSocket-Version



=== TEST 6: a missing version: 426
--- config
location /echo { gateway_ws_echo; }
--- raw_request eval
"GET /echo HTTP/1.1\r
Host: localhost\r
Upgrade: websocket\r
Connection: Upgrade\r
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r
\r
"
--- error_code: 426
--- response_headers
Sec-WebSocket-Version: 13



=== TEST 7: a missing key: 400
--- config
location /echo { gateway_ws_echo; }
--- raw_request eval
"GET /echo HTTP/1.1\r
Host: localhost\r
Upgrade: websocket\r
Connection: Upgrade\r
Sec-WebSocket-Version: 13\r
\r
"
--- error_code: 400
--- response_body_like: Sec-WebSocket-Key



=== TEST 8: a key that is not 16 bytes of base64: 400
--- config
location /echo { gateway_ws_echo; }
--- raw_request eval
"GET /echo HTTP/1.1\r
Host: localhost\r
Upgrade: websocket\r
Connection: Upgrade\r
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ\r
Sec-WebSocket-Version: 13\r
\r
"
--- error_code: 400
--- response_body_like: invalid Sec-WebSocket-Key



=== TEST 9: a key of 24 characters that is not base64: 400
--- config
location /echo { gateway_ws_echo; }
--- raw_request eval
"GET /echo HTTP/1.1\r
Host: localhost\r
Upgrade: websocket\r
Connection: Upgrade\r
Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!==\r
Sec-WebSocket-Version: 13\r
\r
"
--- error_code: 400



=== TEST 10: two keys: 400
--- config
location /echo { gateway_ws_echo; }
--- raw_request eval
"GET /echo HTTP/1.1\r
Host: localhost\r
Upgrade: websocket\r
Connection: Upgrade\r
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r
Sec-WebSocket-Version: 13\r
\r
"
--- error_code: 400
--- response_body_like: exactly one



=== TEST 11: POST: 405 with Allow: GET
--- config
location /echo { gateway_ws_echo; }
--- raw_request eval
"POST /echo HTTP/1.1\r
Host: localhost\r
Upgrade: websocket\r
Connection: Upgrade\r
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r
Sec-WebSocket-Version: 13\r
Content-Length: 3\r
\r
abc"
--- error_code: 405
--- response_headers
Allow: GET



=== TEST 12: HTTP/1.0: 400
--- config
location /echo { gateway_ws_echo; }
--- raw_request eval
"GET /echo HTTP/1.0\r
Host: localhost\r
Upgrade: websocket\r
Connection: Upgrade\r
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r
Sec-WebSocket-Version: 13\r
\r
"
--- error_code: 400
--- response_body_like: HTTP/1.1



=== TEST 13: a handshake with a body: 400
--- config
location /echo { gateway_ws_echo; }
--- raw_request eval
"GET /echo HTTP/1.1\r
Host: localhost\r
Upgrade: websocket\r
Connection: Upgrade\r
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r
Sec-WebSocket-Version: 13\r
Content-Length: 5\r
\r
hello"
--- error_code: 400
--- response_body_like: no body



=== TEST 14: offered subprotocols and extensions are not echoed
--- config
location /echo { gateway_ws_echo; }
--- raw_request eval
"GET /echo HTTP/1.1\r
Host: localhost\r
Upgrade: websocket\r
Connection: Upgrade\r
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r
Sec-WebSocket-Version: 13\r
Sec-WebSocket-Protocol: chat, superchat\r
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r
\r
"
--- error_code: 101
--- response_headers
!Sec-WebSocket-Protocol
!Sec-WebSocket-Extensions



=== TEST 15: the gateway and voice locations upgrade through the same core
--- config
location /gateway { gateway; }
location /voice { voice_signal; }
--- ws_script
open g /gateway
open v /voice
g< json {"op":10}
g> ping "g"
g< pong "g"
v> ping "v"
v< pong "v"
g> close 1000
g< close 1000
g< eof
v> close 1001 "bye"
v< close 1001
v< eof
--- no_error_log
[error]



=== TEST 16: the access log records the upgrade with status 101
--- config
location /echo { gateway_ws_echo; }
--- ws_script
open /echo
> close 1000
< close 1000
< eof
shell grep -q '"GET /echo HTTP/1.1" 101 ' $TEST_NGINX_SERVROOT/logs/access.log
--- no_error_log
[error]
