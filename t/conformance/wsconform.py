#!/usr/bin/python3
"""wsconform - an Autobahn|Testsuite-equivalent WebSocket (RFC 6455) server conformance driver.

Runs the cases of Autobahn's "fuzzingclient" categories 1-7, 9 and 10 (with Autobahn's case
numbering, re-derived from the case descriptions and RFC 6455) plus opening-handshake cases
(category 0) against an *echo* endpoint.  Python 3 standard library only.  See README.md.

    /usr/bin/python3 t/conformance/wsconform.py --url ws://127.0.0.1:8080/echo
"""

import argparse
import base64
import concurrent.futures
import fnmatch
import hashlib
import os
import socket
import ssl
import struct
import sys
import threading
import time
import traceback
import urllib.parse
from collections import deque

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
CONT, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
OP_NAMES = {CONT: "continuation", TEXT: "text", BINARY: "binary", CLOSE: "close", PING: "ping",
            PONG: "pong"}
KIND_OP = {"text": TEXT, "binary": BINARY}

OK, NON_STRICT, INFORMATIONAL, FAILED = "OK", "NON-STRICT", "INFORMATIONAL", "FAILED"

# Close codes a server may put on the wire (RFC 6455 section 7.4 plus IANA 1012-1014, 3000-4999).
SENDABLE_CODES = {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014}
# Codes that still mean "failed the connection because of bad input": a different one of these
# than the case expects is NON-STRICT (e.g. 1002 for invalid UTF-8); any other code is FAILED.
FAILURE_CODES = {1002, 1003, 1007, 1008, 1009}

DEFAULT_CASES = "0,1,2,3,4,5,6,7,9,10"
OCTET_PAUSE = 0.001  # between octet-wise writes, so that the server really reads partial frames


class Timing:
    """Every wait of the driver in seconds, already multiplied by --time-scale."""

    def __init__(self, scale):
        self.scale = scale
        self.response = 5.0 * scale  # longest silence while waiting for an expected frame
        self.close = 2.0 * scale     # the server closes TCP this soon after the closing handshake
        self.pause = 1.0 * scale     # pause between the parts of 5.19, 5.20 and 6.4.x


class CaseFail(Exception):
    """The case FAILED; the message says why."""


# ============================================================================ frame codec

def mask_bytes(key, data):
    """XOR data with the repeated 4-byte key (fast: one big-integer XOR)."""
    n = len(data)
    if n == 0:
        return b""
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(k, "little")).to_bytes(n, "little")


def frame(opcode, payload=b"", fin=True, rsv=0, mask=True, length=None):
    """Encode one frame.  Everything is settable, including invalid values; masked with a
    fresh random key unless mask=False.  `length` overrides the length field."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0xF)
    mbit = 0x80 if mask else 0
    if n < 126:
        head = struct.pack("!BB", b0, mbit | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        head = struct.pack("!BBQ", b0, mbit | 127, n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + mask_bytes(key, payload)


def close_payload(code=None, reason=b""):
    if isinstance(reason, str):
        reason = reason.encode("utf-8")
    return b"" if code is None else struct.pack("!H", code) + reason


def describe_wire(data):
    """Short description of an encoded client frame (for the trace)."""
    if len(data) < 2:
        return "%d raw bytes" % len(data)
    op, fin, rsv, n = data[0] & 0xF, data[0] >> 7, (data[0] >> 4) & 7, data[1] & 0x7F
    if n >= 126 and len(data) >= (4 if n == 126 else 10):
        n = struct.unpack_from("!H" if n == 126 else "!Q", data, 2)[0]
    s = "%s fin=%d" % (OP_NAMES.get(op, "opcode %d" % op), fin)
    return s + (" rsv=%d" % rsv if rsv else "") + " (%d bytes)" % n


def is_utf8(data):
    """Strict RFC 3629 validity (no surrogates, no overlongs, nothing above U+10FFFF)."""
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


class ServerFrame:
    __slots__ = ("fin", "rsv", "opcode", "payload")

    def __init__(self, fin, rsv, opcode, payload):
        self.fin, self.rsv, self.opcode, self.payload = fin, rsv, opcode, payload


class FrameReader:
    """Incremental parser of server-to-client frames.  A frame the server must never send
    (masked, RSV set, reserved opcode, bad control frame, 64-bit length with the top bit set)
    raises CaseFail as soon as its header is complete."""

    def __init__(self):
        self.buf = bytearray()

    def feed(self, data):
        self.buf += data

    def next(self):
        b = self.buf
        if len(b) < 2:
            return None
        fin, rsv, op = bool(b[0] & 0x80), (b[0] >> 4) & 7, b[0] & 0xF
        masked, n, pos = bool(b[1] & 0x80), b[1] & 0x7F, 2
        if masked:
            raise CaseFail("server sent a masked frame (RFC 6455 5.1)")
        if rsv:
            raise CaseFail("server sent a frame with RSV=%d (no extension negotiated)" % rsv)
        if op not in OP_NAMES:
            raise CaseFail("server sent a frame with reserved opcode %d" % op)
        if n == 126:
            if len(b) < 4:
                return None
            n, pos = struct.unpack_from("!H", b, 2)[0], 4
        elif n == 127:
            if len(b) < 10:
                return None
            n, pos = struct.unpack_from("!Q", b, 2)[0], 10
            if n >> 63:
                raise CaseFail("server frame has a 64-bit length with the top bit set")
        if op >= 8 and (not fin or n > 125):
            raise CaseFail("server sent a %s %s control frame" % (
                OP_NAMES[op], "fragmented" if not fin else "%d-byte" % n))
        if len(b) < pos + n:
            return None
        payload = bytes(b[pos:pos + n])
        del b[:pos + n]
        return ServerFrame(fin, rsv, op, payload)


# ============================================================================ connection helper

class Target:
    """A parsed ws:// or wss:// URL."""

    def __init__(self, url, insecure=False):
        u = urllib.parse.urlsplit(url)
        if u.scheme not in ("ws", "wss") or not u.hostname:
            raise ValueError("not a ws:// or wss:// URL: %s" % url)
        self.url = url
        self.tls = u.scheme == "wss"
        self.host = u.hostname
        self.port = u.port or (443 if self.tls else 80)
        self.host_header = u.netloc.rsplit("@", 1)[-1]
        self.path = (u.path or "/") + ("?" + u.query if u.query else "")
        self.ssl_ctx = None
        if self.tls:
            self.ssl_ctx = ssl.create_default_context()
            if insecure:
                self.ssl_ctx.check_hostname = False
                self.ssl_ctx.verify_mode = ssl.CERT_NONE


class Conn:
    """One TCP (or TLS) connection: deadline-bounded writes, optionally chopped into N-byte
    writes with a pause between them, and reads with a timeout."""

    def __init__(self, target):
        self.target = target
        self.sock = None

    def connect(self, timeout):
        t = self.target
        sock = socket.create_connection((t.host, t.port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if t.tls:
            sock = t.ssl_ctx.wrap_socket(sock, server_hostname=t.host)
        self.sock = sock

    def send(self, data, deadline, chop=None, pause=0.0):
        """Write data (in `chop`-byte writes if given).  Returns False when the peer has closed
        the connection (broken pipe / reset); raises socket.timeout when the deadline passes."""
        step = chop or len(data) or 1
        try:
            for i in range(0, len(data), step):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise socket.timeout("write deadline")
                self.sock.settimeout(left)
                self.sock.sendall(data[i:i + step])
                if pause and i + step < len(data):
                    time.sleep(pause)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, ssl.SSLError):
            return False
        return True

    def recv(self, timeout):
        """Bytes read, b"" at end of stream (FIN, RST or TLS EOF), None on timeout."""
        if timeout <= 0:
            return None
        try:
            self.sock.settimeout(timeout)
            return self.sock.recv(262144)
        except socket.timeout:
            return None
        except (OSError, ssl.SSLError):
            return b""

    def shutdown(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except (OSError, AttributeError):
            pass

    def close(self):
        if self.sock:
            try:
                self.sock.close()
            except OSError:
                pass


class Response:
    """An HTTP response head."""

    def __init__(self, head):
        lines = head.decode("latin-1").split("\r\n")
        self.status_line = lines[0]
        parts = lines[0].split(" ", 2)
        try:
            self.status = int(parts[1])
        except (IndexError, ValueError):
            raise CaseFail("malformed HTTP status line: %r" % lines[0][:80])
        self.headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                name = name.strip().lower()
                value = value.strip()
                self.headers[name] = self.headers[name] + ", " + value \
                    if name in self.headers else value

    def get(self, name):
        return self.headers.get(name.lower())

    def tokens(self, name):
        return [t.strip().lower() for t in (self.get(name) or "").split(",") if t.strip()]


def new_key():
    return base64.b64encode(os.urandom(16)).decode()


def accept_for(key):
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def ws_headers(target, key, drop=(), set=None, add=()):
    """The standard upgrade request headers, with names dropped, values replaced, or added."""
    h = [("Host", target.host_header), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
         ("Sec-WebSocket-Key", key), ("Sec-WebSocket-Version", "13"), ("User-Agent", "wsconform")]
    set = set or {}
    h = [(k, set.get(k, v)) for k, v in h if k not in drop]
    return h + list(add)


# ============================================================================ case context

def describe(item):
    kind = item[0]
    if kind in ("text", "binary"):
        return "%s message (%d bytes)" % (kind, len(item[1]))
    if kind == "pong":
        return "pong (%d bytes)" % len(item[1])
    if kind == "close":
        return "close %d" % item[1] if item[1] is not None else "empty close"
    if kind == "eof":
        return "TCP close without a close frame"
    return "nothing within %s" % item[1]


def diff_text(got, want):
    if len(got) != len(want):
        return "got %d bytes, expected %d" % (len(got), len(want))
    i = next(i for i in range(0, len(got), 4096) if got[i:i + 4096] != want[i:i + 4096])
    i = next(j for j in range(i, len(got)) if got[j] != want[j])
    return "payload differs at byte %d" % i


class Ctx:
    """What a case runs with: the connection, frame and message reading, and the expectation
    helpers that turn what the server did into CaseFail / NON-STRICT / INFORMATIONAL notes."""

    def __init__(self, target, timing, limit, max_message=None):
        self.target, self.t = target, timing
        self.max_message = max_message  # messages larger than this must be refused with 1009
        self.limit = limit
        self.deadline = time.monotonic() + limit
        self.conn = None
        self.reader = FrameReader()
        self.items = deque()          # items pushed back by poll()
        self.frag_kind, self.frag = None, []
        self.sent_close = False
        self.close_rcvd = None
        self.eof = False
        self.write_failed = False
        self.aborted = False
        self.notes, self.details = [], []
        self.trace = deque(maxlen=40)

    # -- verdict notes
    def fail(self, msg):
        raise CaseFail(msg)

    def nonstrict(self, msg):
        self.notes.append((NON_STRICT, msg))

    def informational(self, msg):
        self.notes.append((INFORMATIONAL, msg))

    def detail(self, msg):
        self.details.append(msg)

    def remaining(self):
        return self.deadline - time.monotonic()

    def sleep(self, secs):
        secs = min(secs, self.remaining())
        if secs > 0:
            time.sleep(secs)

    def abort(self):
        """Watchdog: unblock a stuck case from another thread."""
        self.aborted = True
        if self.conn:
            self.conn.shutdown()

    def close(self):
        if self.conn:
            self.conn.close()

    # -- opening handshake
    def connect(self):
        self.conn = Conn(self.target)
        try:
            self.conn.connect(min(self.t.response, max(self.remaining(), 0.1)))
        except (OSError, ssl.SSLError) as e:
            self.fail("cannot connect to %s: %s" % (self.target.url, e))

    def request(self, headers, method="GET", version="HTTP/1.1", extra=b""):
        """Send an HTTP request head (plus `extra` bytes in the same write), read the response
        head.  After a 101 the bytes following the head are fed to the frame reader."""
        if not self.conn:
            self.connect()
        lines = ["%s %s %s" % (method, self.target.path, version)]
        lines += ["%s: %s" % (k, v) for k, v in headers]
        self.trace.append("> %s request%s" % (method, " + %d bytes" % len(extra) if extra else ""))
        self.raw_send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + extra)
        buf = bytearray()
        while b"\r\n\r\n" not in buf:
            data = self.conn.recv(min(self.t.response, self.remaining()))
            if data is None:
                self.fail("no complete HTTP response within %.1f s" % self.t.response)
            if not data:
                self.fail("connection closed %s" % (
                    "without an HTTP response" if not buf else "inside the HTTP response head"))
            buf += data
            if len(buf) > 65536:
                self.fail("HTTP response head over 64 KiB")
        head, _, rest = bytes(buf).partition(b"\r\n\r\n")
        resp = Response(head)
        self.trace.append("< %s" % resp.status_line)
        if resp.status == 101:
            self.reader.feed(rest)
        return resp

    def check_upgrade(self, resp, key, allow_ext=False):
        if resp.status != 101:
            self.fail("handshake: expected HTTP 101, got %r" % resp.status_line)
        if (resp.get("upgrade") or "").lower() != "websocket":
            self.fail("handshake: bad Upgrade header %r" % resp.get("upgrade"))
        if "upgrade" not in resp.tokens("connection"):
            self.fail("handshake: Connection header %r lacks 'upgrade'" % resp.get("connection"))
        want = accept_for(key.strip())
        if resp.get("sec-websocket-accept") != want:
            self.fail("handshake: Sec-WebSocket-Accept %r, expected %r" % (
                resp.get("sec-websocket-accept"), want))
        if resp.get("sec-websocket-protocol") is not None:
            self.fail("handshake: server chose subprotocol %r that it does not support"
                      % resp.get("sec-websocket-protocol"))
        ext = resp.get("sec-websocket-extensions")
        if ext is not None and not (allow_ext and ext.lower().startswith("permessage-deflate")):
            self.fail("handshake: server accepted extension %r that was not offered" % ext)

    def open(self, headers=None, extra=b""):
        """Connect and complete a standard opening handshake."""
        key = new_key()
        resp = self.request(headers or ws_headers(self.target, key), extra=extra)
        self.check_upgrade(resp, key)
        return resp

    # -- sending
    def raw_send(self, data, chop=None, pause=0.0):
        if self.write_failed:
            return
        if self.remaining() <= 0:
            self.fail("case time limit (%.0f s) reached while sending" % self.limit)
        try:
            if not self.conn.send(data, self.deadline, chop, pause):
                self.write_failed = True
                self.trace.append("! write failed: connection closed by server")
        except socket.timeout:
            self.fail("write blocked for the whole case time limit (server stopped reading?)")

    def send(self, *frames, how=None, pause=0.0):
        """Write encoded frames: in one write (how=None), one write per frame (how="frame") or
        in writes of `how` bytes (how=1: octet-wise, with OCTET_PAUSE between the writes)."""
        if how == 1 and not pause:
            pause = OCTET_PAUSE
        for f in frames[:8]:
            self.trace.append("> " + describe_wire(f))
        if len(frames) > 8:
            self.trace.append("> ... %d frames in all" % len(frames))
        if any(f[0] & 0xF == CLOSE for f in frames):
            self.sent_close = True
        if how == "frame":
            for f in frames:
                self.raw_send(f)
        else:
            self.raw_send(b"".join(frames), chop=how, pause=pause)

    def send_until_failed(self, frames, how=None):
        """Send a message the server should refuse part-way through, in 64 KiB blocks, and stop
        as soon as the server reacts (a client that only writes could deadlock against a server
        that stopped reading)."""
        data = b"".join(frames)
        self.trace.append("> %d frames, %d bytes in all, until the server reacts"
                          % (len(frames), len(data)))
        for i in range(0, len(data), 65536):
            if self.write_failed or self.poll(0) is not None:
                break
            self.raw_send(data[i:i + 65536], chop=how if isinstance(how, int) else None)

    def message_frames(self, kind_op, payload, frag=None):
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        if not frag or len(payload) <= frag:
            return [frame(kind_op, payload)]
        return [frame(kind_op if i == 0 else CONT, payload[i:i + frag],
                      fin=i + frag >= len(payload)) for i in range(0, len(payload), frag)]

    def send_close(self, code=None, reason=b""):
        self.send(frame(CLOSE, close_payload(code, reason)))

    # -- receiving
    def _on_frame(self, f):
        if self.close_rcvd is not None:
            self.fail("server sent a %s frame after its close frame" % OP_NAMES[f.opcode])
        op, p = f.opcode, f.payload
        self.trace.append("< %s fin=%d (%d bytes)" % (OP_NAMES[op], f.fin, len(p)))
        if op == PING:   # an echo server should not ping; answer it like a client would
            if not self.sent_close:
                self.send(frame(PONG, p))
            return None
        if op == PONG:
            return ("pong", p)
        if op == CLOSE:
            if len(p) == 1:
                self.fail("server close frame has a 1-byte payload")
            code = struct.unpack("!H", p[:2])[0] if p else None
            if code is not None and code not in SENDABLE_CODES and not 3000 <= code <= 4999:
                self.fail("server sent close code %d, which must not be sent" % code)
            if not is_utf8(p[2:]):
                self.fail("server close reason is not valid UTF-8")
            self.close_rcvd = (code, p[2:])
            return ("close", code, p[2:])
        if op == CONT:
            if self.frag_kind is None:
                self.fail("server sent a continuation frame with no message open")
            self.frag.append(p)
        else:
            if self.frag_kind is not None:
                self.fail("server started a new message inside a fragmented one")
            self.frag_kind, self.frag = OP_NAMES[op], [p]
        if not f.fin:
            return None
        kind, data = self.frag_kind, b"".join(self.frag)
        self.frag_kind, self.frag = None, []
        if kind == "text" and not is_utf8(data):
            self.fail("server sent a text message that is not valid UTF-8")
        return (kind, data)

    def next_item(self, idle):
        """The next thing the server did: ("text"|"binary", payload), ("pong", payload),
        ("close", code, reason), ("eof",) or ("timeout", why) after `idle` s without data."""
        if self.items:
            return self.items.popleft()
        end = time.monotonic() + idle
        while True:
            f = self.reader.next()
            if f is not None:
                item = self._on_frame(f)
                if item is not None:
                    return item
                continue
            if self.eof:
                if self.reader.buf:
                    self.trace.append("< TCP close inside a frame")
                return ("eof",)
            now = time.monotonic()
            if now >= self.deadline or self.aborted:
                return ("timeout", "the case time limit (%.0f s)" % self.limit)
            data = self.conn.recv(max(min(end, self.deadline) - now, 0.0005))
            if data is None:
                if time.monotonic() >= end:
                    return ("timeout", "%.1f s" % idle)
                continue
            if not data:
                self.eof = True
                self.trace.append("< TCP close")
                continue
            self.reader.feed(data)
            end = time.monotonic() + idle

    def poll(self, secs):
        """An item that arrives within secs (pushed back for the next read), or None."""
        it = self.next_item(secs)
        if it[0] == "timeout":
            return None
        self.items.append(it)
        return it

    # -- expectations
    def over_limit(self, data):
        if self.max_message is None or len(data) <= self.max_message:
            return False
        self.detail("%d bytes > --max-message %d: close 1009 expected" % (len(data),
                                                                          self.max_message))
        return True

    def expect_message(self, kind_op, payload, what="echo"):
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        kind = OP_NAMES[kind_op]
        it = self.next_item(self.t.response)
        if it[0] == kind and it[1] == payload:
            return
        if it[0] == kind:
            self.fail("%s: %s" % (what, diff_text(it[1], payload)))
        self.fail("expected %s (%s, %d bytes), got %s" % (what, kind, len(payload), describe(it)))

    def expect_pong(self, payload):
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        it = self.next_item(self.t.response)
        if it[0] == "pong" and it[1] == payload:
            return
        if it[0] == "pong":
            self.fail("pong payload %r, expected %r" % (it[1][:40], payload[:40]))
        self.fail("expected pong (%d bytes), got %s" % (len(payload), describe(it)))

    def expect_close(self, accept):
        """The server's close frame, with a code in accept (None = empty close)."""
        it = self.next_item(self.t.response)
        if it[0] == "close":
            if it[1] not in accept:
                self.fail("expected close %s, got %s" % (fmt_codes(accept), describe(it)))
            return
        if it[0] == "eof":
            self.fail("server closed TCP without answering the close frame")
        self.fail("expected close %s, got %s" % (fmt_codes(accept), describe(it)))

    def expect_eof(self):
        """After the closing handshake the server must close TCP within Timing.close."""
        it = self.next_item(self.t.close)
        if it[0] == "eof":
            return
        if it[0] == "timeout":
            self.fail("server did not close TCP within %s after the closing handshake" % it[1])
        self.fail("server sent %s after the closing handshake" % describe(it))

    def finish(self, code=1000, reason=b"", accept=None):
        """Client-initiated clean close: close frame (unless sent), the server answers with a
        close frame echoing the code (or 1000; empty or 1000 for an empty close), closes TCP."""
        if accept is None:
            accept = {code, 1000}
        if not self.sent_close:
            self.send_close(code, reason)
        self.expect_close(accept)
        self.expect_eof()

    def expect_failure(self, code=1002, ok=(), before=()):
        """The server must fail the connection: a close frame with `code` (or one of `ok`), then
        TCP close -- or just a TCP close -- and nothing else.  Messages in `before` (kind, data)
        were sent ahead of the violation and should be echoed first (NON-STRICT if missing)."""
        ok, before = {code, *ok}, list(before)
        want = "close %d or TCP drop" % code
        while True:
            it = self.next_item(self.t.response)
            if before and it[0] == before[0][0] and it[1] == before[0][1]:
                before.pop(0)
                continue
            if it[0] == "eof":
                self.detail("server dropped TCP without a close frame")
                break
            if it[0] == "timeout":
                self.fail("server did not fail the connection (expected %s, got %s)"
                          % (want, describe(it)))
            if it[0] != "close":
                self.fail("expected %s, got %s" % (want, describe(it)))
            c = it[1]
            if c in ok:
                pass
            elif c in FAILURE_CODES or c is None:
                self.nonstrict("expected close %d, got %s" % (code, describe(it)))
            else:
                self.fail("expected %s, got %s" % (want, describe(it)))
            if not self.sent_close:
                self.send_close(c if c in SENDABLE_CODES else None)
            self.expect_eof()
            break
        if before:
            self.nonstrict("server failed the connection before echoing the valid message "
                           "sent ahead of the violation")


def fmt_codes(codes):
    return " or ".join("empty" if c is None else str(c) for c in sorted(codes, key=lambda c: c or 0))


# ============================================================================ case builders

class Case:
    def __init__(self, cid, desc, fn, limit=10.0, slow=False):
        self.id, self.desc, self.fn, self.limit, self.slow = cid, desc, fn, limit, slow

    def matches(self, pattern):
        return (pattern == self.id or self.id.startswith(pattern + ".")
                or fnmatch.fnmatchcase(self.id, pattern))


def echo_case(kind_op, payload, frag=None, how=None):
    """Send one message (fragmented into `frag`-byte frames if given); expect its echo and a
    clean close."""
    def run(c):
        c.open()
        data = payload() if callable(payload) else payload
        if c.over_limit(data):
            c.send_until_failed(c.message_frames(kind_op, data, frag), how=how)
            c.expect_failure(1009)
            return
        c.send(*c.message_frames(kind_op, data, frag), how=how)
        c.expect_message(kind_op, data)
        c.finish()
    return run


def fail_case(frames, code=1002, ok=(), before=(), how=None):
    """Send what frames() returns; the server must fail the connection with `code`."""
    def run(c):
        c.open()
        c.send(*frames(), how=how)
        c.expect_failure(code, ok=ok, before=before)
    return run


def frames_case(frames, expect, how=None):
    """Send what frames() returns; expect the (kind, payload) items in order, then close."""
    def run(c):
        c.open()
        c.send(*frames(), how=how)
        for kind, data in expect:
            if kind == "pong":
                c.expect_pong(data)
            else:
                c.expect_message(KIND_OP[kind], data)
        c.finish()
    return run


HELLO = b"Hello, world!"
BIN8 = b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff"


def cat1():
    sizes = [0, 125, 126, 127, 128, 65535, 65536]
    out = []
    for sub, op, fill, name in ((1, TEXT, b"*", "text"), (2, BINARY, b"\xfe", "binary")):
        for i, n in enumerate(sizes, 1):
            out.append(Case("1.%d.%d" % (sub, i), "%s message, payload %d" % (name, n),
                            echo_case(op, fill * n)))
        out.append(Case("1.%d.8" % sub, "%s message, payload 65536, in 997-byte chops" % name,
                        echo_case(op, fill * 65536, how=997)))
    return out


def ping_case(payload, how=None):
    return frames_case(lambda: [frame(PING, payload)], [("pong", payload)], how=how)


def ten_pings(how=None):
    def run(c):
        c.open()
        payloads = [b"payload-%d" % i for i in range(10)]
        c.send(*[frame(PING, p) for p in payloads], how=how)
        got = []
        while not got or got[-1] != payloads[-1]:
            it = c.next_item(c.t.response)
            if it[0] != "pong":
                c.fail("expected 10 pongs, got %d pongs then %s" % (len(got), describe(it)))
            got.append(it[1])
        it = iter(payloads)
        if not all(p in it for p in got):  # answered pings must be a subsequence, in order
            c.fail("pongs out of order or with wrong payloads: %r" % got)
        if len(got) < len(payloads):
            c.nonstrict("only %d of 10 pings answered (allowed: answer only the latest)"
                        % len(got))
        c.finish()
    return run


def cat2():
    return [
        Case("2.1", "ping without payload", ping_case(b"")),
        Case("2.2", "ping with small text payload", ping_case(HELLO)),
        Case("2.3", "ping with small binary payload", ping_case(BIN8)),
        Case("2.4", "ping with 125-byte binary payload", ping_case(b"\xfe" * 125)),
        Case("2.5", "ping with 126-byte payload (control frame too long)",
             fail_case(lambda: [frame(PING, b"\xfe" * 126)])),
        Case("2.6", "ping with 125-byte payload, octet-wise chops", ping_case(b"\xfe" * 125, how=1)),
        Case("2.7", "unsolicited pong without payload: nothing comes back",
             frames_case(lambda: [frame(PONG)], [])),
        Case("2.8", "unsolicited pong with payload: nothing comes back",
             frames_case(lambda: [frame(PONG, b"unsolicited pong payload")], [])),
        Case("2.9", "unsolicited pong, then ping: only the ping is answered",
             frames_case(lambda: [frame(PONG, b"unsolicited pong payload"),
                                  frame(PING, b"ping payload")], [("pong", b"ping payload")])),
        Case("2.10", "10 pings: 10 pongs", ten_pings()),
        Case("2.11", "10 pings, octet-wise chops: 10 pongs", ten_pings(how=1)),
    ]


def cat3():
    good = ("text", HELLO)
    return [
        Case("3.1", "text with RSV=1", fail_case(lambda: [frame(TEXT, HELLO, rsv=1)])),
        Case("3.2", "text, then text with RSV=2, then ping: echo, fail, no pong",
             fail_case(lambda: [frame(TEXT, HELLO), frame(TEXT, HELLO, rsv=2), frame(PING, HELLO)],
                       before=[good])),
        Case("3.3", "as 3.2 with RSV=3, frame-wise writes",
             fail_case(lambda: [frame(TEXT, HELLO), frame(TEXT, HELLO, rsv=3), frame(PING, HELLO)],
                       before=[good], how="frame")),
        Case("3.4", "as 3.2 with RSV=4, octet-wise writes",
             fail_case(lambda: [frame(TEXT, HELLO), frame(TEXT, HELLO, rsv=4), frame(PING, HELLO)],
                       before=[good], how=1)),
        Case("3.5", "binary with RSV=5", fail_case(lambda: [frame(BINARY, BIN8, rsv=5)])),
        Case("3.6", "ping with RSV=6", fail_case(lambda: [frame(PING, HELLO, rsv=6)])),
        Case("3.7", "close with RSV=7",
             fail_case(lambda: [frame(CLOSE, close_payload(1000), rsv=7)])),
    ]


def cat4():
    out = []
    for sub, ops in ((1, (3, 4, 5, 6, 7)), (2, (11, 12, 13, 14, 15))):
        kind = "non-control" if sub == 1 else "control"
        for i, op in enumerate(ops, 1):
            payload = b"reserved opcode payload" if i in (2, 4, 5) else b""
            desc = "reserved %s opcode %d%s" % (kind, op, " with payload" if payload else "")
            if i <= 2:
                out.append(Case("4.%d.%d" % (sub, i), desc,
                                fail_case(lambda op=op, p=payload: [frame(op, p)])))
            else:
                out.append(Case("4.%d.%d" % (sub, i), "text, " + desc + ", ping: echo, fail, no pong",
                                fail_case(lambda op=op, p=payload: [
                                    frame(TEXT, HELLO), frame(op, p), frame(PING, HELLO)],
                                    before=[("text", HELLO)])))
    return out


def paused_fragments(how):
    """5.19/5.20: 5 fragments in 3 parts 1 s apart, a ping after parts 1 and 2; each pong must
    come while the message is still incomplete, the echo at the end."""
    def run(c):
        c.open()
        frags = [b"fragment%d" % i for i in range(1, 6)]
        parts = [[frame(TEXT, frags[0], fin=False), frame(CONT, frags[1], fin=False),
                  frame(PING, b"pongme 1!")],
                 [frame(CONT, frags[2], fin=False), frame(CONT, frags[3], fin=False),
                  frame(PING, b"pongme 2!")],
                 [frame(CONT, frags[4], fin=True)]]
        for i, part in enumerate(parts):
            t0 = time.monotonic()
            c.send(*part, how=how)
            if i < 2:
                c.expect_pong(b"pongme %d!" % (i + 1))
                c.sleep(t0 + c.t.pause - time.monotonic())
        c.expect_message(TEXT, b"".join(frags))
        c.finish()
    return run


def cat5():
    f12 = lambda op1, op2: lambda: [frame(op1, b"fragment1", fin=False), frame(op2, b"fragment2")]
    tf = lambda: [frame(TEXT, b"fragment1", fin=False), frame(CONT, b"fragment2")]
    tpf = lambda: [frame(TEXT, b"fragment1", fin=False), frame(PING, b"ping payload"),
                   frame(CONT, b"fragment2")]
    tpf_expect = [("pong", b"ping payload"), ("text", b"fragment1fragment2")]
    nothing = lambda fin: lambda: [frame(CONT, b"non-continuation payload", fin=fin),
                                   frame(TEXT, HELLO)]
    chops = ((None, "in one write"), ("frame", "frame-wise writes"), (1, "octet-wise writes"))
    out = [Case("5.1", "ping in 2 fragments", fail_case(f12(PING, CONT))),
           Case("5.2", "pong in 2 fragments", fail_case(f12(PONG, CONT)))]
    for i, (how, hd) in enumerate(chops):
        out.append(Case("5.%d" % (3 + i), "text in 2 fragments, " + hd,
                        frames_case(tf, [("text", b"fragment1fragment2")], how=how)))
    for i, (how, hd) in enumerate(chops):
        out.append(Case("5.%d" % (6 + i), "text in 2 fragments with a ping between, " + hd,
                        frames_case(tpf, tpf_expect, how=how)))
    for i, (how, hd) in enumerate(chops):
        out.append(Case("5.%d" % (9 + i), "continuation (FIN=1) with nothing to continue, " + hd,
                        fail_case(nothing(True), how=how)))
    for i, (how, hd) in enumerate(chops):
        out.append(Case("5.%d" % (12 + i), "continuation (FIN=0) with nothing to continue, " + hd,
                        fail_case(nothing(False), how=how)))
    out.append(Case("5.15", "2-fragment text, stray continuation, text",
                    fail_case(lambda: [frame(TEXT, b"fragment1", fin=False),
                                       frame(CONT, b"fragment2"),
                                       frame(CONT, b"fragment3", fin=False),
                                       frame(TEXT, b"fragment4")],
                              before=[("text", b"fragment1fragment2")])))
    for cid, fin in (("5.16", False), ("5.17", True)):
        out.append(Case(cid, "2x: continuation (FIN=%d) with nothing to continue, text fragment, "
                        "final continuation" % fin,
                        fail_case(lambda fin=fin: [frame(CONT, b"fragment1", fin=fin),
                                                   frame(TEXT, b"fragment2", fin=False),
                                                   frame(CONT, b"fragment3")] * 2)))
    out.append(Case("5.18", "2 fragments both with opcode text", fail_case(f12(TEXT, TEXT))))
    out.append(Case("5.19", "5 fragments 1 s apart with pings between: pongs while incomplete",
                    paused_fragments(None), slow=True))
    out.append(Case("5.20", "as 5.19, frame-wise writes", paused_fragments("frame"), slow=True))
    return out


KOSME = bytes.fromhex("ceba e1bdb9 cf83 cebc ceb5")      # Greek "kosme", Kuhn's section 1
HELLO_UTF8 = "Hello-\u00b5@\u00df\u00f6\u00e4\u00fc\u00e0\u00e1-UTF-8!!".encode("utf-8")
BAD_UTF8 = KOSME + b"\xed\xa0\x80" + b"edited"            # a lone surrogate in the middle


def failfast_case(parts, single_frame):
    """6.4.x: invalid text in 3 parts 1 s apart; part 2 makes it invalid; the server must fail
    before part 3 (failing only at the end is NON-STRICT)."""
    def run(c):
        c.open()
        if single_frame:   # one frame, its payload written in 3 chops
            whole = frame(TEXT, b"".join(parts))
            head = len(whole) - sum(map(len, parts))
            cut1, cut2 = head + len(parts[0]), head + len(parts[0]) + len(parts[1])
            chunks = [whole[:cut1], whole[cut1:cut2], whole[cut2:]]
        else:
            chunks = [frame(TEXT, parts[0], fin=False), frame(CONT, parts[1], fin=False),
                      frame(CONT, parts[2])]
        c.trace.append("> %s in 3 parts, %.1f s apart" % (
            "one text frame" if single_frame else "3 text fragments", c.t.pause))
        c.raw_send(chunks[0])
        it = c.poll(c.t.pause)
        if it is not None:
            c.fail("server reacted to the valid first part with %s" % describe(it))
        c.raw_send(chunks[1])
        if c.poll(c.t.pause) is None:
            c.raw_send(chunks[2])
            c.nonstrict("server failed only once the message was complete, not as soon as the "
                        "invalid bytes arrived (fail-fast)")
        c.expect_failure(1007)
    return run


def kuhn_groups():
    """Markus Kuhn's UTF-8 decoder stress test (UTF-8-test.txt), in 19 groups: 6.5 ... 6.23."""
    hx = lambda *s: [bytes.fromhex(x) for x in s]
    sur = lambda *cps: b"".join(chr(cp).encode("utf-8", "surrogatepass") for cp in cps)
    missing = hx("c0", "e080", "f08080", "f8808080", "fc80808080",
                 "df", "efbf", "f7bfbf", "fbbfbfbf", "fdbfbfbfbf")
    hi, lo = (0xD800, 0xDB7F, 0xDB80, 0xDBFF), (0xDC00, 0xDFFF)
    return [
        ("some valid UTF-8", [KOSME, HELLO_UTF8, "a\u00a2\u20ac\U0001d11e".encode(),
                              b"nul \x00 inside", "\U0001f600\U0001f601".encode()]),
        ("prefixes of a valid multi-byte string", [KOSME[:i] for i in range(1, len(KOSME) + 1)]),
        ("first possible sequence of 1-4 bytes", hx("00", "c280", "e0a080", "f0908080")),
        ("first possible sequence of 5/6 bytes", hx("f888808080", "fc8480808080")),
        ("last possible sequence of 1-4 bytes", hx("7f", "dfbf", "efbfbf", "f48fbfbf")),
        ("last possible sequence of 4/5/6 bytes", hx("f7bfbfbf", "fbbfbfbfbf", "fdbfbfbfbfbf")),
        ("other boundary conditions", hx("ed9fbf", "ee8080", "efbfbd", "f48fbfbf", "f4908080")),
        ("unexpected continuation bytes", hx("80", "bf", "80bf", "80bf80", "80bf80bf",
                                             "80bf80bf80", "80bf80bf80bf")
         + [bytes(range(0x80, 0xC0))]),
        ("lonely start bytes each followed by a space",
         [bytes(b for i in range(lo_, hi_ + 1) for b in (i, 0x20))
          for lo_, hi_ in ((0xC0, 0xDF), (0xE0, 0xEF), (0xF0, 0xF7), (0xF8, 0xFB), (0xFC, 0xFD))]),
        ("sequences missing their last continuation byte", missing),
        ("concatenated incomplete sequences", [b"".join(missing)]),
        ("impossible bytes FE/FF", hx("fe", "ff", "fefeffff")),
        ("overlong '/'", hx("c0af", "e080af", "f08080af", "f8808080af", "fc80808080af")),
        ("maximum overlong sequences", hx("c1bf", "e09fbf", "f08fbfbf", "f887bfbfbf",
                                          "fc83bfbfbfbf")),
        ("overlong NUL", hx("c080", "e08080", "f0808080", "f880808080", "fc8080808080")),
        ("single UTF-16 surrogates",
         [sur(cp) for cp in (0xD800, 0xDB7F, 0xDB80, 0xDBFF, 0xDC00, 0xDF80, 0xDFFF)]),
        ("paired UTF-16 surrogates", [sur(h, l) for h in hi for l in lo]),
        ("non-characters U+xFFFE/U+xFFFF", [chr(p * 0x10000 + c).encode()
                                           for p in range(17) for c in (0xFFFE, 0xFFFF)]),
        ("Unicode specials U+FFF9..U+FFFF", [chr(c).encode() for c in range(0xFFF9, 0x10000)]),
    ]


def utf8_case(data):
    if is_utf8(data):
        return echo_case(TEXT, data)
    return fail_case(lambda: [frame(TEXT, data)], code=1007)


def cat6():
    out = [
        Case("6.1.1", "empty text message", echo_case(TEXT, b"")),
        Case("6.1.2", "text in 3 empty fragments",
             frames_case(lambda: [frame(TEXT, b"", fin=False), frame(CONT, b"", fin=False),
                                  frame(CONT, b"")], [("text", b"")])),
        Case("6.1.3", "text in 3 fragments, first and last empty",
             frames_case(lambda: [frame(TEXT, b"", fin=False),
                                  frame(CONT, b"middle frame payload", fin=False),
                                  frame(CONT, b"")], [("text", b"middle frame payload")])),
        Case("6.2.1", "valid UTF-8 in one frame", echo_case(TEXT, HELLO_UTF8)),
        Case("6.2.2", "valid UTF-8 in 2 fragments split on a code point boundary",
             frames_case(lambda: [frame(TEXT, HELLO_UTF8[:13], fin=False),
                                  frame(CONT, HELLO_UTF8[13:])], [("text", HELLO_UTF8)])),
        Case("6.2.3", "valid UTF-8 in 1-byte fragments (split inside code points)",
             frames_case(lambda: _octet_frames(HELLO_UTF8), [("text", HELLO_UTF8)])),
        Case("6.2.4", "valid UTF-8 'kosme' in 1-byte fragments",
             frames_case(lambda: _octet_frames(KOSME), [("text", KOSME)])),
        Case("6.3.1", "invalid UTF-8 in one frame",
             fail_case(lambda: [frame(TEXT, BAD_UTF8)], code=1007)),
        Case("6.3.2", "invalid UTF-8 in 1-byte fragments",
             fail_case(lambda: _octet_frames(BAD_UTF8), code=1007)),
    ]
    p110000 = [KOSME, b"\xf4\x90\x80\x80", b"edited"]          # part 2 encodes U+110000
    pf4 = [KOSME + b"\xf4", b"\x90", b"\x80\x80edited"]        # F4 90: invalid at the 2nd part
    out += [
        Case("6.4.1", "fail-fast: 3 fragments 1 s apart, the 2nd encodes U+110000",
             failfast_case(p110000, False), slow=True),
        Case("6.4.2", "fail-fast: 3 fragments 1 s apart, the 2nd is the byte after F4",
             failfast_case(pf4, False), slow=True),
        Case("6.4.3", "fail-fast: one frame in 3 chops 1 s apart, chop 2 encodes U+110000",
             failfast_case(p110000, True), slow=True),
        Case("6.4.4", "fail-fast: one frame in 3 chops 1 s apart, chop 2 is the byte after F4",
             failfast_case(pf4, True), slow=True),
    ]
    for g, (title, seqs) in enumerate(kuhn_groups(), 5):
        for i, data in enumerate(seqs, 1):
            valid = is_utf8(data)
            desc = "%s: %s%s -> %s" % (title, data[:12].hex(), "..." if len(data) > 12 else "",
                                       "echo" if valid else "1007")
            out.append(Case("6.%d.%d" % (g, i), desc, utf8_case(data)))
    return out


def _octet_frames(data):
    """A text message in 1-byte fragments."""
    n = len(data)
    return [frame(TEXT if i == 0 else CONT, data[i:i + 1], fin=i == n - 1) for i in range(n)]


def clean_close_case(frames, expect=(), accept=None):
    """Send frames() (which end with / contain the client close); expect the echoes in `expect`,
    then the server's close (code in accept) and TCP close."""
    def run(c):
        c.open()
        c.send(*frames())
        for kind, data in expect:
            c.expect_message(KIND_OP[kind], data)
        c.expect_close(accept or {1000})
        c.expect_eof()
    return run


def close_256k_then_ping(c):
    """7.1.6: whether the 256 KiB echo precedes the close is implementation-defined."""
    big = b"BAsd7&jh23" * 26 * 1024
    c.open()
    if c.over_limit(big):
        c.send_until_failed([frame(TEXT, big), frame(CLOSE, close_payload(1000))])
        c.expect_failure(1009)
        return
    c.send(frame(TEXT, big), frame(CLOSE, close_payload(1000)), frame(PING, HELLO))
    it = c.next_item(c.t.response)
    if it[0] == "text":
        if it[1] != big:
            c.fail("echo: " + diff_text(it[1], big))
    else:
        c.items.append(it)
        c.informational("server answered the close without echoing the message sent before it")
    c.expect_close({1000})
    c.expect_eof()


def close_informational(code):
    def run(c):
        c.open()
        c.send_close(code)
        it = c.next_item(c.t.response)
        c.informational("close code %d answered with %s" % (code, describe(it)))
        if it[0] == "close":
            try:
                c.expect_eof()
            except CaseFail as e:
                c.informational(str(e))
    return run


def cat7():
    cl = lambda code=1000, reason=b"": frame(CLOSE, close_payload(code, reason))
    out = [
        Case("7.1.1", "text then close: echo, clean close",
             clean_close_case(lambda: [frame(TEXT, "Hello World!"), cl()],
                              [("text", b"Hello World!")])),
        Case("7.1.2", "two closes: the second is ignored", clean_close_case(lambda: [cl(), cl()])),
        Case("7.1.3", "ping after close: no pong",
             clean_close_case(lambda: [cl(), frame(PING, HELLO)])),
        Case("7.1.4", "text after close: not echoed",
             clean_close_case(lambda: [cl(), frame(TEXT, HELLO)])),
        Case("7.1.5", "fragment, close, final fragment: clean close, no echo",
             clean_close_case(lambda: [frame(TEXT, b"fragment1", fin=False), cl(),
                                       frame(CONT, b"fragment2")])),
        Case("7.1.6", "256 KiB text, close, ping (echo order implementation-defined)",
             close_256k_then_ping),
        Case("7.3.1", "close with empty payload",
             clean_close_case(lambda: [frame(CLOSE)], accept={None, 1000})),
        Case("7.3.2", "close with a 1-byte payload", fail_case(lambda: [frame(CLOSE, b"a")])),
        Case("7.3.3", "close 1000 without reason", clean_close_case(lambda: [cl()])),
        Case("7.3.4", "close 1000 with reason", clean_close_case(lambda: [cl(1000, "Hello World!")])),
        Case("7.3.5", "close 1000 with a 123-byte reason (125 in all)",
             clean_close_case(lambda: [cl(1000, b"*" * 123)])),
        Case("7.3.6", "close 1000 with a 124-byte reason (control frame too long)",
             fail_case(lambda: [cl(1000, b"*" * 124)])),
        Case("7.5.1", "close 1000 with an invalid UTF-8 reason",
             fail_case(lambda: [cl(1000, BAD_UTF8)], code=1007, ok=(1002,))),
    ]
    valid = (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999)
    for i, code in enumerate(valid, 1):
        out.append(Case("7.7.%d" % i, "close with valid code %d: echoed or 1000" % code,
                        clean_close_case(lambda code=code: [cl(code)], accept={code, 1000})))
    for i, code in enumerate((0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999), 1):
        out.append(Case("7.9.%d" % i, "close with invalid code %d: 1002 or drop" % code,
                        fail_case(lambda code=code: [cl(code)])))
    for i, code in enumerate((5000, 65535), 1):
        out.append(Case("7.13.%d" % i, "close with code %d (informational)" % code,
                        close_informational(code)))
    return out


def text_payload(n):
    return (b"BAsd7&jh23" * (n // 10 + 1))[:n]


def bin_payload(n):
    return (bytes(range(256)) * (n // 256 + 1))[:n]


def round_trips(kind_op, size, count):
    def run(c):
        c.open()
        data = (text_payload if kind_op == TEXT else bin_payload)(size)
        t0 = time.monotonic()
        for _ in range(count):
            c.send(frame(kind_op, data))
            if c.over_limit(data):
                c.expect_failure(1009)
                return
            c.expect_message(kind_op, data)
        dt = time.monotonic() - t0
        c.detail("%d round trips of %d bytes in %.3f s (%.2f ms each)"
                 % (count, size, dt, 1000 * dt / count))
        c.finish()
    return run


def cat9(scale):
    """Limits/performance; message sizes and round-trip counts multiplied by `scale`."""
    sz = lambda n: max(1, int(n * scale))
    limit = lambda nbytes: 10.0 + 4.0 * nbytes / 2 ** 20   # base seconds, 4 s per MiB
    K, M = 1024, 2 ** 20
    out = []
    for sub, op, mk, name in ((1, TEXT, text_payload, "text"), (2, BINARY, bin_payload, "binary")):
        for i, n in enumerate((64 * K, 256 * K, M, 4 * M, 8 * M, 16 * M), 1):
            n = sz(n)
            out.append(Case("9.%d.%d" % (sub, i), "%s message of %d bytes" % (name, n),
                            echo_case(op, lambda n=n, mk=mk: mk(n)), limit=limit(n)))
    for sub, op, mk, name in ((3, TEXT, text_payload, "text"), (4, BINARY, bin_payload, "binary")):
        n = sz(4 * M)
        for i, fs in enumerate((64, 256, K, 4 * K, 16 * K, 64 * K, 256 * K, M, 4 * M), 1):
            fs = min(fs, n)
            out.append(Case("9.%d.%d" % (sub, i), "%s message of %d bytes in %d-byte fragments"
                            % (name, n, fs),
                            echo_case(op, lambda n=n, mk=mk: mk(n), frag=fs), limit=limit(n)))
    for sub, op, mk, name in ((5, TEXT, text_payload, "text"), (6, BINARY, bin_payload, "binary")):
        n = sz(M)
        for i, chop in enumerate((64, 128, 256, 512, 1024, 2048), 1):
            out.append(Case("9.%d.%d" % (sub, i), "%s message of %d bytes in %d-byte TCP chops"
                            % (name, n, chop),
                            echo_case(op, lambda n=n, mk=mk: mk(n), how=chop), limit=limit(n)))
    count = max(1, int(round(1000 * scale)))
    for sub, op, name in ((7, TEXT, "text"), (8, BINARY, "binary")):
        for i, size in enumerate((0, 16, 64, 256, 1024, 4096), 1):
            out.append(Case("9.%d.%d" % (sub, i), "%d round trips of %d-byte %s messages"
                            % (count, size, name), round_trips(op, size, count),
                            limit=limit(2 * count * size) + count * 0.05))
    return out


def cat10():
    return [Case("10.1.1", "65536-byte text sent auto-fragmented in 1300-byte frames",
                 echo_case(TEXT, b"*" * 65536, frag=1300))]


# -- category 0: opening handshake (RFC 6455 4.2.1 / 4.2.2; not part of Autobahn)

def hs_reject(make, want, method="GET", version="HTTP/1.1", check=None):
    """A handshake the server must refuse with an HTTP status in `want` (another 4xx is
    NON-STRICT, anything else -- 101 above all -- FAILED)."""
    def run(c):
        resp = c.request(make(c.target, new_key()), method=method, version=version)
        s, names = resp.status, "/".join(map(str, want)) if len(want) < 5 else "4xx"
        if s not in want:
            if 400 <= s < 500:
                c.nonstrict("expected HTTP %s, got %d" % (names, s))
            else:
                c.fail("expected HTTP %s, got %r" % (names, resp.status_line))
        if check:
            check(c, resp)
    return run


def need_version_header(c, resp):
    if "13" not in resp.tokens("sec-websocket-version"):
        c.fail("the refusal lacks the header 'Sec-WebSocket-Version: 13' (RFC 6455 4.2.2)")


def hs_accept(make, pipelined=False, pmd=False):
    """A handshake the server must accept; then a text message is echoed and closed cleanly."""
    def run(c):
        key = new_key()
        msg = b"pipelined with the handshake" if pipelined else HELLO
        resp = c.request(make(c.target, key), extra=frame(TEXT, msg) if pipelined else b"")
        c.check_upgrade(resp, key, allow_ext=pmd)
        if pmd and resp.get("sec-websocket-extensions"):
            c.informational("server negotiated %r (not exercised here)"
                            % resp.get("sec-websocket-extensions"))
            c.finish()
            return
        if not pipelined:
            c.send(frame(TEXT, msg))
        c.expect_message(TEXT, msg)
        c.finish()
    return run


def cat0():
    any4xx = tuple(range(400, 500))
    case_hdrs = lambda names, up, conn: lambda t, k: [
        (names("Host"), t.host_header), (names("Upgrade"), up), (names("Connection"), conn),
        (names("Sec-WebSocket-Key"), k), (names("Sec-WebSocket-Version"), "13")]
    return [
        Case("0.1", "valid handshake: 101, Sec-WebSocket-Accept, echo",
             hs_accept(lambda t, k: ws_headers(t, k))),
        Case("0.2", "missing Upgrade: 400 or 426",
             hs_reject(lambda t, k: ws_headers(t, k, drop=("Upgrade",)), (400, 426))),
        Case("0.3", "Connection without the upgrade token: 400 or 426",
             hs_reject(lambda t, k: ws_headers(t, k, set={"Connection": "keep-alive"}),
                       (400, 426))),
        Case("0.4", "missing Sec-WebSocket-Key: 400",
             hs_reject(lambda t, k: ws_headers(t, k, drop=("Sec-WebSocket-Key",)), (400,))),
        Case("0.5", "Sec-WebSocket-Key of 15 bytes: 400",
             hs_reject(lambda t, k: ws_headers(t, k, set={
                 "Sec-WebSocket-Key": base64.b64encode(os.urandom(15)).decode()}), (400,))),
        Case("0.6", "Sec-WebSocket-Key not base64: 400",
             hs_reject(lambda t, k: ws_headers(t, k, set={
                 "Sec-WebSocket-Key": "not*a*valid*key!!!!!!!=="}), (400,))),
        Case("0.7", "Sec-WebSocket-Version 8: 426 with 'Sec-WebSocket-Version: 13'",
             hs_reject(lambda t, k: ws_headers(t, k, set={"Sec-WebSocket-Version": "8"}), (426,),
                       check=need_version_header)),
        Case("0.8", "missing Sec-WebSocket-Version: 400 or 426",
             hs_reject(lambda t, k: ws_headers(t, k, drop=("Sec-WebSocket-Version",)),
                       (400, 426))),
        Case("0.9", "POST upgrade request: 4xx (405)",
             hs_reject(lambda t, k: ws_headers(t, k, add=[("Content-Length", "0")]), any4xx,
                       method="POST")),
        Case("0.10", "HTTP/1.0 upgrade request: 4xx",
             hs_reject(lambda t, k: ws_headers(t, k), any4xx, version="HTTP/1.0")),
        Case("0.11", "'Connection: keep-alive, Upgrade': 101",
             hs_accept(lambda t, k: ws_headers(t, k, set={"Connection": "keep-alive, Upgrade"}))),
        Case("0.12", "Sec-WebSocket-Key with surrounding spaces: 101",
             hs_accept(lambda t, k: ws_headers(t, k, set={"Sec-WebSocket-Key": "  %s  " % k}))),
        Case("0.13", "text frame in the same write as the handshake: echoed",
             hs_accept(lambda t, k: ws_headers(t, k), pipelined=True)),
        Case("0.14", "unknown subprotocol offered: 101 without Sec-WebSocket-Protocol",
             hs_accept(lambda t, k: ws_headers(t, k, add=[
                 ("Sec-WebSocket-Protocol", "x-wsconform-bogus")]))),
        Case("0.15", "unknown extension offered: 101 without Sec-WebSocket-Extensions",
             hs_accept(lambda t, k: ws_headers(t, k, add=[
                 ("Sec-WebSocket-Extensions", "x-wsconform-bogus; foo=1")]))),
        Case("0.16", "permessage-deflate offered: 101 (declined, or informational)",
             hs_accept(lambda t, k: ws_headers(t, k, add=[
                 ("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")]),
                 pmd=True)),
        Case("0.17", "lower-case header names: 101",
             hs_accept(case_hdrs(str.lower, "websocket", "upgrade"))),
        Case("0.18", "upper-case header names, mixed-case values: 101",
             hs_accept(case_hdrs(str.upper, "WebSocket", "UpGrade"))),
    ]


def build_cases(scale):
    return cat0() + cat1() + cat2() + cat3() + cat4() + cat5() + cat6() + cat7() \
        + cat9(scale) + cat10()


# ============================================================================ runner

class Result:
    def __init__(self, verdict, reason, details, trace, elapsed):
        self.verdict, self.reason, self.details = verdict, reason, details
        self.trace, self.elapsed = trace, elapsed


def run_case(case, target, timing, max_message):
    limit = case.limit * timing.scale
    c = Ctx(target, timing, limit, max_message)
    watchdog = threading.Timer(limit + 5.0, c.abort)
    watchdog.daemon = True
    watchdog.start()
    t0 = time.monotonic()
    verdict, reason = OK, ""
    try:
        case.fn(c)
        for level in (NON_STRICT, INFORMATIONAL):
            msgs = [m for lv, m in c.notes if lv == level]
            if msgs:
                verdict, reason = level, "; ".join(msgs)
                break
    except CaseFail as e:
        verdict, reason = FAILED, str(e)
    except Exception as e:  # a driver bug must show, not hang or kill the run
        verdict, reason = FAILED, "driver error: %r" % e
        c.details.append(traceback.format_exc())
    finally:
        watchdog.cancel()
        c.close()
    if c.aborted and verdict != FAILED:
        verdict, reason = FAILED, "case exceeded its time limit (%.0f s)" % limit
    return Result(verdict, reason, c.details, list(c.trace), time.monotonic() - t0)


def preflight(target, timing):
    """None if the server answers an upgrade request with any HTTP response, else why not
    (so that a server that is down costs one timeout, not one per case)."""
    c = Ctx(target, timing, timing.response + 1.0)
    try:
        c.request(ws_headers(target, new_key()))
        return None
    except CaseFail as e:
        return str(e)
    finally:
        c.close()


def select_cases(cases, include, exclude):
    inc = [p.strip() for p in include.split(",") if p.strip()]
    exc = [p.strip() for p in (exclude or "").split(",") if p.strip()]
    return [c for c in cases if any(c.matches(p) for p in inc)
            and not any(c.matches(p) for p in exc)]


def report(num, case, res, verbose):
    head = "%s %d - %s %s" % ("not ok" if res.verdict == FAILED else "ok", num, case.id, case.desc)
    if res.verdict == FAILED:
        line = "%s: %s" % (head, res.reason)
    elif res.verdict != OK:
        line = "%s # %s: %s" % (head, res.verdict, res.reason)
    else:
        line = head
    out = [line]
    if verbose:
        out.append("#   %.3f s%s" % (res.elapsed, "".join("; " + d.rstrip() for d in res.details)))
        if res.verdict == FAILED:
            out += ["#     " + t for t in res.trace]
    print("\n".join(out), flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description="WebSocket server conformance driver "
                                 "(Autobahn|Testsuite-equivalent, categories 0-7, 9, 10)")
    ap.add_argument("--url", action="append", help="ws:// or wss:// URL of an echo endpoint "
                    "(repeat to test several)")
    ap.add_argument("--insecure", action="store_true", help="do not verify TLS certificates")
    ap.add_argument("--cases", default=DEFAULT_CASES,
                    help="comma-separated categories, case ids or globs (default %(default)s)")
    ap.add_argument("--exclude", default="", help="comma-separated ids or globs to skip")
    ap.add_argument("--scale", type=float, default=1 / 16,
                    help="multiplier of the 9.x message sizes and counts (default 1/16; 1 = "
                    "Autobahn's full sizes)")
    ap.add_argument("--time-scale", type=float, default=1.0,
                    help="multiplier of every timeout and pause (e.g. 10 under valgrind)")
    ap.add_argument("--max-message", type=int, metavar="BYTES",
                    help="the server's message size limit: echo cases with a larger message "
                    "expect close 1009 instead of the echo")
    ap.add_argument("--jobs", type=int, default=4, help="cases run concurrently (default 4)")
    ap.add_argument("--verbose", action="store_true", help="timings, details and traces")
    ap.add_argument("--list", action="store_true", help="list the selected cases and exit")
    args = ap.parse_args(argv)

    cases = select_cases(build_cases(args.scale), args.cases, args.exclude)
    if args.list:
        for c in cases:
            print("%-8s %s" % (c.id, c.desc))
        print("# %d cases" % len(cases))
        return 0
    if not args.url:
        ap.error("--url is required")
    try:
        targets = [Target(u, args.insecure) for u in args.url]
    except ValueError as e:
        ap.error(str(e))
    if not cases:
        ap.error("no case selected")
    timing = Timing(args.time_scale)

    t0 = time.monotonic()
    counts = {OK: 0, NON_STRICT: 0, INFORMATIONAL: 0, FAILED: 0}
    print("1..%d" % (len(cases) * len(targets)), flush=True)
    num = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for target in targets:
            print("# target %s" % target.url, flush=True)
            why = preflight(target, timing)
            if why:
                print("Bail out! %s" % why, flush=True)
                return 2
            futures = {}
            # the cases with 1 s pauses first, so they overlap with everything else
            for case in sorted(cases, key=lambda c: not c.slow):
                futures[case.id] = pool.submit(run_case, case, target, timing, args.max_message)
            for case in cases:
                res = futures[case.id].result()
                num += 1
                counts[res.verdict] += 1
                report(num, case, res, args.verbose)
    total = sum(counts.values())
    print("passed %d/%d (%d non-strict, %d informational) in %.1f s" % (
        total - counts[FAILED], total, counts[NON_STRICT], counts[INFORMATIONAL],
        time.monotonic() - t0), flush=True)
    return 1 if counts[FAILED] else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        os._exit(130)        # do not wait for the worker threads
    except BrokenPipeError:  # e.g. piped into head
        os._exit(1)
