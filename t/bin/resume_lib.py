"""Helpers of the resume, limit and reload tests (t/064, t/065, t/066).

    from resume_lib import *

Built on t/bin/fanout_lib.py (tokens, HTTP, admin calls, Session with its
gap-free "s" check, World and its model of who gets which event):

* RSession: a Session that can resume (op 6), and that checks op 9, close
  frames (code and reason) and that nothing else arrives;
* resume(): a new connection that resumes an old Session's session;
* pid_of() / session_of(): what /admin/status?sessions=1 says of a session;
* handshake(): a raw WebSocket upgrade, for answers other than 101.

Everything is loopback; every wait has a timeout.
"""

import json
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fanout_lib import (  # noqa: E402,F401
    ADMIN_SECRET, BPORT, GUILDS, GUILD_MEMBERS, GUILD_MESSAGES,
    GUILD_MESSAGE_TYPING, MESSAGE_CONTENT, PORT, Closed, Fail, Session,
    World, admin, admin_guild, admin_member, admin_user, check, http,
    rest_message, run, status_sessions, token, wait_until)

FULL = GUILDS | GUILD_MEMBERS | GUILD_MESSAGES | GUILD_MESSAGE_TYPING \
    | MESSAGE_CONTENT

INVALID = {"op": 9, "d": False, "s": None, "t": None}
RESUMED_D = {"_trace": ["gateway"]}
TAKEN_OVER = "Not authenticated: session resumed on another connection"


class RSession(Session):
    """A gateway connection that resumes, or is expected to be refused.
    sizes: s -> payload length of every dispatch frame received."""

    def __init__(self, *a, **kw):
        Session.__init__(self, *a, **kw)
        self.sizes = {}
        recv = self.c.recv

        def recording():
            f = recv()
            if f is not None and f[0] == 1 \
                    and f[1].startswith(b'{"op":0,"s":'):
                n = f[1][len(b'{"op":0,"s":'):].split(b",", 1)[0]
                self.sizes[int(n)] = len(f[1])
            return f
        self.c.recv = recording

    def hello(self, timeout=5.0):
        m = self.recv(timeout)
        check(m is not None and m["op"] == 10, "%r: no Hello" % self, m)
        return m

    def like(self, old):
        """the user, intents and shard of an older connection's session"""
        self.user, self.intents, self.shard = old.user, old.intents, old.shard
        self.large_threshold = old.large_threshold
        self.ready = old.ready
        return self

    def send_resume(self, sid, seq, tok):
        self.send({"op": 6, "d": {"token": tok, "session_id": sid,
                                  "seq": seq}})

    def next_message(self, timeout=5.0, what="a message"):
        """the next message other than a heartbeat ACK; Fail on a close"""
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            try:
                m = self.recv(max(left, 0.001))
            except Closed as e:
                raise Fail("%r closed (%s) while waiting for %s"
                           % (self, e, what))
            check(m is not None, "%r: no %s within %.1f s"
                  % (self, what, timeout))
            if m["op"] == 11:
                continue
            return m

    def expect_invalid(self, timeout=5.0):
        """op 9 d:false and nothing after it; the socket stays open"""
        m = self.next_message(timeout, "op 9")
        check(m == INVALID, "%r: %s instead of op 9 d:false" % (
            self, json.dumps(m)[:300]), m)
        return m

    def expect_close(self, code, reason=None, timeout=5.0, echo=None):
        """the server's close frame, with nothing before it; our echo (the
        same code, or echo), then EOF with nothing after it.  reason:
        exact text, a compiled regex, or None (any)."""
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            check(left > 0, "%r: no close %s within %.1f s"
                  % (self, code, timeout))
            self.c.s.settimeout(left)
            try:
                f = self.c.recv()
            except socket.timeout:
                continue
            except ConnectionResetError:
                f = None
            finally:
                self.c.s.settimeout(None)
            check(f is not None, "%r: EOF instead of close %s" % (self, code))
            if f[0] == 9:
                self._send_frame(0xA, f[1])
                continue
            if f[0] == 8:
                break
            msg = f[1][:300].decode(errors="replace")
            if f[0] == 1 and msg.startswith('{"op":11,'):
                continue
            raise Fail("%r: a frame before the expected close %s: %s"
                       % (self, code, msg))
        got = struct.unpack("!H", f[1][:2])[0] if len(f[1]) >= 2 else None
        why = f[1][2:].decode(errors="replace")
        check(got == code, "%r: closed with %s %r, expected %s"
              % (self, got, why, code))
        if reason is not None:
            ok = (reason.search(why) if hasattr(reason, "search")
                  else why == reason)
            check(ok, "%r: close reason %r, expected %r" % (self, why,
                                                           reason))
        try:
            self._send_frame(8, struct.pack("!H", echo or code))
        except OSError:
            pass
        self.expect_eof(timeout)
        self.closed = True
        return got, why

    def expect_eof(self, timeout=5.0):
        """no more bytes, then EOF (or a reset)"""
        self.c.s.settimeout(timeout)
        try:
            extra = self.c.buf
            while True:
                d = self.c.s.recv(65536)
                if not d:
                    break
                extra += d
        except socket.timeout:
            raise Fail("%r: the connection is still open" % self)
        except ConnectionResetError:
            pass
        finally:
            try:
                self.c.s.settimeout(None)
            except OSError:
                pass
        self.c.buf = b""
        check(not extra, "%r: %d more bytes after the close: %r"
              % (self, len(extra), extra[:200]))
        self.c.s.close()

    def expect_resumed(self, timeout=5.0):
        d = self.expect("RESUMED", timeout)
        check(d == RESUMED_D, "%r: RESUMED d is %s" % (self, json.dumps(d)))
        return self.s

    def alive(self):
        """heartbeat ACKed, nothing else pending"""
        self.sync()
        check(not self.pending, "%r: unexpected %s" % (
            self, self.pending[:1]))


def resume(old, port=None, seq="last", tok=None, sid=None, name=None):
    """a new connection that sends op 6 for old's session; its s starts at
    the seq sent, so what it gets next is checked to go on from there"""
    r = RSession(port or old.port, name or (old.name + "'"))
    r.like(old)
    r.hello()
    if seq == "last":
        seq = old.s
    r.s = seq if isinstance(seq, int) and not isinstance(seq, bool) else 0
    r.send_resume(sid if sid is not None else old.ready["session_id"], seq,
                  tok if tok is not None else token(old.user))
    return r


def refused(old, port=None, **kw):
    """a resume that must get op 9 d:false and nothing of the session;
    the socket stays open (answers a heartbeat), and is then closed"""
    r = resume(old, port, **kw)
    r.expect_invalid()
    r.expect_nothing(0.2)
    r.alive()
    r.drop()


def session_of(sid):
    return status_sessions()[0].get(sid)


def pid_of(sid):
    s = session_of(sid)
    check(s is not None, "session %s is not listed" % sid)
    return s["pid"] if s["attached"] else None


def wait_detached(sid, timeout=5.0):
    def detached():
        s = session_of(sid)
        check(s is not None, "session %s is gone" % sid)
        return not s["attached"]
    wait_until(detached, timeout, "session %s to be detached" % sid)


def wait_gone(sid, timeout=5.0):
    wait_until(lambda: session_of(sid) is None, timeout,
               "session %s to end" % sid)


def collect(s, n, timeout=5.0):
    """the next n dispatches of s (s checked gap-free)"""
    return [s.dispatch(timeout, "dispatch %d of %d" % (i + 1, n))
            for i in range(n)]


def handshake(port, path="/gateway?v=10&encoding=json", source=None,
              timeout=5.0):
    """a raw upgrade: (status, headers dict (lower-case names), body,
    socket).  A 101 leaves the socket open; anything else is read to its
    Content-Length."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if source:
        s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Version: 13\r\n"
              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        check(d, "upgrade: EOF in the response header")
        buf += d
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for l in lines[1:]:
        k, v = l.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    if status != 101:
        n = int(headers.get("content-length", "0"))
        while len(body) < n:
            d = s.recv(4096)
            if not d:
                break
            body += d
        s.close()
        s = None
    return status, headers, body, s


def verify(w, sessions, events):
    """World.verify without its final quiet check: each session got
    exactly its expected events of `events`, in order, gap-free (more may
    follow, e.g. RESUMED).  Returns the dispatches each got."""
    from fanout_lib import check_event, event_key
    out = []
    for s in sessions:
        exp = w.expected(s, events)
        got = []
        for k, e in exp:
            try:
                m = s.dispatch(5, "event %d of %d (%s)"
                               % (len(got) + 1, len(exp), k[0]))
            except Fail as f:
                raise Fail("%s\n    received so far: %s" % (
                    f, [x[0] for x in got][-5:]))
            got.append((event_key(m["t"], m["d"]), m))
            if got[-1][0] != k:
                raise Fail("%r: event %d is %s, expected %s\n"
                           "    previous: %s" % (
                               s, len(got), got[-1][0], k,
                               [x[0] for x in got[-4:-1]]))
            check_event(s, e, m["d"])
        out.append([m for _, m in got])
    return out


class RWorld(World):
    """a World whose sessions are RSessions"""

    def session(self, uid, intents, shard=None, port=None, **kw):
        from fanout_lib import shard_of
        s = RSession(port or self.port, "#%d" % len(self.sessions))
        n, i = (shard[1], shard[0]) if shard else (1, 0)
        expect = [g for g, m in self.members.items()
                  if uid in m and shard_of(g, n) == i]
        s.identify(uid, intents, shard=shard, guilds=expect, **kw)
        self.sessions.append(s)
        return s


# --- the nginx processes ------------------------------------------------------

def master_pid():
    root = os.environ["TEST_NGINX_SERVROOT"]
    with open(os.path.join(root, "logs", "nginx.pid")) as f:
        return int(f.read().strip())


def worker_pids():
    """the workers /admin/status lists (those with a slot in the zone)"""
    return sorted(w["pid"] for w in admin("GET", "/admin/status")["workers"])


def _children(ppid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        if int(fields[1]) == ppid and fields[0] != "Z":
            out.append(int(d))
    return sorted(out)


def hup(n, timeout=15.0):
    """nginx -s reload: SIGHUP to the master, then until its children are
    n new workers (the old ones gone) and all of them have a slot in the
    zone.  Returns the new pids."""
    m = master_pid()
    old = set(_children(m))
    os.kill(m, 1)

    def done():
        kids = set(_children(m))
        if kids & old or len(kids) != n:
            return None
        listed = set(worker_pids())
        return sorted(kids) if kids <= listed else None
    return wait_until(done, timeout, "%d new workers after SIGHUP" % n)
