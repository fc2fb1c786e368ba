"""Shared helpers of the event distribution tests (t/060, t/061, t/062).

    from fanout_lib import *

* tokens minted like t/lib/Test/Gateway/Fixture.pm (secret t-token-secret);
* http() / admin() / rest_*(): plain HTTP/1.1 calls to the node under test
  ($TEST_NGINX_PORT), one connection each;
* Session: one gateway connection (gwclient.Conn underneath) that checks
  the per-session sequence of every dispatch (gap-free "s") and can wait
  for a dispatch, a heartbeat ACK or the close handshake with a timeout;
* World: a model of a guild population that performs REST and admin
  publishes, records what each one should deliver, and checks every
  session's stream event by event (intents, shards, membership, message
  content redaction) against it.

Everything is loopback; every wait has a timeout.  A failed check raises
Fail; run() prints it and exits 1.
"""

import base64
import copy
import datetime
import hashlib
import hmac
import http.client as httplib
import json
import os
import socket
import struct
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from gwclient import Conn  # noqa: E402

PORT = int(os.environ.get("TEST_NGINX_PORT", "8080"))
BPORT = int(os.environ.get("TEST_NGINX_BACKEND_PORT", "0") or 0)
TOKEN_SECRET = "t-token-secret"
ADMIN_SECRET = "t-admin-secret"

# shared/PROTOCOL.md 1.10
GUILDS = 1
GUILD_MEMBERS = 2
GUILD_MODERATION = 4
GUILD_PRESENCES = 256
GUILD_MESSAGES = 512
GUILD_MESSAGE_TYPING = 2048
MESSAGE_CONTENT = 32768

EPOCH_MS = 1420070400000

MESSAGE_KEYS = {"id", "channel_id", "author", "content", "timestamp",
                "edited_timestamp", "tts", "mention_everyone", "mentions",
                "mention_roles", "attachments", "embeds", "components",
                "pinned", "type", "flags"}


class Fail(Exception):
    pass


def check(cond, what, *detail):
    if not cond:
        msg = what
        for d in detail:
            msg += "\n    " + (d if isinstance(d, str)
                               else json.dumps(d, sort_keys=True)[:2000])
        raise Fail(msg)


def run(scenarios):
    """main(): run the scenario named by argv[1]."""
    name = sys.argv[1] if len(sys.argv) > 1 else None
    if name not in scenarios:
        print("usage: %s {%s}" % (sys.argv[0], "|".join(scenarios)))
        sys.exit(2)
    t0 = time.time()
    try:
        scenarios[name]()
    except Fail as e:
        print("FAIL (%s): %s" % (name, e))
        sys.exit(1)
    except Exception:
        traceback.print_exc()
        sys.exit(1)
    print("ok: %s in %.2f s" % (name, time.time() - t0))


def shard_of(guild_id, num_shards):
    return (int(guild_id) >> 22) % num_shards


# --- tokens and HTTP --------------------------------------------------------

def _b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def token(uid, secret=TOKEN_SECRET):
    head = _b64(str(uid).encode()) + "." + _b64(b"1700000000")
    mac = hmac.new(secret.encode(), head.encode(), hashlib.sha256).digest()
    return head + "." + _b64(mac)


class Response:
    def __init__(self, status, body, headers):
        self.status = status
        self.body = body
        self.headers = headers
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return "%d %s" % (self.status,
                          self.body[:300].decode(errors="replace"))


def http(method, path, body=None, auth=None, port=None, ctype=None):
    """One request; body: bytes, str (sent as is) or an object (JSON,
    non-ASCII characters as UTF-8)."""
    conn = httplib.HTTPConnection("127.0.0.1", port or PORT, timeout=10)
    headers = {"Connection": "close"}
    if auth is not None:
        headers["Authorization"] = auth
    if body is not None:
        if isinstance(body, str):
            body = body.encode()
        elif not isinstance(body, bytes):
            body = json.dumps(body, ensure_ascii=False).encode()
        headers["Content-Type"] = ctype or "application/json"
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    resp = Response(r.status, r.read(), dict(r.getheaders()))
    conn.close()
    return resp


def admin(method, path, body=None, ok=(200, 202, 204)):
    r = http(method, path, body, auth="Admin " + ADMIN_SECRET)
    check(r.status in ok, "admin %s %s -> %r" % (method, path, r))
    return r.json


def admin_user(uid, name=None, bot=True):
    r = http("POST", "/admin/users",
             {"id": str(uid), "username": name or "user%d" % uid, "bot": bot},
             auth="Admin " + ADMIN_SECRET)
    check(r.status in (200, 409), "POST /admin/users %s -> %r" % (uid, r))


def admin_guild(gid, channels, name=None):
    admin("PUT", "/admin/guilds/%d" % gid,
          {"name": name or "guild %d" % gid,
           "channels": [{"id": str(c), "name": "ch%d" % c, "type": t}
                        for c, t in channels]})


def admin_member(gid, uid):
    admin("PUT", "/admin/guilds/%d/members/%d" % (gid, uid), {})


def admin_bulk(lines):
    body = "".join(json.dumps(l) + "\n" for l in lines)
    r = http("POST", "/admin/bulk", body, auth="Admin " + ADMIN_SECRET,
             ctype="application/x-ndjson")
    check(r.status == 200, "POST /admin/bulk -> %r" % r)
    out = [json.loads(l) for l in r.body.decode().splitlines() if l]
    bad = [l for l in out if "code" in l and "exists" not in l["message"]]
    check(not bad, "bulk lines failed", bad[:5])
    return out


def status_sessions():
    st = admin("GET", "/admin/status?sessions=1")
    return {s["session_id"]: s for s in st["session_list"]}, st


def rest_message(channel, uid, body):
    return http("POST", "/api/v10/channels/%s/messages" % channel, body,
                auth="Bot " + token(uid))


def rest_typing(channel, uid):
    return http("POST", "/api/v10/channels/%s/typing" % channel, None,
                auth="Bot " + token(uid))


def snowflake_ms(sid):
    return (int(sid) >> 22) + EPOCH_MS


def iso_ms(ts):
    """milliseconds since the Unix epoch of an ISO 8601 UTC timestamp"""
    dt = datetime.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    check(dt.utcoffset() == datetime.timedelta(0), "timestamp not UTC: " + ts)
    return round(dt.timestamp() * 1000)


# --- one gateway session ----------------------------------------------------

class Closed(Exception):
    def __init__(self, code, why=""):
        Exception.__init__(self, "closed %s %s" % (code, why))
        self.code = code


class Session:
    """A gateway connection; dispatches are checked for gap-free s."""

    def __init__(self, port=None, name="", rcvbuf=None, path=None):
        self.name = name
        self.port = port or PORT
        if rcvbuf is None:
            self.c = Conn(self.port, path or "/gateway?v=10&encoding=json")
        else:
            self.c = _conn_rcvbuf(self.port, rcvbuf,
                                  path or "/gateway?v=10&encoding=json")
        self.s = 0
        self.pending = []
        self.ready = None
        self.user = None
        self.intents = 0
        self.shard = None
        self.large_threshold = 50
        self.closed = False

    def __repr__(self):
        return "session %s (user %s, intents %s, shard %s)" % (
            self.name, self.user, self.intents, self.shard)

    # frames

    def _frame(self, timeout):
        self.c.s.settimeout(timeout)
        try:
            f = self.c.recv()
        except socket.timeout:
            return "timeout"
        except ConnectionResetError:
            f = None
        finally:
            try:
                self.c.s.settimeout(None)
            except OSError:
                pass
        if f is None:
            self.closed = True
            raise Closed(None, "EOF")
        if f[0] == 8:
            self.closed = True
            code = struct.unpack("!H", f[1][:2])[0] if len(f[1]) >= 2 else None
            raise Closed(code, f[1][2:].decode(errors="replace"))
        if f[0] == 9:       # ping
            self._send_frame(0xA, f[1])
            return self._frame(timeout)
        check(f[0] == 1, "%r: a frame of opcode %d" % (self, f[0]))
        return json.loads(f[1])

    def _send_frame(self, op, payload):
        n = len(payload)
        if n < 126:
            head = bytes([0x80 | op, 0x80 | n])
        elif n < 65536:
            head = bytes([0x80 | op, 0x80 | 126]) + struct.pack("!H", n)
        else:
            head = bytes([0x80 | op, 0x80 | 127]) + struct.pack("!Q", n)
        self.c.s.sendall(head + b"\0\0\0\0" + payload)

    def send(self, obj):
        self._send_frame(1, json.dumps(obj).encode())

    def recv(self, timeout=5.0):
        """the next message (any op), or None after timeout seconds"""
        if self.pending:
            return self.pending.pop(0)
        m = self._frame(timeout)
        return None if m == "timeout" else m

    # dispatches

    def _seq(self, m):
        check(m.get("s") == self.s + 1,
              "%r: dispatch %s has s=%s, expected %d (gap or repeat)"
              % (self, m.get("t"), m.get("s"), self.s + 1), m)
        self.s = m["s"]
        return m

    def dispatch(self, timeout=5.0, what="a dispatch"):
        """the next dispatch (op 0), s checked; Fail after timeout"""
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            try:
                m = self.recv(max(left, 0.001))
            except Closed as e:
                raise Fail("%r closed (%s) while waiting for %s"
                           % (self, e, what))
            if m is None:
                raise Fail("%r: no %s within %.1f s" % (self, what, timeout))
            if m["op"] in (11, 1):
                continue
            check(m["op"] == 0, "%r: op %s instead of %s"
                  % (self, m["op"], what), m)
            return self._seq(m)

    def expect(self, t, timeout=5.0):
        m = self.dispatch(timeout, t)
        check(m["t"] == t, "%r: %s instead of %s" % (self, m["t"], t), m)
        return m["d"]

    def expect_nothing(self, seconds=0.3):
        if self.pending:
            raise Fail("%r: unexpected %s" % (self, self.pending[0]))
        end = time.time() + seconds
        while time.time() < end:
            try:
                m = self.recv(max(end - time.time(), 0.001))
            except Closed as e:
                raise Fail("%r closed unexpectedly (%s)" % (self, e))
            if m is None:
                return
            if m["op"] in (11, 1):
                continue
            raise Fail("%r: unexpected message" % self, m)

    def sync(self, timeout=5.0):
        """heartbeat and wait for its ACK: everything this connection sent
        before was processed by the server (its frames are handled in
        order); dispatches that arrive meanwhile are kept"""
        self.send({"op": 1, "d": self.s or None})
        deadline = time.time() + timeout
        kept = []
        while True:
            left = deadline - time.time()
            check(left > 0, "%r: no heartbeat ACK" % self)
            m = self._frame(left)
            if m == "timeout":
                continue
            if m["op"] == 11:
                break
            kept.append(m)
        self.pending.extend(kept)

    # lifecycle

    def identify(self, uid, intents, shard=None, large_threshold=None,
                 presence=None, guilds=None):
        """Hello, Identify, READY (s=1) and its GUILD_CREATEs (s=2..);
        guilds: the ids READY must list, if given"""
        hello = self.recv()
        check(hello is not None and hello["op"] == 10,
              "%r: no Hello" % self, hello)
        d = {"token": token(uid), "intents": intents,
             "properties": {"os": "linux", "browser": "fanout",
                            "device": "fanout"}}
        if shard is not None:
            d["shard"] = shard
        if large_threshold is not None:
            d["large_threshold"] = large_threshold
            self.large_threshold = large_threshold
        if presence is not None:
            d["presence"] = presence
        self.user, self.intents, self.shard = uid, intents, shard
        self.send({"op": 2, "d": d})
        ready = self.dispatch(5, "READY")
        check(ready["t"] == "READY", "%r: %s instead of READY" % (
            self, ready["t"]), ready)
        self.ready = ready["d"]
        ids = [g["id"] for g in self.ready["guilds"]]
        if guilds is not None:
            check(sorted(ids) == sorted(str(g) for g in guilds),
                  "%r: READY lists guilds %s, expected %s"
                  % (self, ids, sorted(str(g) for g in guilds)))
        if shard is not None:
            check(self.ready.get("shard") == shard,
                  "%r: READY shard %s" % (self, self.ready.get("shard")))
        got = []
        for _ in ids:
            gc = self.dispatch(5, "GUILD_CREATE")
            check(gc["t"] == "GUILD_CREATE", "%r: %s in the READY burst"
                  % (self, gc["t"]), gc)
            got.append(gc["d"]["id"])
        check(sorted(got) == sorted(ids),
              "%r: GUILD_CREATEs %s for READY %s" % (self, got, ids))
        return self.ready

    def close(self, code=1000, timeout=5.0):
        """the close handshake: our close, the server's echo, then EOF"""
        self._send_frame(8, struct.pack("!H", code))
        deadline = time.time() + timeout
        while True:
            left = deadline - time.time()
            check(left > 0, "%r: no close echo" % self)
            try:
                m = self._frame(left)
            except Closed as e:
                check(e.code == code or e.code is None,
                      "%r: closed with %s after our %d" % (self, e.code, code))
                break
            if m != "timeout" and m["op"] == 0:
                self._seq(m)
        self.c.s.settimeout(timeout)
        try:
            while self.c.s.recv(65536):
                pass
        except OSError:
            pass
        self.c.s.close()

    def drop(self):
        """the connection goes without a close frame"""
        self.c.s.close()
        self.closed = True


def _conn_rcvbuf(port, rcvbuf, path):
    """gwclient.Conn over a socket with a small receive buffer"""
    real = socket.create_connection

    def small(addr, *a, **kw):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.connect(addr)
        return s

    socket.create_connection = small
    try:
        return Conn(port, path)
    finally:
        socket.create_connection = real


def wait_until(cond, timeout=5.0, what="a condition"):
    deadline = time.time() + timeout
    while True:
        v = cond()
        if v:
            return v
        check(time.time() < deadline, "timed out waiting for " + what)
        time.sleep(0.05)


def wait_session_gone(uid, timeout=5.0):
    """until no session of user uid is listed by /admin/status"""
    last = {}

    def gone():
        listed = list(status_sessions()[0].values())
        last["list"] = listed
        return all(s["user_id"] != str(uid) for s in listed)

    try:
        wait_until(gone, timeout, "the sessions of user %s to end" % uid)
    except Fail as e:
        raise Fail("%s; still listed: %s (now %d)" % (e, last["list"],
                                                     time.time()))


# --- the model --------------------------------------------------------------

def event_key(t, d):
    if t == "MESSAGE_CREATE":
        return (t, d["id"])
    if t == "TYPING_START":
        return (t, d["channel_id"], d["user_id"])
    if t in ("GUILD_CREATE", "GUILD_DELETE"):
        return (t, d["id"])
    if t in ("GUILD_MEMBER_ADD", "GUILD_MEMBER_REMOVE"):
        return (t, d["guild_id"], d["user"]["id"])
    if t == "PRESENCE_UPDATE":
        return (t, d["guild_id"], d["user"]["id"], d["status"])
    return (t, json.dumps(d, sort_keys=True))


class Event:
    def __init__(self, kind, guild, key, intent=0, **kw):
        self.kind = kind
        self.guild = guild
        self.key = key
        self.intent = intent
        self.__dict__.update(kw)


class World:
    """Guilds, members and sessions, and the events published to them in
    order (every publish is a synchronous REST or admin call here, so
    the order of the calls is the order of the events)."""

    def __init__(self, port=None):
        self.port = port or PORT
        self.members = {}       # guild id -> set of user ids
        self.channels = {}      # channel id -> guild id
        self.sessions = []
        self.events = []
        self.users = set()

    # setup (before any session: no events)

    def guild(self, gid, channels=(), users=()):
        admin_guild(gid, channels)
        self.members.setdefault(gid, set())
        for c, _ in channels:
            self.channels[c] = gid
        for u in users:
            self.user(u)
            admin_member(gid, u)
            self.members[gid].add(u)

    def user(self, uid):
        if uid not in self.users:
            admin_user(uid)
            self.users.add(uid)

    def session(self, uid, intents, shard=None, **kw):
        s = Session(self.port, "#%d" % len(self.sessions))
        n, i = (shard[1], shard[0]) if shard else (1, 0)
        expect = [g for g, m in self.members.items()
                  if uid in m and shard_of(g, n) == i]
        s.identify(uid, intents, shard=shard, guilds=expect, **kw)
        self.sessions.append(s)
        return s

    # publishes

    def post(self, channel, author, body, mentions=(), into=None):
        t0 = time.time()
        r = rest_message(channel, author, body)
        check(r.status == 200, "POST message by %s in %s -> %r"
              % (author, channel, r), body)
        check(r.headers.get("Content-Type", "").startswith(
            "application/json"), "message answer Content-Type", r.headers)
        gid = self.channels[channel]
        msg = r.json
        check_message_object(msg, channel, author, body, mentions, t0)
        (self.events if into is None else into).append(Event(
            "message", gid, ("MESSAGE_CREATE", msg["id"]), GUILD_MESSAGES,
            msg=msg, author=author, members=set(self.members[gid]),
            mentioned={int(m["id"]) for m in msg["mentions"]}))
        return msg

    def typing(self, channel, uid, into=None):
        t0 = int(time.time())
        r = rest_typing(channel, uid)
        check(r.status == 204 and r.body == b"",
              "POST typing by %s in %s -> %r" % (uid, channel, r))
        gid = self.channels[channel]
        (self.events if into is None else into).append(Event(
            "typing", gid, ("TYPING_START", str(channel), str(uid)),
            GUILD_MESSAGE_TYPING, user=uid, t0=t0, t1=int(time.time()) + 1,
            members=set(self.members[gid])))

    def dispatch(self, gid, t, d, intent=0, into=None):
        r = http("POST", "/admin/guilds/%d/dispatch" % gid, {"t": t, "d": d},
                 auth="Admin " + ADMIN_SECRET)
        check(r.status == 202, "admin dispatch %s -> %r" % (t, r))
        (self.events if into is None else into).append(Event(
            "dispatch", gid, event_key(t, d), intent, d=d,
            members=set(self.members[gid])))

    def member_add(self, gid, uid):
        before = set(self.members[gid])
        admin_member(gid, uid)
        self.members[gid].add(uid)
        self.events.append(Event("member_add", gid, None, user=uid,
                                 members=before))

    def member_remove(self, gid, uid):
        admin("DELETE", "/admin/guilds/%d/members/%d" % (gid, uid))
        self.members[gid].discard(uid)
        self.events.append(Event("member_remove", gid, None, user=uid,
                                 members=set(self.members[gid])))

    # what a session should have seen

    def expected(self, s, events=None):
        n, i = (s.shard[1], s.shard[0]) if s.shard else (1, 0)
        out = []
        for e in (self.events if events is None else events):
            if shard_of(e.guild, n) != i:
                continue
            g = str(e.guild)
            if e.kind == "member_add":
                if s.user == e.user:
                    if s.intents & GUILDS:
                        out.append((("GUILD_CREATE", g), e))
                elif s.user in e.members and s.intents & GUILD_MEMBERS:
                    out.append((("GUILD_MEMBER_ADD", g, str(e.user)), e))
            elif e.kind == "member_remove":
                if s.user == e.user:
                    if s.intents & GUILDS:
                        out.append((("GUILD_DELETE", g), e))
                elif s.user in e.members and s.intents & GUILD_MEMBERS:
                    out.append((("GUILD_MEMBER_REMOVE", g, str(e.user)), e))
            elif s.user in e.members and (e.intent == 0
                                          or s.intents & e.intent):
                out.append((e.key, e))
        return out

    def verify(self, sessions=None, events=None, quiet=0.3):
        """every session got exactly its expected events, in order"""
        sessions = self.sessions if sessions is None else sessions
        total = 0
        for s in sessions:
            exp = self.expected(s, events)
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
            total += len(got)
        time.sleep(quiet)
        for s in sessions:
            s.expect_nothing(0.01)
        return total


def check_message_object(msg, channel, author, body, mentions, t0):
    """the REST answer: Discord's message object for what was sent"""
    keys = set(MESSAGE_KEYS)
    if body.get("nonce") is not None:
        keys.add("nonce")
    check(set(msg) == keys, "message keys %s, expected %s" % (
        sorted(msg), sorted(keys)), msg)
    check(isinstance(msg["id"], str) and msg["id"].isdigit()
          and not msg["id"].startswith("0"), "id not a snowflake", msg)
    ms = snowflake_ms(msg["id"])
    check(abs(ms / 1000.0 - t0) < 5, "the id's time is not now", msg)
    check(iso_ms(msg["timestamp"]) == ms,
          "timestamp %s is not the id's time (%d ms)" % (msg["timestamp"], ms))
    exp = {"channel_id": str(channel), "content": body.get("content") or "",
           "edited_timestamp": None, "tts": bool(body.get("tts")),
           "mention_everyone": False, "mention_roles": [],
           "attachments": [], "embeds": body.get("embeds") or [],
           "components": [], "pinned": False, "type": 0, "flags": 0}
    if body.get("nonce") is not None:
        exp["nonce"] = body["nonce"]
    for k, v in exp.items():
        check(msg[k] == v, "message %s is %s, expected %s" % (
            k, json.dumps(msg[k])[:200], json.dumps(v)[:200]))
    a = msg["author"]
    check(isinstance(a, dict) and a.get("id") == str(author)
          and isinstance(a.get("username"), str) and "member" not in a,
          "author is not user %s" % author, a)
    ids = [m.get("id") for m in msg["mentions"]]
    check(sorted(ids) == sorted(str(m) for m in mentions),
          "mentions %s, expected %s" % (ids, sorted(str(m) for m in mentions)),
          body.get("content", ""))
    for m in msg["mentions"]:
        check("username" in m and "member" not in m,
              "a mention is not a user object", m)


def check_event(s, e, d):
    """one delivered event's payload, as the session should see it"""
    if e.kind == "message":
        exp = copy.deepcopy(e.msg)
        exp["guild_id"] = str(e.guild)
        member = d.get("member")
        check(isinstance(member, dict) and "user" not in member
              and isinstance(member.get("roles"), list)
              and "joined_at" in member,
              "%r: MESSAGE_CREATE member is not the author's partial "
              "member" % s, d)
        exp["member"] = member
        for i, m in enumerate(d.get("mentions") or []):
            if i < len(exp["mentions"]):
                mm = m.get("member") if isinstance(m, dict) else None
                check(isinstance(mm, dict) and "joined_at" in mm,
                      "%r: a mention without its member" % s, d)
                exp["mentions"][i]["member"] = mm
        redacted = not (s.intents & MESSAGE_CONTENT) \
            and s.user != e.author and s.user not in e.mentioned
        if redacted:
            exp["content"] = ""
            exp["embeds"] = []
        if d != exp:
            diff = {k: (d.get(k), exp.get(k)) for k in set(d) | set(exp)
                    if d.get(k) != exp.get(k)}
            raise Fail("%r: MESSAGE_CREATE %s (%s) differs (got, expected):"
                       "\n    %s" % (s, e.msg["id"],
                                     "redacted" if redacted else "full",
                                     json.dumps(diff)[:1500]))
    elif e.kind == "typing":
        check(set(d) == {"channel_id", "guild_id", "user_id", "timestamp",
                         "member"}, "%r: TYPING_START keys" % s, d)
        check(d["guild_id"] == str(e.guild) and d["user_id"] == str(e.user),
              "%r: TYPING_START ids" % s, d)
        check(isinstance(d["timestamp"], int)
              and e.t0 - 1 <= d["timestamp"] <= e.t1,
              "%r: TYPING_START timestamp is not the unix time" % s, d)
        check(isinstance(d["member"], dict)
              and d["member"].get("user", {}).get("id") == str(e.user),
              "%r: TYPING_START member has not the user" % s, d)
    elif e.kind == "dispatch":
        check(d == e.d, "%r: dispatch payload changed" % s, d, e.d)
    elif e.kind == "member_add":
        if s.user == e.user:
            check(d["id"] == str(e.guild) and not d.get("unavailable"),
                  "%r: GUILD_CREATE" % s, d)
        else:
            check(d["guild_id"] == str(e.guild)
                  and d["user"]["id"] == str(e.user),
                  "%r: GUILD_MEMBER_ADD" % s, d)
    elif e.kind == "member_remove":
        if s.user == e.user:
            check(d["id"] == str(e.guild) and not d.get("unavailable"),
                  "%r: GUILD_DELETE" % s, d)
        else:
            check(d["guild_id"] == str(e.guild)
                  and d["user"]["id"] == str(e.user),
                  "%r: GUILD_MEMBER_REMOVE" % s, d)
