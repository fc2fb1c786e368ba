# Self-tests of the Test::Gateway harness (t/lib) against plain nginx
# features, a Perl WebSocket echo backend behind proxy_pass, and nested runs
# of small .t files (HUP mode, failure diagnostics) driven by
# t/lib/Test/Gateway/SelfTest.pm.

use lib 't/lib';
use Test::Gateway;

our $ECHO_LOC = <<'_EOC_';
location /echo {
    proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection "upgrade";
    proxy_read_timeout 60s;
}
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    if (defined $block->ws_script && !defined $block->config) {
        $block->set_value(config => $ECHO_LOC);
        $block->set_value(daemon => 'perl t/lib/Test/Gateway/EchoServer.pm $TEST_NGINX_BACKEND_PORT');
        $block->set_value(daemon_port => '$TEST_NGINX_BACKEND_PORT');
    }
});

run_tests();

__DATA__

=== TEST 1: return, response_body and no_error_log
--- config
location = /t { return 200 "hello\n"; }
--- request
GET /t
--- error_code: 200
--- response_body
hello
--- no_error_log
[error]
[alert]



=== TEST 2: response_headers (present, absent, like) and error_code
--- config
location = /h {
    add_header X-Foo "bar baz";
    return 201 "created";
}
--- request
GET /h
--- error_code: 201
--- response_headers
X-Foo: bar baz
Content-Type: text/plain
!X-Missing
--- response_headers_like
Server: ^nginx/\d+
--- response_body chomp
created



=== TEST 3: request body, method and more_headers; $TEST_NGINX_* in response_body
--- config
location = /m {
    return 200 "$request_method len=$http_content_length x=$http_x_test host=$host port=$server_port\n";
}
--- request
POST /m
hello world
--- more_headers
X-Test: abc
Host: example.org
--- response_body
POST len=11 x=abc host=example.org port=$TEST_NGINX_PORT



=== TEST 4: raw_request eval, HTTP/1.0, response_body_like
--- config
location = /t { return 200 "hello\n"; }
--- raw_request eval
"GET /t HTTP/1.0\r\nHost: localhost\r\n\r\n"
--- response_body_like: ^hel+o$



=== TEST 5: raw_request eval as a list of chunks sent with a delay
--- config
location = /t { return 200 "hello\n"; }
--- raw_request eval
["GET /t HT", "TP/1.1\r\nHost: localhost\r\n", "Connection: close\r\n\r\n"]
--- raw_request_middle_delay: 0.02
--- response_body
hello



=== TEST 6: error_code_like and error_log (plain lines and an eval list of qr//)
--- config
--- request
GET /nonexistent.html
--- error_code_like: ^40[34]$
--- error_log eval
[qr/open\(\) ".*nonexistent\.html" failed/, "[error]", "No such file or directory"]



=== TEST 7: TLS request on $TEST_NGINX_TLS_PORT
--- config
location = /s { return 200 "https=$https port=$server_port\n"; }
--- tls
--- request
GET /s
--- response_body
https=on port=$TEST_NGINX_TLS_PORT



=== TEST 8: chunked responses are decoded
--- config
location = /c {
    chunked_transfer_encoding on;
    proxy_pass http://127.0.0.1:$TEST_NGINX_PORT/t;
    proxy_buffering off;
}
location = /t { return 200 "through proxy\n"; }
--- request
GET /c
--- response_body
through proxy



=== TEST 9: must_die with an unknown directive
--- config
gateway_no_such_directive on;
--- must_die
--- error_log
unknown directive "gateway_no_such_directive"



=== TEST 10: must_die with an invalid number in main_config
--- main_config
worker_rlimit_nofile abc;
--- must_die
--- error_log
[emerg] "worker_rlimit_nofile" directive invalid number



=== TEST 11: nginx starts again after a must_die block; user_files
--- config
location / { root $TEST_NGINX_SERVROOT/html; }
--- user_files
>>> sub/file.txt
from user_files
--- request
GET /sub/file.txt
--- response_body
from user_files



=== TEST 12: client section: true
--- config
location = /t { return 200 "hello\n"; }
--- client
true



=== TEST 13: client section: a perl one-liner using TEST_NGINX_* in its environment, cwd = repo root
--- config
location = /t { return 200 "hello\n"; }
--- client
test -f t/lib/Test/Gateway.pm && perl -MIO::Socket::INET -e '
    my $s = IO::Socket::INET->new("127.0.0.1:$ENV{TEST_NGINX_PORT}") or die "connect: $!";
    print $s "GET /t HTTP/1.0\r\n\r\n";
    local $/; my $r = <$s>;
    exit($r =~ /\r\n\r\nhello\n\z/ ? 0 : 1)'



=== TEST 14: ws_script: frames, payload forms, chop, fragments, ping/pong, close
--- ws_script
open /echo
> text "hello"
< text "hello"
> binary hex:00ff10
< binary hex:00ff10
> text rep:1000:"ab"
< text rep:1000:"ab"
> binary rep:70000:hex:5a
< binary len=70000
> text "caf\u{e9} \x41" + hex:21
< text /^caf\xc3\xa9 A!$/
> ping "p"
< pong "p"
> ping
< pong ""
> pong "unsolicited"
< nothing 0.2
> chop=1 text "chopped"
< text "chopped"
> chop=3 delay=2ms binary hex:0102030405060708
< binary hex:0102030405060708
> frame op=1 fin=0 payload="frag1"
< frame op=text fin=0 payload="frag1"
> frame op=cont fin=1 payload="frag2" key=hex:01020304
< frame op=0 payload="frag2"
> text "x" rsv1=1
< frame op=1 rsv=4 payload="x"
> close 1000 "bye"
< close 1000 "bye"
< eof



=== TEST 15: ws_script: server-side byte tricks (coalesced, chopped, masked, long headers)
--- ws_script
# the backend writes these bytes itself
open /echo
> text "cmd:hex:810161810162810163"
< text "a"
< text "b"
< text "c"
> text "cmd:chop:810178890179"
< text "x"
< ping "y"
> text "cmd:hex:8182010203046060"
< frame op=1 mask=1 payload="ab"
> text "cmd:hex:0105"
> text "cmd:hex:6162636465"
< frame op=1 fin=0 payload="abcde"
> text "cmd:hex:88020001"
< close 1
> text "cmd:hex:8800"
< close
> text "cmd:hex:880403e86869"
< close any
> close
< close
< eof



=== TEST 16: ws_script: named connections, TLS, handshake headers, json and ${var} interpolation
--- ws_script
open a /echo
open b /echo?x=1 tls Origin: http://example.org  Sec-WebSocket-Protocol: chat, superchat
b< header Sec-WebSocket-Protocol: chat
b< header Upgrade: /^websocket$/i
b< header !X-Nope
a> text "to a"
b> text "to b"
b< text "to b"
a< text "to a"
a> json {"op":0,"t":"READY","s":1,"d":{"session_id":"abc123","v":10,"ok":true,"list":[1,{"k":"v"}],"n":null}}
a< json_save ready {"op":0,"t":"READY"}
a> json {"op":6,"d":{"session_id":"${ready.d.session_id}","seq":${ready.s}}}
a< json {"op":6,"d":{"session_id":"abc123","seq":1}}
a> json ${ready.d.list}
a< json [1,{"k":"v"}]
a> json ${ready}
a< json {"d":{"session_id":"/^[a-z]+\\d+$/","v":10,"ok":true,"list":[1,{"k":"v"}],"n":null}}
a> text "cmd:close"
a< eof
b> disconnect
open b /echo
b> text "again"
b< text "again"
sleep 0.05
shell test -n "$TEST_NGINX_PORT"



=== TEST 17: ws_script: open with a non-101 status and raw bytes
--- ws_script
open /t status=404
< header Content-Type: text/html
> raw "x"
open c /echo
c> raw hex:8185000000006869216869
c< text "hi!hi"
c> close 1001 "going"
c< close 1001,1000 "going"
c< eof
open d /echo
d> shutdown
d< eof



=== TEST 18: ws_script: hup and kill_worker (master_process switched on for this block)
--- ws_script
open a /echo
a> text "before"
a< text "before"
hup
open b /echo
b> text "after hup"
b< text "after hup"
a> text "old worker still serves"
a< text "old worker still serves"
kill_worker
open c /echo
c> text "after kill"
c< text "after kill"



=== TEST 19: ws_script: header removal, lenfmt, odd opcodes, \u{} escapes, reset
--- ws_script
open x /echo status=200 !Upgrade
x< header Content-Length: 11
open /echo
> frame op=2 lenfmt=64 payload=hex:00
< binary hex:00
> frame op=2 lenfmt=16 key=hex:ffffffff payload='a\'b'
< binary "a'b"
> text "\u{d800}\u{10ffff}"
< text hex:eda080f48fbfbf
> frame op=0xb payload="q"
< frame op=11 payload="q"
> text ""
< text
> reset
open /echo
> text "\${literal}"
< text "\${literal}"



=== TEST 20: raw_request handshake: the read ends after a 101 (plus idle time); response_body has the frames
--- daemon: perl t/lib/Test/Gateway/EchoServer.pm $TEST_NGINX_BACKEND_PORT
--- daemon_port: $TEST_NGINX_BACKEND_PORT
--- config
location /echo {
    proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection "upgrade";
}
--- raw_request eval
"GET /echo HTTP/1.1\r
Host: localhost\r
Upgrade: websocket\r
Connection: Upgrade\r
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r
Sec-WebSocket-Version: 13\r
\r
\x81\x82\x00\x00\x00\x00hi"
--- error_code: 101
--- response_headers
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
--- response_body eval
"\x81\x02hi"



=== TEST 21: tcp_listen mock upstream on a TCP port: tcp_query checked, tcp_reply sent
--- config
location = /up {
    proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/x;
    proxy_set_header Host up;
}
--- tcp_listen: $TEST_NGINX_BACKEND_PORT
--- tcp_query eval
"GET /x HTTP/1.0\r\nHost: up\r\nConnection: close\r\n\r\n"
--- tcp_reply eval
["HTTP/1.0 200 OK\r\nContent-Length: 3\r\n", "\r\nup\n"]
--- tcp_reply_delay: 0.05
--- request
GET /up
--- response_body
up



=== TEST 22: tcp_listen on a unix socket; no tcp_query: the reply follows the first read
--- config
location = /up {
    proxy_pass http://unix:$TEST_NGINX_SERVROOT/logs/up.sock:/x;
}
--- tcp_listen: $TEST_NGINX_SERVROOT/logs/up.sock
--- tcp_reply eval
"HTTP/1.0 200 OK\r\n\r\nvia unix socket\n"
--- request
GET /up
--- response_body
via unix socket



=== TEST 23: nested runs: HUP mode, failure diagnostics
--- config
--- client
perl t/lib/Test/Gateway/SelfTest.pm
--- client_timeout: 120
