#!/usr/bin/python3
"""Checks of op 8 Request Guild Members for t/063-gw-members.t.

    members_check.py COMMAND

run from the repo root with TEST_NGINX_PORT set (the harness's `client`
section does both).  Each command exits 0 when every check held, and
prints what it saw otherwise.  The data set (the `setup` command):

  guild G1 4194304000 (small): 100 memberbot (bot), 101 alice, 102 Alfred,
      103 bob (nick ALbert), 104 carol, 105 alexandra, 106 Al (nick zed),
      110..119 mbotNNN (bots)
  guild G2 8388608000 (2500 members): 100, 110..119 and the bulk users
      20001..22489 named user00001..user02489
  guild G3 12582912000: 101 and 107 alvin (not the bots' guild)
  16777216000: no guild

The commands, one per block of t/063.  The all-members form is limited
per user and guild for 30 s, so the blocks that use it have users of
their own (117 and 119 are t/063's ws_script blocks'):

  setup              the data set, through the admin API and /admin/bulk
  decode-errors      malformed requests close with 4002 (as 107); the
                     limits themselves are accepted (as 100)
  queries            query prefixes and user_ids (100)
  presences          presences in chunks (116; 118 without GUILD_PRESENCES;
                     101, 102, 104, 105 online with their own statuses)
  all-members        whole lists, limit n, requests queued together (110)
  huge-limit         a limit of 2^32 - 1 (110)
  rate-limit         RATE_LIMITED, per user and guild (111, 112)
  rate-limit-guilds  one guild's list does not lift another's limit (115)
  streaming          chunks made as a slow client reads, on
                     TEST_NGINX_BACKEND_PORT (sndbuf=32k) (113, 114)
"""

import base64
import hashlib
import hmac
import json
import os
import socket
import struct
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__))))
from gwclient import Conn  # noqa: E402

PORT = int(os.environ.get("TEST_NGINX_PORT", "0"))
TOKEN_SECRET = b"t-token-secret"
ADMIN_SECRET = os.environ.get("GW_ADMIN_SECRET", "t-admin-secret")

G1, G2, G3 = "4194304000", "8388608000", "12582912000"
CHANNEL1, CHANNEL2 = "4194304001", "8388608001"
BOTS = [100] + list(range(110, 120))
BULK = range(20001, 22490)
G1_USERS = {101: ("alice", None), 102: ("Alfred", None),
            103: ("bob", "ALbert"), 104: ("carol", None),
            105: ("alexandra", None), 106: ("Al", "zed")}

GUILDS = 1      # intents
GUILD_MEMBERS = 2
GUILD_PRESENCES = 256
GUILD_MESSAGES = 512
MESSAGE_CONTENT = 32768

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL: %s" % what, flush=True)
    return cond


def done():
    if failures:
        print("%d check(s) failed" % len(failures))
        sys.exit(1)
    print("OK")
    sys.exit(0)


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def token(uid):
    head = b64(str(uid).encode()) + "." + b64(b"1700000000")
    mac = hmac.new(TOKEN_SECRET, head.encode(), hashlib.sha256).digest()
    return head + "." + b64(mac)


def http(method, path, body=None, headers=None, ctype="application/json"):
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (PORT, path),
                                 data=data, method=method)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    if data is not None:
        req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def admin(method, path, body=None, ctype="application/json"):
    st, out = http(method, path, body,
                   {"Authorization": "Admin " + ADMIN_SECRET}, ctype)
    if st >= 300:
        raise RuntimeError("%s %s: %d %r" % (method, path, st, out))
    return out


class Session:
    """An identified connection that checks every dispatch's s."""

    def __init__(self, uid, intents, rcvbuf=None, timeout=10):
        self.c = Conn(PORT, rcvbuf=rcvbuf)
        self.c.s.settimeout(timeout)
        hello = self.c.recv_json()
        assert hello["op"] == 10, hello
        self.uid = uid
        self.s = 0
        self.c.send({"op": 2, "d": {"token": token(uid), "intents": intents,
                                    "properties": {"os": "linux",
                                                   "browser": "t063",
                                                   "device": "t063"}}})
        self.ready = self.next()
        assert self.ready["t"] == "READY", self.ready
        self.guilds = {}
        for _ in self.ready["d"]["guilds"]:
            gc = self.next()
            assert gc["t"] == "GUILD_CREATE", gc
            self.guilds[gc["d"]["id"]] = gc["d"]

    def next(self):
        """The next payload; dispatches must be numbered without a gap."""
        m = self.c.recv_json()
        if m["op"] == 0:
            if m["s"] != self.s + 1:
                check(False, "user %s: s %s after %s (%s)"
                      % (self.uid, m["s"], self.s, m["t"]))
            self.s = m["s"]
        return m

    def dispatch(self):
        """The next dispatch (heartbeat ACKs are not expected here)."""
        m = self.next()
        if m["op"] != 0:
            raise RuntimeError("not a dispatch: %r" % (m,))
        return m

    def send(self, op, d):
        self.c.send({"op": op, "d": d})

    def request(self, **d):
        self.send(8, d)

    def chunks(self):
        """The chunks of one request: until chunk_index + 1 == count."""
        out = []
        while True:
            m = self.dispatch()
            if m["t"] != "GUILD_MEMBERS_CHUNK":
                raise RuntimeError("expected a chunk, got %s %s"
                                   % (m["t"], json.dumps(m["d"])[:300]))
            out.append(m["d"])
            if m["d"]["chunk_index"] + 1 >= m["d"]["chunk_count"]:
                return out

    def sync(self):
        """A heartbeat round trip: everything sent before it has come."""
        self.send(1, self.s)
        m = self.next()
        if m["op"] != 11:
            raise RuntimeError("expected the heartbeat ACK, got %s"
                               % json.dumps(m)[:300])

    def close(self):
        """Close 1000: the session ends (and its user goes offline)."""
        try:
            self.c.s.sendall(b"\x88\x82\0\0\0\0\x03\xe8")
            while self.c.recv() is not None:
                pass
        except OSError:
            pass
        self.c.s.close()


def ids(members):
    return [int(m["user"]["id"]) for m in members]


# --- setup ----------------------------------------------------------------

def setup():
    def user(uid, name, bot=False):
        admin("POST", "/admin/users",
              {"id": str(uid), "username": name, "bot": bot})

    user(100, "memberbot", True)
    for uid, (name, _) in G1_USERS.items():
        user(uid, name)
    user(107, "alvin")
    for uid in range(110, 120):
        user(uid, "mbot%d" % uid, True)

    admin("PUT", "/admin/guilds/" + G1,
          {"name": "Members A", "owner_id": "100",
           "channels": [{"id": CHANNEL1, "name": "general", "type": 0}]})
    admin("PUT", "/admin/guilds/" + G2,
          {"name": "Big", "owner_id": "100",
           "channels": [{"id": CHANNEL2, "name": "general", "type": 0}]})
    admin("PUT", "/admin/guilds/" + G3,
          {"name": "Other", "channels": []})

    for uid in [100] + list(G1_USERS) + list(range(110, 120)):
        body = {}
        if uid in G1_USERS and G1_USERS[uid][1]:
            body["nick"] = G1_USERS[uid][1]
        admin("PUT", "/admin/guilds/%s/members/%d" % (G1, uid), body)
    for uid in (101, 107):
        admin("PUT", "/admin/guilds/%s/members/%d" % (G3, uid), {})

    lines = []
    for uid in BULK:
        lines.append({"op": "user", "id": str(uid),
                      "username": "user%05d" % (uid - 20000)})
    for uid in BOTS + list(BULK):
        lines.append({"op": "member", "guild_id": G2, "user_id": str(uid)})
    out = admin("POST", "/admin/bulk",
                "".join(json.dumps(l) + "\n" for l in lines).encode(),
                "application/x-ndjson").decode().splitlines()
    check(len(out) == len(lines), "bulk: %d result lines" % len(out))
    bad = [l for l in out if '"code"' in l]
    check(not bad, "bulk errors: %s" % bad[:3])

    st = json.loads(admin("GET", "/admin/status"))
    check(st["users"] == 1 + len(G1_USERS) + 1 + 10 + len(BULK),
          "users %s" % st["users"])
    check(st["guilds"] == 3, "guilds %s" % st["guilds"])
    check(st["members"] == 17 + 2 + 2500, "members %s" % st["members"])
    print("set up: %d users, %d guilds, %d members"
          % (st["users"], st["guilds"], st["members"]))


# --- malformed requests: 4002 -----------------------------------------------

def cmd_decode_errors():
    long_ids = [str(1000 + i) for i in range(101)]
    g = G1
    cases = [
        # d not an object
        None, [], "x", 5, True,
        # guild_id missing, not a snowflake, an array
        {"query": "", "limit": 0},
        {"guild_id": None, "query": "", "limit": 0},
        {"guild_id": "abc", "query": "", "limit": 0},
        {"guild_id": "", "query": "", "limit": 0},
        {"guild_id": "0", "query": "", "limit": 0},
        {"guild_id": "0123", "query": "", "limit": 0},
        {"guild_id": "-4194304000", "query": "", "limit": 0},
        {"guild_id": "4194304000x", "query": "", "limit": 0},
        {"guild_id": "18446744073709551616", "query": "", "limit": 0},
        {"guild_id": -1, "query": "", "limit": 0},
        {"guild_id": 1.5, "query": "", "limit": 0},
        {"guild_id": True, "query": "", "limit": 0},
        {"guild_id": {}, "query": "", "limit": 0},
        {"guild_id": [g], "query": "", "limit": 0},
        {"guild_id": [g, G2], "query": "", "limit": 0},
        {"guild_id": [], "user_ids": ["101"]},
        # neither query nor user_ids
        {"guild_id": g},
        {"guild_id": g, "limit": 0},
        {"guild_id": g, "limit": 0, "presences": False, "nonce": "n"},
        # query without an integer limit
        {"guild_id": g, "query": "al"},
        {"guild_id": g, "query": ""},
        {"guild_id": g, "query": "", "limit": None},
        {"guild_id": g, "query": "", "limit": "0"},
        {"guild_id": g, "query": "al", "limit": 1.5},
        {"guild_id": g, "query": "al", "limit": True},
        {"guild_id": g, "query": "al", "limit": [1]},
        # limit negative or not an integer
        {"guild_id": g, "query": "al", "limit": -1},
        {"guild_id": g, "query": "", "limit": -1000},
        {"guild_id": g, "user_ids": ["101"], "limit": -1},
        {"guild_id": g, "user_ids": ["101"], "limit": "5"},
        {"guild_id": g, "user_ids": ["101"], "limit": 2.5},
        # user_ids not snowflakes, empty, too many
        {"guild_id": g, "user_ids": "abc"},
        {"guild_id": g, "user_ids": "0"},
        {"guild_id": g, "user_ids": True},
        {"guild_id": g, "user_ids": {}},
        {"guild_id": g, "user_ids": 1.5},
        {"guild_id": g, "user_ids": ["101", "x"]},
        {"guild_id": g, "user_ids": ["101", None]},
        {"guild_id": g, "user_ids": ["101", ["102"]]},
        {"guild_id": g, "user_ids": ["0"]},
        {"guild_id": g, "user_ids": [-101]},
        {"guild_id": g, "user_ids": []},
        {"guild_id": g, "user_ids": long_ids},
        # presences not a boolean
        {"guild_id": g, "user_ids": ["101"], "presences": "true"},
        {"guild_id": g, "user_ids": ["101"], "presences": 1},
        {"guild_id": g, "query": "al", "limit": 1, "presences": {}},
        # query not a string, or over 32 bytes
        {"guild_id": g, "query": 5, "limit": 0},
        {"guild_id": g, "query": ["al"], "limit": 0},
        {"guild_id": g, "query": True, "limit": 0},
        {"guild_id": g, "query": "a" * 33, "limit": 0},
        {"guild_id": g, "query": "\u00e9" * 16 + "a", "limit": 0},
        {"guild_id": g, "query": "a" * 33, "limit": 0, "user_ids": ["101"]},
    ]
    for d in cases:
        what = json.dumps(d)[:120]
        s = Session(107, GUILDS | GUILD_MEMBERS)
        s.send(8, d)
        f = s.c.recv()
        if not check(f is not None and f[0] == 8,
                     "%s: no close frame first, got %r"
                     % (what, f and f[1][:200])):
            s.close()
            continue
        code = struct.unpack("!H", f[1][:2])[0] if len(f[1]) >= 2 else None
        reason = f[1][2:].decode(errors="replace")
        check(code == 4002 and
              reason.startswith("Decode error: Request Guild Members: "),
              "%s: closed with %s %r" % (what, code, reason))
        check(s.c.recv() is None, "%s: no EOF after the close" % what)
        s.c.s.close()
    print("%d malformed requests closed with 4002" % len(cases))

    # the limits themselves are allowed: 100 user_ids, a 32-byte query
    s = Session(100, GUILDS | GUILD_MEMBERS)
    s.request(guild_id=g, user_ids=[str(101 + i) for i in range(100)],
              nonce="hundred")
    c = s.chunks()
    check(len(c) == 1 and ids(c[0]["members"]) == [101, 102, 103, 104, 105,
                                                    106, 110, 111, 112, 113,
                                                    114, 115, 116, 117, 118,
                                                    119],
          "100 user_ids: members %s" % ids(c[0]["members"]))
    nf = c[0].get("not_found", [])
    check(sorted(int(i) for i in nf) ==
          [i for i in range(101, 201) if i not in range(101, 107)
           and i not in range(110, 120)],
          "100 user_ids: not_found %s" % nf)
    for q in ("a" * 32, "\u00e9" * 16):
        s.request(guild_id=g, query=q, limit=0)
        c = s.chunks()
        check(len(c) == 1 and c[0]["members"] == [],
              "a 32-byte query: %r" % c)
    # guild_id and user_ids as JSON numbers are snowflakes too
    s.request(guild_id=int(g), user_ids=[101, "104"], limit=0)
    c = s.chunks()
    check(c[0]["guild_id"] == g and ids(c[0]["members"]) == [101, 104],
          "numeric ids: %r" % c)
    s.sync()
    s.close()


# --- user_ids and query forms ----------------------------------------------

def cmd_queries():
    s = Session(100, GUILDS | GUILD_MEMBERS)

    def q(guild, query, limit, want, **more):
        s.request(guild_id=guild, query=query, limit=limit, **more)
        c = s.chunks()
        got = ids(c[0]["members"])
        check(len(c) == 1 and c[0]["chunk_index"] == 0
              and c[0]["chunk_count"] == 1 and c[0]["guild_id"] == guild,
              "query %r limit %s: %s" % (query, limit,
                                         json.dumps(c)[:300]))
        check(got == want, "query %r limit %s in %s: %s, expected %s"
              % (query, limit, guild, got, want))
        check("not_found" not in c[0] or c[0]["not_found"] == [],
              "query %r: not_found %s" % (query, c[0].get("not_found")))
        return c[0]

    # username or nickname prefix, ASCII case ignored, in user id order
    q(G1, "al", 0, [101, 102, 103, 105, 106])
    q(G1, "AL", 0, [101, 102, 103, 105, 106])
    q(G1, "aL", 2, [101, 102])
    q(G1, "ali", 10, [101])
    q(G1, "ALFRED", 1, [102])
    q(G1, "alb", 0, [103])            # bob's nickname ALbert
    q(G1, "bob", 0, [103])
    q(G1, "zed", 0, [106])            # Al's nickname
    q(G1, "alexandra", 0, [105])
    q(G1, "alexandraa", 0, [])
    q(G1, "alv", 0, [])               # alvin is not a member of G1
    q(G1, "mbot11", 3, [110, 111, 112])
    q(G1, "zzz", 0, [])
    # at most min(limit, 100); limit 0 means 100
    q(G2, "user", 0, list(range(20001, 20101)))
    q(G2, "USER", 100, list(range(20001, 20101)))
    q(G2, "user", 101, list(range(20001, 20101)))
    q(G2, "user", 5000, list(range(20001, 20101)))
    q(G2, "user", 99, list(range(20001, 20100)))
    q(G2, "user", 7, list(range(20001, 20008)))
    q(G2, "user0001", 0, list(range(20010, 20020)))
    q(G2, "User02489", 0, [22489])
    q(G2, "user0249", 0, [])
    q(G2, "m", 0, [100] + list(range(110, 120)))
    m = q(G1, "bob", 0, [103])["members"][0]
    check(m["user"]["username"] == "bob" and m["nick"] == "ALbert"
          and m["roles"] == [] and "joined_at" in m,
          "member object: %s" % json.dumps(m))
    # the same forms with a presence request and no GUILD_PRESENCES
    c = q(G1, "al", 0, [101, 102, 103, 105, 106], presences=True)
    check("presences" not in c, "presences without the intent: %s"
          % c.get("presences"))

    # user_ids: found members, and the rest in not_found
    def u(guild, user_ids, want, want_nf, **more):
        s.request(guild_id=guild, user_ids=user_ids, **more)
        c = s.chunks()
        check(len(c) == 1 and c[0]["chunk_index"] == 0
              and c[0]["chunk_count"] == 1 and c[0]["guild_id"] == guild,
              "user_ids %s: %s" % (user_ids, json.dumps(c)[:300]))
        got = sorted(ids(c[0]["members"]))
        nf = sorted(int(i) for i in c[0].get("not_found", []))
        check(got == want and nf == want_nf,
              "user_ids %s in %s: members %s not_found %s, expected %s %s"
              % (user_ids, guild, got, nf, want, want_nf))
        return c[0]

    u(G1, ["101", "104", "107", "999"], [101, 104], [107, 999])
    u(G1, "102", [102], [])
    u(G1, ["22489"], [], [22489])
    u(G2, ["22489", "100", "101"], [100, 22489], [101])
    u(G1, ["101"], [101], [], query="zzz", limit=1)   # user_ids win
    c = u(G1, ["103"], [103], [])
    check(c["members"][0]["nick"] == "ALbert", "nick: %s" % c)
    s.sync()
    s.close()


# --- presences --------------------------------------------------------------

def cmd_presences():
    def user(uid, presence=None):
        c = Conn(PORT)
        c.s.settimeout(10)
        c.recv_json()
        d = {"token": token(uid), "intents": GUILDS,
             "properties": {"os": "linux", "browser": "t063",
                            "device": "t063"}}
        if presence:
            d["presence"] = presence
        c.send({"op": 2, "d": d})
        r = c.recv_json()
        assert r["t"] == "READY", r
        return c

    def p(status, acts=()):
        return {"since": None, "afk": False, "status": status,
                "activities": [{"name": a, "type": 0} for a in acts]}

    users = [user(101, p("dnd", ["chess"])), user(102, p("invisible")),
             user(104, p("idle")), user(105)]
    # 103 and 106 have no session: offline
    # (and 118, with no GUILD_PRESENCES, is online)
    t = Session(118, GUILDS | GUILD_MEMBERS)

    s = Session(116, GUILDS | GUILD_MEMBERS | GUILD_PRESENCES)

    def req(want_members, want_presences, only=None, **d):
        s.request(**d)
        c = s.chunks()
        what = json.dumps(d)
        check(len(c) == 1, "%s: %d chunks" % (what, len(c)))
        c = c[0]
        check(sorted(ids(c["members"])) == want_members,
              "%s: members %s" % (what, sorted(ids(c["members"]))))
        if want_presences is None:
            check("presences" not in c, "%s: presences %s"
                  % (what, c.get("presences")))
            return c
        got = {int(x["user"]["id"]): x["status"]
               for x in c.get("presences", [])}
        check(set(got) <= set(want_members)
              and all(x not in ("offline", "invisible")
                      for x in got.values()),
              "%s: presences %s" % (what, c.get("presences")))
        if only is not None:
            # users whose presence this test does not control (earlier
            # blocks' sessions may be waiting for a resume) are left out
            got = {k: v for k, v in got.items() if k in only}
        check(c.get("presences") is not None and got == want_presences,
              "%s: presences %s, expected %s"
              % (what, c.get("presences"), want_presences))
        check(len(c.get("presences", [])) == len(got),
              "%s: a presence twice" % what)
        return c

    c = req([101, 102, 103, 104, 105],
            {101: "dnd", 104: "idle", 105: "online"},
            guild_id=G1, user_ids=["101", "102", "103", "104", "105"],
            presences=True, nonce="p1")
    for x in c["presences"]:
        if x["user"]["id"] == "101":
            check([a["name"] for a in x["activities"]] == ["chess"],
                  "activities of 101: %s" % x)
    check(c.get("nonce") == "p1", "nonce %s" % c.get("nonce"))
    req([101, 102, 103, 105, 106], {101: "dnd", 105: "online"},
        guild_id=G1, query="al", limit=0, presences=True)
    req([102, 103], {}, guild_id=G1, user_ids=["102", "103"],
        presences=True)
    # presences false or absent: none
    req([101, 104], None, guild_id=G1, user_ids=["101", "104"],
        presences=False)
    req([101, 104], None, guild_id=G1, user_ids=["101", "104"])
    # the whole list: the session's own user is online too
    req(sorted([100] + list(G1_USERS) + list(range(110, 120))),
        {101: "dnd", 104: "idle", 105: "online", 116: "online",
         118: "online"},
        only=set(G1_USERS) | {116, 118}, guild_id=G1, query="", limit=0, presences=True)

    # without GUILD_PRESENCES, presences:true gives none
    t.request(guild_id=G1, user_ids=["101", "104"], presences=True)
    c = t.chunks()[0]
    check(sorted(ids(c["members"])) == [101, 104] and "presences" not in c,
          "no GUILD_PRESENCES: %s" % json.dumps(c)[:400])
    t.sync()
    s.sync()
    s.close()
    t.close()
    for c in users:
        c.s.sendall(b"\x88\x82\0\0\0\0\x03\xe8")
        c.s.close()


# --- the whole member list ----------------------------------------------------

G2_IDS = sorted(BOTS + list(BULK))


def check_list(what, chunks, want_ids, nonce=None, guild=G2):
    n = len(want_ids)
    count = max(1, (n + 999) // 1000)
    check(len(chunks) == count, "%s: %d chunks, expected %d"
          % (what, len(chunks), count))
    got = []
    for i, c in enumerate(chunks):
        size = len(c["members"])
        want = 1000 if i < count - 1 else n - 1000 * (count - 1)
        check(c["chunk_index"] == i and c["chunk_count"] == count
              and size == want and c["guild_id"] == guild,
              "%s: chunk %d: index %s count %s, %d members (expected %d)"
              % (what, i, c["chunk_index"], c["chunk_count"], size, want))
        if nonce is None:
            check("nonce" not in c, "%s: chunk %d has a nonce" % (what, i))
        else:
            check(c.get("nonce") == nonce, "%s: chunk %d nonce %r"
                  % (what, i, c.get("nonce")))
        check("not_found" not in c or c["not_found"] == [],
              "%s: not_found" % what)
        check("presences" not in c, "%s: presences" % what)
        got += ids(c["members"])
    check(got == want_ids, "%s: members are not the expected ones in user id"
          " order (%d, first %s, last %s)" % (what, len(got), got[:3],
                                              got[-3:]))


def cmd_all_members():
    s = Session(110, GUILDS | GUILD_MEMBERS)
    check(s.guilds[G2]["member_count"] == 2500,
          "member_count %s" % s.guilds[G2]["member_count"])

    s.request(guild_id=G2, query="", limit=0, nonce="all-110")
    check_list("all", s.chunks(), G2_IDS, "all-110")
    # every member object is whole
    s.request(guild_id=G2, query="", limit=2500)
    chunks = s.chunks()
    check_list("limit 2500", chunks, G2_IDS)
    for c in chunks:
        for m in c["members"]:
            uid = int(m["user"]["id"])
            name = "user%05d" % (uid - 20000) if uid > 20000 else \
                ("memberbot" if uid == 100 else "mbot%d" % uid)
            if not check(m["user"]["username"] == name
                         and "joined_at" in m and m["roles"] == []
                         and m["user"]["bot"] == (uid < 20000),
                         "member %s" % json.dumps(m)):
                break

    # limit n > 0: the first n members by user id
    for limit in (1, 5, 999, 1000, 1001, 1500, 2000, 2499, 3000, 100000):
        nonce = "limit-%d" % limit
        s.request(guild_id=G2, query="", limit=limit, nonce=nonce)
        check_list(nonce, s.chunks(), G2_IDS[:limit], nonce)

    # the small guild: one chunk; a guild of the user's own is not limited
    # by another's
    s.request(guild_id=G1, query="", limit=0, nonce="g1")
    check_list("G1", s.chunks(),
               sorted([100] + list(G1_USERS) + list(range(110, 120))),
               "g1", G1)
    s.sync()

    # several requests at once: each request's chunks in order, all there
    s.request(guild_id=G2, query="", limit=2000, nonce="a")
    s.request(guild_id=G2, user_ids=["101", "100"], nonce="b")
    s.request(guild_id=G2, query="", limit=1200, nonce="c")
    s.request(guild_id=G2, query="user0001", limit=0, nonce="d")
    got = {}
    want = {"a": 2, "b": 1, "c": 2, "d": 1}
    while sum(len(v) for v in got.values()) < sum(want.values()):
        m = s.dispatch()
        check(m["t"] == "GUILD_MEMBERS_CHUNK", "not a chunk: %s" % m["t"])
        got.setdefault(m["d"].get("nonce"), []).append(m["d"])
    check(set(got) == set(want), "nonces %s" % list(got))
    check_list("queued a", got.get("a", []), G2_IDS[:2000], "a")
    check_list("queued c", got.get("c", []), G2_IDS[:1200], "c")
    b = got.get("b", [{}])[0]
    check(ids(b.get("members", [])) == [100] and b.get("not_found") == ["101"],
          "queued b: %s" % json.dumps(b)[:300])
    d = got.get("d", [{}])[0]
    check(ids(d.get("members", [])) == list(range(20010, 20020)),
          "queued d: %s" % json.dumps(d)[:300])
    s.sync()
    s.close()


def cmd_huge_limit():
    """Any integer from 0 is a limit: a huge one asks for everything."""
    s = Session(110, GUILDS | GUILD_MEMBERS)
    for q, limit, want in (("", 4294967295, G2_IDS),
                           ("user0001", 4294967295,
                            list(range(20010, 20020)))):
        what = "query %r, limit %d" % (q, limit)
        s.request(guild_id=G2, query=q, limit=limit, nonce="huge")
        try:
            c = s.chunks()
        except RuntimeError as e:
            check(False, "%s: %s" % (what, e))
            return
        if q:
            check(len(c) == 1 and ids(c[0]["members"]) == want,
                  "%s: %s" % (what, json.dumps(c)[:300]))
        else:
            check_list(what, c, want, "huge")
    s.sync()
    s.close()


# --- the rate limit of the all-members form -------------------------------

def cmd_rate_limit():
    a = Session(111, GUILDS | GUILD_MEMBERS)
    a.request(guild_id=G2, query="", limit=0, nonce="first")
    check_list("first", a.chunks(), G2_IDS, "first")

    def limited(s, guild, nonce, what, echo=True):
        d = {"guild_id": guild, "query": "", "limit": 0}
        if nonce is not None:
            d["nonce"] = nonce
        s.send(8, d)
        m = s.dispatch()
        if not check(m["t"] == "RATE_LIMITED",
                     "%s: %s instead of RATE_LIMITED" % (what, m["t"])):
            while m["d"].get("chunk_index", 0) + 1 < m["d"].get(
                    "chunk_count", 1):
                m = s.dispatch()
            return None
        d = m["d"]
        r = d.get("retry_after")
        meta = d.get("meta", {})
        check(d.get("opcode") == 8, "%s: opcode %s" % (what, d.get("opcode")))
        check(isinstance(r, float) and 0 < r <= 30,
              "%s: retry_after %r" % (what, r))
        check(meta.get("guild_id") == guild, "%s: meta %s" % (what, meta))
        if nonce is None or not echo:
            check("nonce" not in meta, "%s: meta %s" % (what, meta))
        else:
            check(meta.get("nonce") == nonce, "%s: meta %s" % (what, meta))
        # and no chunk follows: the next payload is the heartbeat ACK
        s.sync()
        return r

    r1 = limited(a, G2, "again", "again")
    check(r1 is None or r1 > 25, "retry_after %s right after" % r1)
    time.sleep(1.0)
    r2 = limited(a, G2, None, "no nonce")
    check(r1 is None or r2 is None or 0.8 <= r1 - r2 <= 5,
          "retry_after %s, then %s a second later" % (r1, r2))
    limited(a, G2, "x" * 33, "a nonce too long", echo=False)
    limited(a, G2, "\u00e9" * 16, "a 32-byte nonce")

    # the other forms are not limited
    a.request(guild_id=G2, query="", limit=2500, nonce="limit")
    check_list("limit 2500", a.chunks(), G2_IDS, "limit")
    a.request(guild_id=G2, query="", limit=1)
    check(ids(a.chunks()[0]["members"]) == [100], "limit 1 while limited")
    a.request(guild_id=G2, query="user0001", limit=0)
    check(ids(a.chunks()[0]["members"]) == list(range(20010, 20020)),
          "query while limited")
    a.request(guild_id=G2, user_ids=["20001"])
    check(ids(a.chunks()[0]["members"]) == [20001], "user_ids while limited")

    # the same user on another connection is limited; another user is not
    b = Session(111, GUILDS | GUILD_MEMBERS)
    limited(b, G2, "other session", "second session")
    c = Session(112, GUILDS | GUILD_MEMBERS)
    c.request(guild_id=G2, query="", limit=0, nonce="112")
    check_list("user 112", c.chunks(), G2_IDS, "112")
    limited(c, G2, "112 again", "user 112 again")

    # another guild is not limited, until asked twice itself
    a.request(guild_id=G1, query="", limit=0, nonce="g1")
    c1 = a.chunks()
    check(len(c1) == 1 and len(c1[0]["members"]) == 17, "G1: %s"
          % json.dumps(c1)[:300])
    limited(a, G1, "g1-again", "G1 again")

    # the first socket is still open and served
    a.request(guild_id=G1, user_ids=["101"], nonce="still")
    check(ids(a.chunks()[0]["members"]) == [101], "still open")
    for s in (a, b, c):
        s.sync()
        s.close()


def cmd_rate_limit_guilds():
    """Each guild's limit holds, whatever lists the user asked for since."""
    a = Session(115, GUILDS | GUILD_MEMBERS)
    a.request(guild_id=G2, query="", limit=0, nonce="g2")
    check_list("G2", a.chunks(), G2_IDS, "g2")
    a.request(guild_id=G1, query="", limit=0, nonce="g1")
    c = a.chunks()
    check(len(c) == 1 and len(c[0]["members"]) == 17, "G1: %s"
          % json.dumps(c)[:300])
    for guild in (G2, G1):
        a.request(guild_id=guild, query="", limit=0, nonce="again")
        m = a.dispatch()
        check(m["t"] == "RATE_LIMITED" and m["d"]["meta"]["guild_id"] == guild,
              "all members of %s again, after the lists of %s and %s: "
              "%s instead of RATE_LIMITED" % (guild, G2, G1, m["t"]))
        while m["t"] == "GUILD_MEMBERS_CHUNK" \
                and m["d"]["chunk_index"] + 1 < m["d"]["chunk_count"]:
            m = a.dispatch()
    a.sync()
    a.close()


# --- chunks are made as the client reads ------------------------------------

def cmd_streaming():
    global PORT
    PORT = int(os.environ["TEST_NGINX_BACKEND_PORT"])   # sndbuf=32k

    s = Session(113, GUILDS | GUILD_MEMBERS | GUILD_MESSAGES
                | MESSAGE_CONTENT, rcvbuf=8192)
    s.request(guild_id=G2, query="", limit=0, nonce="slow")
    # the first chunk is on its way: the server has taken the request
    s.c.s.settimeout(10)
    while not s.c.buf:
        s.c.buf += s.c.s.recv(1)
    time.sleep(0.2)
    st, out = http("POST", "/api/v10/channels/%s/messages" % CHANNEL2,
                   {"content": "between chunks"},
                   {"Authorization": "Bot " + token(100)})
    check(st == 200, "POST message: %d %s" % (st, out))
    seen = []
    chunks = []
    while len(seen) < 4:
        m = s.dispatch()
        seen.append("%s:%s" % (m["s"], m["t"]))
        if m["t"] == "GUILD_MEMBERS_CHUNK":
            chunks.append(m["d"])
        elif m["t"] == "MESSAGE_CREATE":
            check(m["d"]["content"] == "between chunks"
                  and m["d"]["author"]["id"] == "100",
                  "message %s" % json.dumps(m["d"])[:300])
    base = s.s - 3
    check(seen == ["%d:GUILD_MEMBERS_CHUNK" % base,
                   "%d:MESSAGE_CREATE" % (base + 1),
                   "%d:GUILD_MEMBERS_CHUNK" % (base + 2),
                   "%d:GUILD_MEMBERS_CHUNK" % (base + 3)],
          "the message did not come between the first and second chunk: %s"
          % seen)
    check_list("slow reader", chunks, G2_IDS, "slow")
    s.sync()

    # a reader that goes away in the middle of a list
    d = Session(114, GUILDS | GUILD_MEMBERS, rcvbuf=8192)
    d.request(guild_id=G2, query="", limit=0, nonce="gone")
    d.request(guild_id=G2, query="", limit=2000, nonce="gone too")
    while not d.c.buf:
        d.c.buf += d.c.s.recv(1)
    d.c.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     struct.pack("ii", 1, 0))
    d.close()                    # RST

    e = Session(114, GUILDS | GUILD_MEMBERS, rcvbuf=8192)
    e.request(guild_id=G2, query="", limit=0, nonce="gone")
    e.request(guild_id=G2, query="", limit=2000, nonce="gone too")
    time.sleep(0.2)
    e.c.s.shutdown(socket.SHUT_WR)     # FIN, then nothing read
    time.sleep(0.2)
    e.close()

    # the node goes on: a slow list on the first socket still works
    s.request(guild_id=G2, query="", limit=1500, nonce="after")
    check_list("after", s.chunks(), G2_IDS[:1500], "after")
    s.sync()
    s.close()
    st = json.loads(admin("GET", "/admin/status"))
    print("status after: sessions %s" % st["sessions"])


def main():
    cmd = sys.argv[1]
    t0 = time.time()
    globals()["cmd_" + cmd.replace("-", "_")]()
    print("%s: %.2f s" % (cmd, time.time() - t0))
    done()


def cmd_setup():
    setup()


if __name__ == "__main__":
    main()
