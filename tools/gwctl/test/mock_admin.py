#!/usr/bin/python3
"""An in-memory stand-in for the node's admin API (docs/API.md), for
testing gwctl before and apart from the real server.

    mock_admin.py --run-dir DIR [--port 0] [--framing length|chunked|eof]
                  [--interim] [--remote] [--prefix /P] [--max-body BYTES]
                  [--fail-ops OP,...]

Prints "listening PORT" on stdout once it accepts connections.  It reads
DIR/admin.secret and DIR/token.secret (trailing whitespace dropped).

* --framing: how response bodies are framed: Content-Length (default),
  chunked in tiny chunks with extensions and a trailer, or by closing the
  connection.  POST /admin/bulk answers are always chunked.
* --interim: a "100 Continue" before every response.
* --remote: treat every client as non-loopback (403).
* --prefix: the admin API lives under this path prefix.
* --max-body: larger request bodies get 413.
* --fail-ops: bulk lines of these ops fail with 50035.

Beyond the documented API: GET /api/v10/users/@me (Bot/Bearer token,
verified as the node does) and GET /mock/state (everything, no auth).
"""

import argparse
import hmac
import ipaddress
import json
import os
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gwtoken  # noqa: E402

DISCORD_EPOCH_MS = 1420070400000
ALL_PRIVILEGED = 33026


class Failure(Exception):
    def __init__(self, status, code, message):
        Exception.__init__(self, message)
        self.status = status
        self.body = {"code": code, "message": message}


def invalid(what):
    return Failure(400, 50035, "Invalid Form Body: " + what)


UNKNOWN_USER = (404, 10013, "Unknown User")
UNKNOWN_GUILD = (404, 10004, "Unknown Guild")
UNKNOWN_MEMBER = (404, 10007, "Unknown Member")


class State:
    def __init__(self, token_secret, fail_ops):
        self.lock = threading.Lock()
        self.token_secret = token_secret
        self.fail_ops = fail_ops
        self.users = {}           # id -> user
        self.guilds = {}          # id -> guild (with "members": {uid: m})
        self.counter = 0
        self.dispatches = []
        self.bulk_lines = 0

    def snowflake(self):
        self.counter = (self.counter + 1) & 0xFFF
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return str((ms << 22) | (1 << 17) | self.counter)

    # users

    def user_add(self, body):
        if not isinstance(body, dict):
            raise invalid("not an object")
        name = body.get("username")
        if not isinstance(name, str) or not 1 <= len(name) <= 32:
            raise invalid("username")
        bot = body.get("bot", False)
        if not isinstance(bot, bool):
            raise invalid("bot")
        uid = body.get("id")
        if uid is None:
            uid = self.snowflake()
        elif not gwtoken.is_snowflake(uid):
            raise invalid("id")
        if uid in self.users:
            raise Failure(409, 0, "user exists")
        gname = body.get("global_name")
        if gname is not None and not isinstance(gname, str):
            raise invalid("global_name")
        intents = body.get("privileged_intents", ALL_PRIVILEGED)
        if not isinstance(intents, int) or isinstance(intents, bool):
            raise invalid("privileged_intents")
        self.users[uid] = {"id": uid, "username": name, "global_name": gname,
                           "discriminator": "0", "avatar": None, "bot": bot,
                           "privileged_intents": intents}
        return {"id": uid,
                "token": gwtoken.mint(self.token_secret, uid,
                                      int(time.time()))}

    def user(self, uid):
        if uid not in self.users:
            raise Failure(*UNKNOWN_USER)
        return self.users[uid]

    def user_del(self, uid):
        self.user(uid)
        del self.users[uid]
        for g in self.guilds.values():
            g["members"].pop(uid, None)

    # guilds

    def guild_put(self, gid, body):
        if not gwtoken.is_snowflake(gid):
            raise invalid("id")
        if not isinstance(body, dict):
            raise invalid("not an object")
        name = body.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            raise invalid("name")
        owner = body.get("owner_id")
        if owner is not None:
            if not gwtoken.is_snowflake(owner):
                raise invalid("owner_id")
            self.user(owner)
        channels = body.get("channels", [])
        if not isinstance(channels, list):
            raise invalid("channels")
        seen = set()
        for ch in channels:
            if (not isinstance(ch, dict)
                    or not gwtoken.is_snowflake(ch.get("id"))
                    or not isinstance(ch.get("name"), str)
                    or not isinstance(ch.get("type"), int)
                    or ch["id"] in seen):
                raise invalid("channels")
            seen.add(ch["id"])
        roles = body.get("roles", [])
        if not isinstance(roles, list):
            raise invalid("roles")
        old = self.guilds.get(gid)
        self.guilds[gid] = {
            "id": gid, "name": name, "owner_id": owner,
            "channels": [{"id": c["id"], "name": c["name"],
                          "type": c["type"], "guild_id": gid}
                         for c in channels],
            "roles": [{"id": gid, "name": "@everyone", "permissions": "0",
                       "color": 0, "position": 0}] + roles,
            "members": old["members"] if old else {},
        }
        return self.guild_view(gid)

    def guild(self, gid):
        if gid not in self.guilds:
            raise Failure(*UNKNOWN_GUILD)
        return self.guilds[gid]

    def guild_view(self, gid):
        g = dict(self.guild(gid))
        g["member_count"] = len(g.pop("members"))
        return g

    def member_add(self, gid, uid, body):
        if not isinstance(body, dict):
            raise invalid("not an object")
        g = self.guild(gid)
        self.user(uid)
        g["members"][uid] = {"user_id": uid, "nick": body.get("nick"),
                             "roles": body.get("roles", [])}

    def member_del(self, gid, uid):
        g = self.guild(gid)
        if uid not in g["members"]:
            raise Failure(*UNKNOWN_MEMBER)
        del g["members"][uid]

    # bulk

    def bulk_line(self, line):
        try:
            op = json.loads(line)
        except ValueError:
            raise invalid("not JSON")
        if not isinstance(op, dict):
            raise invalid("not an object")
        kind = op.get("op")
        if kind in self.fail_ops:
            raise invalid("mock failure")
        if kind == "user":
            try:
                return self.user_add(op)
            except Failure as e:
                if e.status == 409:
                    # mirrors the 409 of POST /admin/users
                    raise Failure(400, 0, "user exists")
                raise
        if kind == "guild":
            gid = op.get("id")
            if not gwtoken.is_snowflake(gid):
                raise invalid("id")
            if "channels" not in op:
                raise invalid("channels")
            self.guild_put(gid, op)
            return {"id": gid}
        if kind == "member":
            gid, uid = op.get("guild_id"), op.get("user_id")
            if not gwtoken.is_snowflake(gid) or not gwtoken.is_snowflake(uid):
                raise invalid("guild_id/user_id")
            self.member_add(gid, uid, {})
            return {"guild_id": gid, "user_id": uid}
        raise invalid("op")

    def bulk(self, data):
        out = []
        for line in data.split(b"\n"):
            line = line.strip()
            if not line:
                continue
            self.bulk_lines += 1
            try:
                res = self.bulk_line(line)
            except Failure as e:
                res = e.body
            out.append(json.dumps(res, separators=(",", ":")))
        return ("\n".join(out) + "\n").encode() if out else b""

    def status(self, sessions):
        s = {
            "node": "1", "pid": os.getpid(),
            "workers": [{"slot": 0, "pid": os.getpid(), "sessions": 0}],
            "sessions": {"attached": 0, "detached": 0},
            "users": len(self.users), "guilds": len(self.guilds),
            "members": sum(len(g["members"]) for g in self.guilds.values()),
            "shards": [],
            "zone": {"name": "gateway", "size": 268435456,
                     "used": 4096 + 200 * len(self.users)},
        }
        if sessions:
            s["session_list"] = []
        return s

    def dump(self):
        return {
            "users": self.users,
            "guilds": {gid: dict(g, members=sorted(g["members"], key=int))
                       for gid, g in self.guilds.items()},
            "guild_order": list(self.guilds),
            "dispatches": self.dispatches,
            "bulk_lines": self.bulk_lines,
        }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "mock-admin/1"

    def log_message(self, fmt, *args):
        if self.server.opts.verbose:
            BaseHTTPRequestHandler.log_message(self, fmt, *args)

    # responses

    def reply(self, status, obj=None, raw=None, ctype="application/json",
              framing=None):
        opts = self.server.opts
        framing = framing or opts.framing
        if opts.interim:
            self.send_response_only(100)
            self.end_headers()
        body = raw if raw is not None else (
            b"" if obj is None else json.dumps(obj).encode())
        self.send_response(status)
        if status == 204:
            self.end_headers()
            return
        self.send_header("Content-Type", ctype)
        if framing == "length":
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif framing == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            big = len(body) > 65536
            i = 0
            while i < len(body):
                n = random.randint(1, 8) if not big else random.randint(
                    1, 16384)
                chunk = body[i:i + n]
                ext = ";x=y" if random.random() < 0.2 else ""
                self.wfile.write(b"%x%s\r\n%s\r\n"
                                 % (len(chunk), ext.encode(), chunk))
                if not big:
                    self.wfile.flush()
                i += n
            self.wfile.write(b"0\r\nX-Trailer: 1\r\n\r\n")
        else:
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True
        self.wfile.flush()

    def fail(self, status, code, message):
        self.reply(status, {"code": code, "message": message})

    # requests

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def json_body(self, data):
        try:
            return json.loads(data)
        except ValueError:
            raise invalid("not JSON")

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def do_PATCH(self):
        self.handle_any("PATCH")

    def handle_any(self, method):
        opts = self.server.opts
        state = self.server.state
        data = self.body()     # read first, like a lingering close
        url = urlsplit(self.path)
        path = url.path
        query = parse_qs(url.query)

        if path == "/mock/state":
            with state.lock:
                return self.reply(200, state.dump(), framing="length")

        if path == "/api/v10/users/@me":
            return self.me(method)

        if opts.prefix:
            if not path.startswith(opts.prefix + "/"):
                return self.fail(404, 0, "404: Not Found")
            path = path[len(opts.prefix):]

        if not path.startswith("/admin/"):
            return self.fail(404, 0, "404: Not Found")

        addr = ipaddress.ip_address(self.client_address[0])
        if opts.remote or not addr.is_loopback:
            return self.fail(403, 0, "403: Forbidden")

        auth = self.headers.get("Authorization", "")
        want = "Admin " + self.server.admin_secret
        if not hmac.compare_digest(auth.encode(), want.encode()):
            return self.fail(401, 0, "401: Unauthorized")

        if opts.max_body and len(data) > opts.max_body:
            return self.fail(413, 40005, "Request entity too large")

        try:
            with state.lock:
                self.route(method, path.split("/")[2:], query, data)
        except Failure as e:
            self.reply(e.status, e.body)

    def route(self, method, seg, query, data):
        state = self.server.state

        def allow(*methods):
            if method not in methods:
                raise Failure(405, 0, "405: Method Not Allowed")

        if seg == ["users"]:
            allow("POST")
            return self.reply(200, state.user_add(self.json_body(data)))

        if len(seg) == 2 and seg[0] == "users":
            allow("GET", "DELETE")
            if method == "GET":
                return self.reply(200, state.user(seg[1]))
            state.user_del(seg[1])
            return self.reply(204)

        if len(seg) == 2 and seg[0] == "guilds":
            allow("GET", "PUT", "DELETE")
            if method == "PUT":
                return self.reply(200, state.guild_put(
                    seg[1], self.json_body(data)))
            if method == "GET":
                return self.reply(200, state.guild_view(seg[1]))
            state.guild(seg[1])
            del state.guilds[seg[1]]
            return self.reply(204)

        if len(seg) == 4 and seg[0] == "guilds" and seg[2] == "members":
            allow("PUT", "DELETE")
            if method == "PUT":
                state.member_add(seg[1], seg[3], self.json_body(data))
            else:
                state.member_del(seg[1], seg[3])
            return self.reply(204)

        if len(seg) == 3 and seg[0] == "guilds" and seg[2] == "dispatch":
            allow("POST")
            body = self.json_body(data)
            if (not isinstance(body, dict)
                    or not isinstance(body.get("t"), str) or "d" not in body):
                raise invalid("t/d")
            state.guild(seg[1])
            state.dispatches.append({"guild_id": seg[1], "t": body["t"],
                                     "d": body["d"]})
            return self.reply(202)

        if seg == ["bulk"]:
            allow("POST")
            ctype = self.headers.get("Content-Type", "")
            if ctype.split(";")[0].strip() != "application/x-ndjson":
                raise invalid("Content-Type must be application/x-ndjson")
            return self.reply(200, raw=state.bulk(data),
                              ctype="application/x-ndjson",
                              framing="chunked")

        if seg == ["status"]:
            allow("GET")
            return self.reply(200, state.status(
                query.get("sessions") == ["1"]))

        raise Failure(404, 0, "404: Not Found")

    def me(self, method):
        state = self.server.state
        if method != "GET":
            return self.fail(405, 0, "405: Method Not Allowed")
        auth = self.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        try:
            if scheme not in ("Bot", "Bearer"):
                raise ValueError("scheme")
            uid, _ = gwtoken.verify(state.token_secret, token)
        except (ValueError, UnicodeDecodeError):
            return self.fail(401, 0, "401: Unauthorized")
        with state.lock:
            user = state.users.get(uid)
        if user is None:
            # a token of a user that no longer exists is refused
            return self.fail(401, 0, "401: Unauthorized")
        self.reply(200, user)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run-dir", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--framing", choices=("length", "chunked", "eof"),
                    default="length")
    ap.add_argument("--interim", action="store_true")
    ap.add_argument("--remote", action="store_true")
    ap.add_argument("--prefix", default="")
    ap.add_argument("--max-body", type=int, default=0)
    ap.add_argument("--fail-ops", default="")
    ap.add_argument("--verbose", action="store_true")
    opts = ap.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", opts.port), Handler)
    server.daemon_threads = True
    server.opts = opts
    server.admin_secret = gwtoken.read_secret(
        os.path.join(opts.run_dir, "admin.secret")).decode()
    server.state = State(
        gwtoken.read_secret(os.path.join(opts.run_dir, "token.secret")),
        set(filter(None, opts.fail_ops.split(","))))

    print("listening", server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
