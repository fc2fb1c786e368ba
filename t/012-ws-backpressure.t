# A peer that stops reading is closed once its output queue passes
# gateway_send_queue: it can never grow the worker's memory.
use lib 't/lib';
use Test::Gateway;

run_tests();

__DATA__

=== TEST 1: a client that never reads is closed at the send queue limit
--- config
location /echo {
    gateway_ws_echo;
    gateway_max_message_size 16k;
    gateway_send_queue 64k;
}
--- client
/usr/bin/python3 - <<'PY'
import os, socket, struct, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(os.environ["TEST_NGINX_PORT"])))
s.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
          b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
assert s.recv(12) == b"HTTP/1.1 101"
frame = b"\x82\xfe" + struct.pack("!H", 16384) + b"\0\0\0\0" + b"x" * 16384
sent = 0
try:
    # 64 MiB of echoes: far more than any socket buffers can absorb
    for i in range(4096):
        s.sendall(frame)
        sent += len(frame)
except (BrokenPipeError, ConnectionResetError):
    print("closed by the server after %d bytes" % sent)
    sys.exit(0)
print("never closed after %d bytes" % sent)
sys.exit(1)
PY
--- error_log
client reads too slowly



=== TEST 2: a reader that keeps up is never closed
--- config
location /echo {
    gateway_ws_echo;
    gateway_max_message_size 16k;
    gateway_send_queue 64k;
}
--- client
/usr/bin/python3 - <<'PY'
import os, socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(os.environ["TEST_NGINX_PORT"])))
s.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
          b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(4096)
buf = buf.split(b"\r\n\r\n", 1)[1]
frame = b"\x82\xfe" + struct.pack("!H", 16384) + b"\0\0\0\0" + b"y" * 16384
echo = 4 + 16384
# 64 bursts of four 16 KiB messages, each burst read back before the next:
# every burst fills the 64 KiB send queue to its edge within one read
for burst in range(64):
    s.sendall(frame * 4)
    while len(buf) < 4 * echo:
        d = s.recv(1 << 20)
        if not d:
            print("closed by the server in burst %d" % burst)
            sys.exit(1)
        buf += d
    buf = buf[4 * echo:]
print("64 bursts echoed")
PY
--- no_error_log
client reads too slowly
[error]
