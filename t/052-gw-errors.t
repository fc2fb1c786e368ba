# Bad input on the gateway gets the close code of shared/PROTOCOL.md 1.9
# with a reason saying what was wrong: malformed JSON, wrong types, huge
# numbers, binary frames, unknown opcodes, payloads before Identify, too
# large a payload, too many payloads.
use lib 't/lib';
use Test::Gateway;
use Test::Gateway::Fixture;

gateway_fixture();
use_hup();
run_tests();

__DATA__

=== TEST 1: a user with a guild
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- ws_script
shell t/bin/gwadmin POST /admin/users '{"id":"100","username":"alice","bot":true}'
shell t/bin/gwadmin PUT /admin/guilds/4194304000 '{"name":"Guild A","channels":[{"id":"500","name":"general","type":0}]}'
shell t/bin/gwadmin PUT /admin/guilds/4194304000/members/100 '{}'



=== TEST 2: malformed JSON: 4002
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- ws_script
open a /gateway?v=10
a< json {"op":10}
a> text "{\"op\":1,"
a< close 4002 /Decode error: invalid JSON/
a< eof
open b /gateway?v=10
b< json {"op":10}
b> text "not json at all"
b< close 4002
b< eof
open c /gateway?v=10
c< json {"op":10}
c> text ""
c< close 4002
c< eof
--- error_log
closing with 4002, Decode error: invalid JSON



=== TEST 3: JSON that is not an object: 4002
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- ws_script
open a /gateway?v=10
a< json {"op":10}
a> text "[1,2,3]"
a< close 4002 "Decode error: not a JSON object"
a< eof
open b /gateway?v=10
b< json {"op":10}
b> text "1"
b< close 4002
b< eof



=== TEST 4: duplicate keys are refused: 4002
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- ws_script
open /gateway?v=10
< json {"op":10}
> text "{\"op\":1,\"op\":2,\"d\":null}"
< close 4002
< eof



=== TEST 5: op missing, a string, a float, a huge number: 4002
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- ws_script
open a /gateway?v=10
a< json {"op":10}
a> text "{\"d\":null}"
a< close 4002 "Decode error: \"op\" must be an integer"
a< eof
open b /gateway?v=10
b< json {"op":10}
b> text "{\"op\":\"1\",\"d\":null}"
b< close 4002
b< eof
open c /gateway?v=10
c< json {"op":10}
c> text "{\"op\":1.5,\"d\":null}"
c< close 4002
c< eof
open d /gateway?v=10
d< json {"op":10}
d> text "{\"op\":123456789012345678901234567890,\"d\":null}"
d< close 4002
d< eof
open e /gateway?v=10
e< json {"op":10}
e> text "{\"op\":1,\"d\":1e400}"
e< close 4002
e< eof



=== TEST 6: unknown and server-only opcodes: 4001
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- ws_script
open a /gateway?v=10
a< json {"op":10}
a> json {"op":99,"d":null}
a< close 4001 "Unknown opcode: opcode 99"
a< eof
open b /gateway?v=10
b< json {"op":10}
b> json {"op":-1,"d":null}
b< close 4001
b< eof
open c /gateway?v=10
c< json {"op":10}
c> json {"op":0,"d":{}}
c< close 4001
c< eof
open d /gateway?v=10
d< json {"op":10}
d> json {"op":11,"d":null}
d< close 4001
d< eof
open e /gateway?v=10
e< json {"op":10}
e> json {"op":5,"d":null}
e< close 4001
e< eof
--- error_log
closing with 4001



=== TEST 7: a payload other than heartbeat, Identify or Resume first: 4003
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- ws_script
open a /gateway?v=10
a< json {"op":10}
a> json {"op":3,"d":{"since":null,"activities":[],"status":"online","afk":false}}
a< close 4003 "Not authenticated: Presence Update before Identify"
a< eof
open b /gateway?v=10
b< json {"op":10}
b> json {"op":4,"d":{"guild_id":"4194304000","channel_id":null,"self_mute":false,"self_deaf":false}}
b< close 4003
b< eof



=== TEST 8: binary frames where JSON text is expected: 4002
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- ws_script
open /gateway?v=10
< json {"op":10}
> binary "{\"op\":1,\"d\":null}"
< close 4002 /binary frames are not accepted/
< eof



=== TEST 9: a 4096-byte payload is fine, a 4097-byte one is 4002
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- ws_script
open a /gateway?v=10
a< json {"op":10}
a> text "{\"op\":1,\"d\":null,\"pad\":\"" + rep:4070:"x" + "\"}"
a< json {"op":11}
open b /gateway?v=10
b< json {"op":10}
b> text "{\"op\":1,\"d\":null,\"pad\":\"" + rep:4071:"x" + "\"}"
b< close 4002
b< eof
--- error_log
message too big, closing with 4002



=== TEST 10: the 121st payload in 60 s: 4008
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- client
/usr/bin/python3 - <<'PY'
import base64, json, os, socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(os.environ["TEST_NGINX_PORT"])))
s.sendall(b"GET /gateway?v=10 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
          b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
buf = b""
def frame():
    global buf
    while True:
        if len(buf) >= 2:
            n, off = buf[1] & 0x7f, 2
            if n == 126:
                n, off = struct.unpack("!H", buf[2:4])[0], 4
            if len(buf) >= off + n:
                f = (buf[0] & 0xf, buf[off:off + n])
                buf = buf[off + n:]
                return f
        d = s.recv(65536)
        if not d:
            return None
        buf += d
while b"\r\n\r\n" not in buf:
    buf += s.recv(4096)
buf = buf.split(b"\r\n\r\n", 1)[1]
assert frame()[0] == 1                      # Hello
beat = b'{"op":1,"d":null}'
masked = b"\x81" + bytes([0x80 | len(beat)]) + b"\0\0\0\0" + beat
for i in range(120):
    s.sendall(masked)
    op, body = frame()
    assert op == 1 and json.loads(body)["op"] == 11, (i, op, body)
s.sendall(masked)
op, body = frame()
code = struct.unpack("!H", body[:2])[0]
print("121st payload:", op, code, body[2:].decode())
sys.exit(0 if op == 8 and code == 4008 else 1)
PY
--- error_log
closing with 4008, Rate limited: more than 120 payloads in 60000 ms



=== TEST 11: gateway_rate_limit: 3 payloads per 500 ms, then a new window
--- config
location = /gateway { gateway; gateway_rate_limit 3 500ms; }
location /admin/ { gateway_admin; }
--- ws_script
open a /gateway?v=10
a< json {"op":10}
a> json {"op":1,"d":null}
a< json {"op":11}
a> json {"op":1,"d":null}
a< json {"op":11}
a> json {"op":1,"d":null}
a< json {"op":11}
sleep 0.6
a> json {"op":1,"d":null}
a< json {"op":11}
a> json {"op":1,"d":null}
a< json {"op":11}
a> json {"op":1,"d":null}
a< json {"op":11}
a> json {"op":1,"d":null}
a< close 4008
a< eof



=== TEST 12: Presence Update with bad fields: 4002; a good one is taken
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- ws_script
open a /gateway?v=10
a< json {"op":10}
a> json {"op":2,"d":{"token":"@token(100)@","intents":1}}
a< json {"op":0,"t":"READY"}
a< json {"op":0,"t":"GUILD_CREATE"}
a> json {"op":3,"d":{"since":null,"activities":[{"name":"chess","type":0}],"status":"idle","afk":false}}
a> json {"op":1,"d":2}
a< json {"op":11}
a> json {"op":3,"d":{"since":"yesterday","activities":[],"status":"idle","afk":false}}
a< close 4002 /since must be an integer or null/
a< eof
open b /gateway?v=10
b< json {"op":10}
b> json {"op":2,"d":{"token":"@token(100)@","intents":1}}
b< json {"op":0,"t":"READY"}
b< json {"op":0,"t":"GUILD_CREATE"}
b> json {"op":3,"d":{"since":null,"activities":[{"type":0}],"status":"idle","afk":false}}
b< close 4002 /an activity needs a name/
b< eof



=== TEST 13: Voice State Update: kept for GUILD_CREATE, bad fields 4002
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- ws_script
open a /gateway?v=10
a< json {"op":10}
a> json {"op":2,"d":{"token":"@token(100)@","intents":129}}
a< json {"op":0,"t":"READY"}
a< json {"op":0,"t":"GUILD_CREATE","d":{"voice_states":[]}}
a> json {"op":4,"d":{"guild_id":"4194304000","channel_id":"500","self_mute":true,"self_deaf":false}}
a> json {"op":4,"d":{"guild_id":"4194304000","channel_id":"999","self_mute":true,"self_deaf":false}}
a> json {"op":1,"d":2}
a< json {"op":11}
open b /gateway?v=10
b< json {"op":10}
b> json {"op":2,"d":{"token":"@token(100)@","intents":129}}
b< json {"op":0,"t":"READY"}
b< json {"op":0,"t":"GUILD_CREATE","d":{"voice_states":[{"channel_id":"500","user_id":"100","self_mute":true,"self_deaf":false}]}}
b> json {"op":4,"d":{"guild_id":"4194304000","channel_id":null,"self_mute":false}}
b< close 4002
b< eof
--- error_log
voice state update for a guild or channel of someone else ignored
