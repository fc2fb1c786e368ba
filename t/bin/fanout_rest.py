#!/usr/bin/python3
"""REST message checks for t/062-gw-rest-messages.t:

    fanout_rest.py accepted|nonce_chars|refused|slow

accepted: POST /channels/{id}/messages and /typing that succeed, at the
    limits (2000 code points of 1, 2 and 4 bytes, 10 embeds, a 25-character
    nonce), checked in the answer and in every session's dispatch;
nonce_chars: a nonce of 25 two- and four-byte characters is accepted;
refused: every bad request, with its exact status and body, while member
    sessions of the guilds watch: none of them gets anything;
slow: a client that stops reading is closed once its backlog passes
    gateway_send_queue, its session detached, while another session gets
    every message.
"""

import json
import re
import socket
import time

from fanout_lib import (BPORT, GUILDS, GUILD_MEMBERS, GUILD_MESSAGES,
                        GUILD_MESSAGE_TYPING, MESSAGE_CONTENT, PORT, Fail,
                        Session, World, check, http, run, status_sessions,
                        token, wait_until, admin_guild, admin_member,
                        admin_user, rest_message, ADMIN_SECRET)

FULL = (GUILDS | GUILD_MEMBERS | GUILD_MESSAGES | GUILD_MESSAGE_TYPING
        | MESSAGE_CONTENT)
NOCONTENT = GUILDS | GUILD_MESSAGES | GUILD_MESSAGE_TYPING

UNAUTHORIZED = {"code": 0, "message": "401: Unauthorized"}
UNKNOWN_CHANNEL = {"code": 10003, "message": "Unknown Channel"}
MISSING_ACCESS = {"code": 50001, "message": "Missing Access"}
TOO_LONG = {"code": 50035, "message": "Invalid Form Body: content: Must be "
                                      "2000 or fewer in length."}
EMPTY = {"code": 50006, "message": "Cannot send an empty message"}
NOT_ALLOWED = {"code": 0, "message": "405: Method Not Allowed"}
FORM = (50035, r"^Invalid Form Body")
NON_TEXT = (50008, r".")


def accepted():
    G = 3000 << 22
    C, T = G + 1, G + 2
    w = World(PORT)
    w.guild(G, [(C, 0), (T, 0)], [3001, 3002, 3003])
    w.session(3001, FULL)
    w.session(3002, NOCONTENT)
    w.session(3003, GUILDS | GUILD_MESSAGES)            # no typing
    w.session(3003, GUILDS | GUILD_MESSAGE_TYPING)      # no messages

    w.post(C, 3001, {"content": "a" * 2000}, [])
    w.post(C, 3001, {"content": "\u00e9" * 2000}, [])
    w.post(C, 3002, {"content": "\u2603" * 2000}, [])
    w.post(C, 3002, {"content": "\U0001F600" * 2000}, [])
    # as \ud83d\ude00 escapes (json.dumps writes them so): still 2000
    r = http("POST", "/api/v10/channels/%d/messages" % C,
             '{"content":"' + "\\ud83d\\ude00" * 1000 + "x" * 1000 + '"}',
             auth="Bot " + token(3003))
    check(r.status == 200 and r.json["content"] == "\U0001F600" * 1000
          + "x" * 1000, "2000 escaped characters -> %r" % r)
    w.events.append(_event_of(w, r.json, C, 3003))
    w.post(C, 3003, {"content": "x <@3001>" + "y" * 1991}, [3001])
    w.post(C, 3001, {"embeds": [{"title": "e%d" % i} for i in range(10)]},
           [])
    w.post(C, 3001, {"content": "n", "nonce": "n" * 25, "tts": False}, [])
    w.post(C, 3001, {"content": "n", "nonce": -12345678901234, "tts": True},
           [])
    w.post(C, 3001, {"content": "null fields", "nonce": None, "tts": None,
                     "embeds": None}, [])
    w.post(T, 3002, {"content": "in the second channel <@!3003>"}, [3003])
    w.typing(C, 3001)
    w.typing(T, 3003)
    r = http("POST", "/api/v9/channels/%d/typing" % C, None,
             auth="Bearer " + token(3002))
    check(r.status == 204, "typing over v9 with Bearer -> %r" % r)
    w.events.append(_typing_of(w, C, 3002))
    w.dispatch(G, "FANOUT_END", {})
    total = w.verify()
    print("%d sessions, %d events, %d delivered" % (
        len(w.sessions), len(w.events), total))


def nonce_chars():
    """a nonce of at most 25 characters, not bytes"""
    G = 3001 << 22
    C = G + 1
    w = World(PORT)
    w.guild(G, [(C, 0)], [3051])
    w.session(3051, FULL)
    w.post(C, 3051, {"content": "n", "nonce": "\u00e9" * 25}, [])
    w.post(C, 3051, {"content": "n", "nonce": "\U0001F600" * 25}, [])
    w.verify()


def _event_of(w, msg, channel, author):
    """a message posted outside World.post, for the model"""
    from fanout_lib import Event
    gid = w.channels[channel]
    return Event("message", gid, ("MESSAGE_CREATE", msg["id"]),
                 GUILD_MESSAGES, msg=msg, author=author,
                 members=set(w.members[gid]),
                 mentioned={int(m["id"]) for m in msg["mentions"]})


def _typing_of(w, channel, uid):
    from fanout_lib import Event
    gid = w.channels[channel]
    t = int(time.time())
    return Event("typing", gid, ("TYPING_START", str(channel), str(uid)),
                 GUILD_MESSAGE_TYPING, user=uid, t0=t - 1, t1=t + 1,
                 members=set(w.members[gid]))


def refused():
    GR, GO = 3010 << 22, 3011 << 22
    CR, CAT, VOICE, CO = GR + 1, GR + 2, GR + 3, GO + 1
    A, B, O, BOTH, GONE = 3101, 3102, 3103, 3104, 3105
    w = World(PORT)
    w.guild(GR, [(CR, 0), (CAT, 4), (VOICE, 2)], [A, B, BOTH])
    w.guild(GO, [(CO, 0)], [O, BOTH])
    w.user(GONE)
    http("DELETE", "/admin/users/%d" % GONE, auth="Admin " + ADMIN_SECRET)
    w.session(A, FULL)
    w.session(B, NOCONTENT)
    w.session(O, FULL)
    w.session(BOTH, FULL)
    w.session(BOTH, NOCONTENT)

    ta = "Bot " + token(A)
    msgs = "/api/v10/channels/%s/messages"
    typing = "/api/v10/channels/%s/typing"
    ok_body = {"content": "must not be sent"}
    cases = [
        # (what, method, path, auth, body, status, expected body)
        ("no Authorization", "POST", msgs % CR, None, ok_body, 401,
         UNAUTHORIZED),
        ("a token that is not one", "POST", msgs % CR, "Bot not.a.token",
         ok_body, 401, UNAUTHORIZED),
        ("another secret", "POST", msgs % CR,
         "Bot " + token(A, "another-secret"), ok_body, 401, UNAUTHORIZED),
        ("a deleted user", "POST", msgs % CR, "Bot " + token(GONE), ok_body,
         401, UNAUTHORIZED),
        ("a user that never existed", "POST", msgs % CR,
         "Bot " + token(999999), ok_body, 401, UNAUTHORIZED),
        ("no scheme", "POST", msgs % CR, token(A), ok_body, 401,
         UNAUTHORIZED),
        ("scheme Basic", "POST", msgs % CR, "Basic " + token(A), ok_body,
         401, UNAUTHORIZED),
        ("an unknown channel", "POST", msgs % 999999, ta, ok_body, 404,
         UNKNOWN_CHANNEL),
        ("a guild id as channel", "POST", msgs % GR, ta, ok_body, 404,
         UNKNOWN_CHANNEL),
    ]
    for bad in ("abc", "0", "0123", "-5", "18446744073709551616", "1e3",
                "%d.0" % CR, "+%d" % CR):
        cases.append(("malformed channel id %s" % bad, "POST", msgs % bad,
                      ta, ok_body, 404, UNKNOWN_CHANNEL))
    cases += [
        ("not a member of the channel's guild", "POST", msgs % CO, ta,
         ok_body, 403, MISSING_ACCESS),
        ("2001 ASCII characters", "POST", msgs % CR, ta,
         {"content": "a" * 2001}, 400, TOO_LONG),
        ("2001 two-byte characters", "POST", msgs % CR, ta,
         {"content": "\u00e9" * 2001}, 400, TOO_LONG),
        ("2001 four-byte characters", "POST", msgs % CR, ta,
         {"content": "\U0001F600" * 2001}, 400, TOO_LONG),
        ("2001 characters, escaped", "POST", msgs % CR, ta,
         '{"content":"' + "\\u00e9" * 2001 + '"}', 400, TOO_LONG),
        ("2001 characters and embeds", "POST", msgs % CR, ta,
         {"content": "a" * 2001, "embeds": [{"title": "t"}]}, 400, TOO_LONG),
    ]
    for body in ({}, {"content": ""}, {"content": None}, {"embeds": []},
                 {"content": "", "embeds": []}, {"tts": True},
                 {"nonce": "x"}, {"content": None, "embeds": None}):
        cases.append(("empty: %s" % json.dumps(body), "POST", msgs % CR, ta,
                      body, 400, EMPTY))
    for body in ("", "{", "not json", '{"content":"x"', '{"content":"x"}}',
                 '{"content":"\\x"}', b'{"content":"\xff"}'):
        cases.append(("invalid JSON %r" % body, "POST", msgs % CR, ta, body,
                      400, FORM))
    for body in ({"content": 123}, {"content": ["x"]},
                 {"content": "x", "tts": "yes"},
                 {"content": "x", "nonce": "n" * 26},
                 {"content": "x", "nonce": "\u00e9" * 26},
                 {"content": "x", "nonce": 1.5},
                 {"content": "x", "nonce": True},
                 {"content": "x", "nonce": {}},
                 {"content": "x", "embeds": [{}] * 11},
                 {"content": "x", "embeds": "x"}):
        cases.append(("invalid field %s" % json.dumps(body)[:60], "POST",
                      msgs % CR, ta, body, 400, FORM))
    cases += [
        ("a category channel", "POST", msgs % CAT, ta, ok_body, 400,
         NON_TEXT),
        ("GET messages", "GET", msgs % CR, ta, None, 405, NOT_ALLOWED),
        ("GET typing", "GET", typing % CR, ta, None, 405, NOT_ALLOWED),
        ("typing without a token", "POST", typing % CR, None, None, 401,
         UNAUTHORIZED),
        ("typing with a forged token", "POST", typing % CR,
         "Bot " + token(A, "x"), None, 401, UNAUTHORIZED),
        ("typing in an unknown channel", "POST", typing % 999999, ta, None,
         404, UNKNOWN_CHANNEL),
        ("typing, malformed channel id", "POST", typing % "abc", ta, None,
         404, UNKNOWN_CHANNEL),
        ("typing, not a member", "POST", typing % CO, ta, None, 403,
         MISSING_ACCESS),
    ]

    failed = []
    for what, method, path, auth, body, status, exp in cases:
        r = http(method, path, body, auth=auth)
        ctype = r.headers.get("Content-Type", "")
        if isinstance(exp, dict):
            good = r.status == status and r.json == exp
        else:
            good = (r.status == status and isinstance(r.json, dict)
                    and r.json.get("code") == exp[0]
                    and isinstance(r.json.get("message"), str)
                    and re.search(exp[1], r.json["message"]) is not None
                    and set(r.json) == {"code", "message"})
        good = good and ctype.startswith("application/json")
        if not good:
            failed.append("%s: %s %s -> %r (%s), expected %d %s" % (
                what, method, path, r, ctype, status, json.dumps(exp)
                if isinstance(exp, dict) else "code %d" % exp[0]))
    check(not failed, "%d of %d refused requests answered wrongly:\n    "
          % (len(failed), len(cases)) + "\n    ".join(failed))

    # nothing of it reached anyone: the markers come next everywhere
    w.dispatch(GR, "FANOUT_END", {})
    w.dispatch(GO, "FANOUT_END", {})
    w.post(CR, A, {"content": "and now a good one"}, [])
    w.verify()
    print("%d refused requests, no dispatch" % len(cases))


def slow():
    G = 3020 << 22
    C = G + 1
    N = 40
    for u in (3201, 3202):
        admin_user(u)
    admin_guild(G, [(C, 0)])
    for u in (3201, 3202):
        admin_member(G, u)

    normal = Session(PORT, "normal")
    normal.identify(3201, FULL)
    # on the listener with sndbuf=8k, with a small receive buffer
    lazy = Session(BPORT, "lazy", rcvbuf=4096)
    lazy.identify(3202, FULL)
    sid = lazy.ready["session_id"]
    check(status_sessions()[0][sid]["attached"], "lazy session attached")

    # in lockstep with the normal session, which so never lags behind
    body = {"content": "s" * 2000,
            "embeds": [{"title": "big", "description": "d" * 4000}]}
    for n in range(N):
        body["nonce"] = n
        r = rest_message(C, 3201, body)
        check(r.status == 200, "message %d -> %r" % (n, r))
        m = normal.dispatch(5, "message %d" % n)
        check(m["t"] == "MESSAGE_CREATE" and m["d"]["id"] == r.json["id"],
              "the normal session's message %d" % n, m)
    r = http("POST", "/admin/guilds/%d/dispatch" % G,
             {"t": "FANOUT_END", "d": {}}, auth="Admin " + ADMIN_SECRET)
    check(r.status == 202, "dispatch -> %r" % r)
    normal.expect("FANOUT_END")

    # the lazy one was closed: its socket ends (after what it was sent)
    lazy.c.s.settimeout(5)
    end = time.time() + 5
    n = 0
    try:
        while time.time() < end:
            d = lazy.c.s.recv(65536)
            if not d:
                break
            n += len(d)
        else:
            raise Fail("the lazy client's connection is still open")
    except socket.timeout:
        raise Fail("the lazy client's connection is still open")
    except ConnectionResetError:
        pass
    check(n < N * 6000, "the lazy client could read everything (%d bytes):"
          " no backpressure in this test" % n)

    # its session is detached, not deleted
    listed = wait_until(lambda: (lambda l: l if sid in l
                                 and not l[sid]["attached"] else None)(
        status_sessions()[0]), 5, "the lazy session detached")
    check(listed[sid]["user_id"] == "3202", "session", listed[sid])
    nsid = normal.ready["session_id"]
    check(nsid in listed and listed[nsid]["attached"],
          "the normal session is attached")
    normal.expect_nothing(0.2)
    normal.close(1000)
    print("lazy client closed after %d bytes, its session detached; "
          "the other got all %d messages" % (n, N))


if __name__ == "__main__":
    run({"accepted": accepted, "nonce_chars": nonce_chars,
         "refused": refused, "slow": slow})
