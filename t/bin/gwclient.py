#!/usr/bin/python3
"""A minimal gateway client for tests that need many sockets at once.

    gwclient.py identify --port P --tokens T1,T2,... [--intents N]
        opens one connection per token, identifies, waits for READY and
        the GUILD_CREATEs READY announces, prints one JSON line per
        session ({"session_id", "guilds"}), and keeps them open until
        stdin closes (or --hold seconds pass).
"""

import argparse
import base64
import json
import os
import socket
import struct
import sys
import time


class Conn:
    def __init__(self, port, path="/gateway?v=10&encoding=json",
                 rcvbuf=None):
        if rcvbuf is None:
            self.s = socket.create_connection(("127.0.0.1", port))
        else:
            # a small receive buffer (set before connect, so the window
            # stays small): the server's writes block until we read
            self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            self.s.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16))
        self.s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                       b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                       b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "
                       + key + b"\r\n\r\n")
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            d = self.s.recv(4096)
            if not d:
                raise RuntimeError("closed during the handshake")
            self.buf += d
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 101"):
            raise RuntimeError(head.decode(errors="replace"))

    def send(self, obj):
        data = json.dumps(obj).encode()
        n = len(data)
        if n < 126:
            head = bytes([0x81, 0x80 | n])
        else:
            head = bytes([0x81, 0x80 | 126]) + struct.pack("!H", n)
        self.s.sendall(head + b"\0\0\0\0" + data)

    def recv(self):
        """(opcode, payload) of the next frame, or None at EOF."""
        while True:
            if len(self.buf) >= 2:
                n, off = self.buf[1] & 0x7f, 2
                if n == 126 and len(self.buf) >= 4:
                    n, off = struct.unpack("!H", self.buf[2:4])[0], 4
                elif n == 127 and len(self.buf) >= 10:
                    n, off = struct.unpack("!Q", self.buf[2:10])[0], 10
                if n < 126 or off > 2:
                    if len(self.buf) >= off + n:
                        f = (self.buf[0] & 0xf, self.buf[off:off + n])
                        self.buf = self.buf[off + n:]
                        return f
            d = self.s.recv(1 << 20)
            if not d:
                return None
            self.buf += d

    def recv_json(self):
        f = self.recv()
        if f is None:
            raise RuntimeError("EOF")
        if f[0] == 8:
            code = struct.unpack("!H", f[1][:2])[0] if len(f[1]) >= 2 else None
            raise RuntimeError("closed with %s %r" % (code, f[1][2:]))
        return json.loads(f[1])


def identify(args):
    conns = []
    for token in args.tokens.split(","):
        c = Conn(args.port)
        hello = c.recv_json()
        assert hello["op"] == 10, hello
        c.send({"op": 2, "d": {"token": token, "intents": args.intents,
                               "properties": {"os": "linux",
                                              "browser": "gwclient",
                                              "device": "gwclient"}}})
        conns.append(c)
    for c in conns:
        ready = c.recv_json()
        assert ready["t"] == "READY", ready
        for g in ready["d"]["guilds"]:
            gc = c.recv_json()
            assert gc["t"] == "GUILD_CREATE", gc
        print(json.dumps({"session_id": ready["d"]["session_id"],
                          "guilds": len(ready["d"]["guilds"])}), flush=True)
    if args.hold is not None:
        time.sleep(args.hold)
    else:
        sys.stdin.read()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    i = sub.add_parser("identify")
    i.add_argument("--port", type=int, required=True)
    i.add_argument("--tokens", required=True)
    i.add_argument("--intents", type=int, default=513)
    i.add_argument("--hold", type=float)
    args = p.parse_args()
    identify(args)


if __name__ == "__main__":
    main()
