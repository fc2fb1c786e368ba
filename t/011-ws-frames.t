# Framing, control frames, limits and the close handshake of the shared
# WebSocket core (RFC 6455 5, 7), on the echo location and on /gateway.
use lib 't/lib';
use Test::Gateway;
use Test::Gateway::Fixture;

# a zone and secrets for the blocks that use "gateway"
gateway_fixture();

run_tests();

__DATA__

=== TEST 1: text and binary of every length encoding are echoed
--- config
location /echo { gateway_ws_echo; gateway_max_message_size 1m; }
--- ws_script
open /echo
> text "hello"
< text "hello"
> binary hex:00ff10
< binary hex:00ff10
> text ""
< text ""
> text rep:125:"a"
< text len=125
> text rep:126:"b"
< text len=126
> binary rep:65535:"c"
< binary len=65535
> binary rep:65536:"d"
< binary len=65536
> close 1000
< close 1000
< eof
--- no_error_log
[error]



=== TEST 2: a frame torn into single bytes is reassembled
--- config
location /echo { gateway_ws_echo; }
--- ws_script
open /echo
> chop=1 text "torn across many reads"
< text "torn across many reads"
> chop=3 binary rep:300:"x"
< binary len=300
--- no_error_log
[error]



=== TEST 3: a fragmented message with a ping inside: pong first, then echo
--- config
location /echo { gateway_ws_echo; }
--- ws_script
open /echo
> frame op=1 fin=0 payload="frag"
> ping "inside"
> frame op=0 fin=0 payload="ment"
> frame op=0 fin=1 payload="ed"
< pong "inside"
< text "fragmented"
--- no_error_log
[error]



=== TEST 4: unsolicited pongs get no answer and keep the connection
--- config
location /echo { gateway_ws_echo; }
--- ws_script
open /echo
> pong ""
> pong "unsolicited"
< nothing 0.3
> ping "still here"
< pong "still here"



=== TEST 5: an unmasked client frame fails the connection with 1002
--- config
location /echo { gateway_ws_echo; }
--- ws_script
open /echo
> frame op=1 mask=0 payload="abc"
< close 1002
< eof
--- error_log
unmasked client frame, closing with 1002



=== TEST 6: RSV bits without an extension: 1002, and nothing after
--- config
location /echo { gateway_ws_echo; }
--- ws_script
open /echo
> text "before"
> frame op=1 rsv=1 payload="bad"
> ping "after"
< text "before"
< close 1002
< eof
--- error_log
reserved bits set



=== TEST 7: reserved opcodes: 1002
--- config
location /echo { gateway_ws_echo; }
--- ws_script
open a /echo
open b /echo
a> frame op=3 payload=""
a< close 1002
a< eof
b> frame op=11 payload="x"
b< close 1002
b< eof
--- error_log
reserved opcode



=== TEST 8: a ping over 125 bytes and a fragmented ping: 1002
--- config
location /echo { gateway_ws_echo; }
--- ws_script
open a /echo
open b /echo
a> ping rep:126:"p"
a< close 1002
a< eof
b> frame op=9 fin=0 payload="p"
b< close 1002
b< eof
--- error_log
control frame over 125 bytes
fragmented control frame



=== TEST 9: a continuation with no message, and a message inside one: 1002
--- config
location /echo { gateway_ws_echo; }
--- ws_script
open a /echo
open b /echo
a> frame op=0 fin=1 payload="stray"
a< close 1002
a< eof
b> frame op=1 fin=0 payload="one"
b> frame op=1 fin=1 payload="two"
b< close 1002
b< eof
--- error_log
continuation frame without a message
new message inside a fragmented message



=== TEST 10: invalid UTF-8 fails fast with 1007, before the frame is over
--- config
location /echo { gateway_ws_echo; gateway_max_message_size 1m; }
--- ws_script
open /echo
> raw hex:81ff00000000000100000000ce
> raw hex:bacebaf49080
< close 1007
< eof
--- error_log
invalid UTF-8 in a text message, closing with 1007



=== TEST 11: a message over the limit: 1009 from its header alone
--- config
location /echo { gateway_ws_echo; gateway_max_message_size 1000; }
--- ws_script
open /echo
> raw hex:82fe03e9
< close 1009
< eof
--- error_log
message too big, closing with 1009



=== TEST 12: fragments adding up past the limit: 1009
--- config
location /echo { gateway_ws_echo; gateway_max_message_size 1000; }
--- ws_script
open /echo
> frame op=2 fin=0 payload=rep:600:"a"
> frame op=0 fin=1 payload=rep:600:"b"
< close 1009
< eof



=== TEST 13: a 64-bit length of 2^62 is refused without allocating
--- config
location /echo { gateway_ws_echo; gateway_max_message_size 16m; }
--- ws_script
open /echo
> raw hex:82ff4000000000000000
< close 1009
< eof



=== TEST 14: too many fragments (empty ones count): 1008
--- config
location /echo { gateway_ws_echo; gateway_max_fragments 3; }
--- ws_script
open /echo
> frame op=1 fin=0 payload=""
> frame op=0 fin=0 payload=""
> frame op=0 fin=0 payload=""
> frame op=0 fin=0 payload=""
< close 1008
< eof
--- error_log
too many fragments, closing with 1008



=== TEST 15: on /gateway a payload over 4096 bytes closes with 4002
--- config
location /gateway { gateway; }
--- ws_script
open /gateway
< json {"op":10}
> text rep:4097:"x"
< close 4002
< eof
--- error_log
message too big, closing with 4002



=== TEST 16: a frame that does not finish in frame_timeout: 1008
--- config
location /echo { gateway_ws_echo; gateway_frame_timeout 300ms; }
--- ws_script
open /echo
> raw hex:818a00000000
< close 1008
< eof
--- error_log
frame not completed in time



=== TEST 17: close codes are echoed; an empty close gets an empty close
--- config
location /echo { gateway_ws_echo; }
--- ws_script
open a /echo
open b /echo
open c /echo
a> close 4000 "app"
a< close 4000
a< eof
b> close
b< close
b< eof
c> close 3999
c< close 3999
c< eof
--- no_error_log
[error]



=== TEST 18: invalid close codes and bodies fail with 1002 / 1007
--- config
location /echo { gateway_ws_echo; }
--- ws_script
open a /echo
open b /echo
open c /echo
open d /echo
a> frame op=8 payload=hex:03ed
a< close 1002
a< eof
b> frame op=8 payload=hex:03
b< close 1002
b< eof
c> frame op=8 payload=hex:03e8ce
c< close 1007
c< eof
d> frame op=8 payload=hex:1388
d< close 1002
d< eof
--- error_log
invalid close code
close frame with a 1-byte body
invalid UTF-8 in a close reason



=== TEST 19: data after a close is ignored: no echo, no pong
--- config
location /echo { gateway_ws_echo; }
--- ws_script
open /echo
> text "first"
> close 1000
> text "after close"
> ping "after close"
< text "first"
< close 1000
< eof



=== TEST 20: the voice location applies its own limit and code
--- config
location /voice { voice_signal; voice_signal_max_message_size 100; }
--- ws_script
open /voice
> text rep:101:"v"
< close 4002
< eof
