#!/usr/bin/python3
"""Identify and upgrade limits (shared/PROTOCOL.md 1.6, 1.11, 1.12) for
t/065-gw-limits.t:

    resume_limits.py interval|concurrency|starts|upgrade

interval     gateway_identify_interval (default 5 s): a user's second Identify within
             it gets op 9 d:false 0.5-1.5 s later, the socket stays open and
             may Identify again once the interval is over; other users and
             resumes are not limited; a refused Identify is not counted;
concurrency  gateway_identify_concurrency 2: shards [0,2] and [1,2] are two
             buckets; shard_id % 2 picks the bucket; /gateway/bot says 2;
starts       gateway_session_start_limit 3: /gateway/bot counts Identifies
             down (resumes do not count), reset_after runs; the fourth
             Identify closes 4004; other users have their own count;
upgrade      gateway_upgrade_limit rate=2r/s burst=3 (location) and
             rate=1r/s (server) with "off" in one location: 429 with
             Retry-After and Discord's body; per client address.
"""

import json
import re
import threading
import time

from resume_lib import (BPORT, FULL, INVALID, PORT, RSession, admin_user,
                        check, handshake, http, resume, run, token)


def identify(uid, shard=None, port=None, name=""):
    s = RSession(port or BPORT, name or str(uid))
    s.identify(uid, FULL, shard=shard, guilds=[])
    return s


def identify_again(s, uid, shard=None):
    """an Identify on a socket that had its Hello already"""
    s.pending.insert(0, {"op": 10, "d": {}})
    s.s = 0
    s.identify(uid, FULL, shard=shard, guilds=[])


def deny_start(uid, shard=None, port=None):
    """an Identify that is to get op 9 d:false 0.5-1.5 s later"""
    s = RSession(port or BPORT, "denied %s %s" % (uid, shard))
    s.hello()
    d = {"token": token(uid), "intents": FULL,
         "properties": {"os": "linux", "browser": "t", "device": "t"}}
    if shard is not None:
        d["shard"] = shard
    s.send({"op": 2, "d": d})
    return s, time.time()


def deny_end(started):
    """its op 9, 0.5-1.5 s after the Identify; the socket stays open.
    Returns the socket and the delay."""
    s, t0 = started
    m = s.next_message(3, "op 9")
    dt = time.time() - t0
    check(m == INVALID, "%r: %s instead of op 9 d:false" % (s, m))
    check(0.45 <= dt <= 1.65, "%r: op 9 after %.3f s, expected 0.5-1.5"
          % (s, dt))
    s.expect_nothing(0.1)
    s.alive()
    return s, dt


def deny_all(started):
    """deny_end of each, at once (each op 9 timed when it arrives)"""
    out = [None] * len(started)
    errs = []

    def one(i):
        try:
            out[i] = deny_end(started[i])
        except Exception as e:     # noqa: BLE001 (reported below)
            errs.append(e)
    ts = [threading.Thread(target=one, args=(i,)) for i in range(len(started))]
    for t in ts:
        t.start()
    for t in ts:
        t.join(10)
    if errs:
        raise errs[0]
    return out


def bot(uid):
    r = http("GET", "/api/v10/gateway/bot", auth="Bot " + token(uid))
    check(r.status == 200 and r.headers.get("Content-Type", "")
          .startswith("application/json"), "GET /gateway/bot -> %r" % r)
    return r.json


def interval():
    """the default interval, 5 s"""
    U, V = 6601, 6602
    admin_user(U)
    admin_user(V)
    a = identify(U)
    t0 = time.time()
    # three more at once, on both listeners (other workers, most likely)
    started = [deny_start(U, port=p) for p in (BPORT, PORT, BPORT)]
    # another user is not limited
    c = identify(V)
    # a resume is no Identify
    a.drop()
    r = resume(a)
    r.expect_resumed()
    ended = deny_all(started)
    delays = [dt for _, dt in ended]
    b = ended[0][0]
    for s, _ in ended[1:]:
        s.close(1000)
    # the refused ones were not counted
    left = bot(U)["session_start_limit"]["remaining"]
    check(left == 999, "remaining %d after one Identify and three "
          "refused" % left)
    # still within 5 s
    time.sleep(max(0, t0 + 4.6 - time.time()))
    late = deny_start(U)
    # once the interval is over, the socket that got op 9 identifies
    time.sleep(max(0, t0 + 5.2 - time.time()))
    identify_again(b, U)
    s, dt = deny_end(late)
    delays.append(dt)
    check(time.time() - t0 < 7, "too slow")
    # and started the next interval
    s2, dt = deny_end(deny_start(U))
    delays.append(dt)
    for x in (r, b, c, s, s2):
        x.close(1000)
    check(max(delays) - min(delays) > 0.02, "op 9 delays not random: %s"
          % delays)
    print("op 9 after %s s; identified again after 5 s"
          % ", ".join("%.2f" % d for d in delays))


def concurrency():
    """gateway_identify_concurrency 2, gateway_identify_interval 2s"""
    W, X = 6611, 6612
    admin_user(W)
    admin_user(X)
    check(bot(W)["session_start_limit"]["max_concurrency"] == 2,
          "max_concurrency", bot(W))
    t0 = time.time()
    s0 = identify(W, [0, 2])
    s1 = identify(W, [1, 2])            # the other bucket
    other = identify(X, [0, 2])         # another user
    started = [deny_start(W, shard) for shard in
               ([0, 2], [1, 2], [2, 4], [3, 4], [0, 1], [4, 8], [7, 8])]
    check(time.time() - t0 < 1.9, "too slow: the interval ran out")
    waits = [s for s, _ in deny_all(started)]
    time.sleep(max(0, t0 + 2.1 - time.time()))
    # both buckets free again: [2,4] (bucket 0) and [3,4] (bucket 1)
    identify_again(waits[2], W, [2, 4])
    identify_again(waits[3], W, [3, 4])
    for x in [s0, s1, other] + waits:
        x.close(1000)
    print("buckets shard_id % 2: [0,2] and [1,2] both identified, then "
          "op 9 for 7 more; both free after the interval")


def starts():
    U, V, Z = 6621, 6622, 6629
    admin_user(U)
    admin_user(V)
    url = "ws://127.0.0.1:%d/gateway" % PORT
    check(bot(U) == {"url": url, "shards": 1, "session_start_limit": {
        "total": 3, "remaining": 3, "reset_after": 0,
        "max_concurrency": 1}}, "before any Identify", bot(U))
    r = http("GET", "/api/v10/gateway")
    check(r.status == 200 and r.json == {"url": url}, "/gateway -> %r" % r)
    for auth in (None, "Bot " + token(U, "x"), "Bot " + token(Z)):
        r = http("GET", "/api/v10/gateway/bot", auth=auth)
        check(r.status == 401, "/gateway/bot with %s -> %r" % (auth, r))

    a = identify(U)
    ssl = bot(U)["session_start_limit"]
    check(ssl["remaining"] == 2 and ssl["total"] == 3
          and 86390000 <= ssl["reset_after"] <= 86400000,
          "after one Identify", ssl)
    # resumes are not counted
    a.drop()
    r = resume(a)
    r.expect_resumed()
    check(bot(U)["session_start_limit"]["remaining"] == 2, "after a resume",
          bot(U))
    b = identify(U)
    c = identify(U)
    ssl2 = bot(U)["session_start_limit"]
    check(ssl2["remaining"] == 0 and ssl2["reset_after"] <= ssl["reset_after"]
          and ssl2["reset_after"] >= 86380000, "after three", ssl2)
    # the fourth: 4004, with the reason
    d = RSession(BPORT, "fourth")
    d.hello()
    d.send({"op": 2, "d": {"token": token(U), "intents": FULL,
                           "properties": {}}})
    d.expect_close(4004, "Authentication failed: session start limit of 3 "
                   "reached")
    check(bot(U)["session_start_limit"]["remaining"] == 0, "after the 4004")
    # the sessions started go on, and resume
    c.drop()
    r2 = resume(c)
    r2.expect_resumed()
    # another user has its own count
    check(bot(V)["session_start_limit"] == {
        "total": 3, "remaining": 3, "reset_after": 0, "max_concurrency": 1},
        "another user", bot(V))
    v = identify(V)
    check(bot(V)["session_start_limit"]["remaining"] == 2, "V", bot(V))
    for x in (r, b, r2, v):
        x.close(1000)
    print("remaining 3, 2, 2 (resume), 0, then 4004; reset_after %d ms"
          % ssl["reset_after"])


BODY = re.compile(rb'^\{"message":"You are being rate limited\.",'
                  rb'"retry_after":(\d+\.\d{3}),"global":false,"code":0\}$')


def over(status, headers, body, what):
    """a 429 with Retry-After in whole seconds and Discord's body; returns
    retry_after"""
    check(status == 429, "%s: %d instead of 429 %r" % (what, status, body))
    m = BODY.match(body)
    check(m is not None, "%s: body %r" % (what, body))
    check(headers.get("content-type", "").startswith("application/json"),
          "%s: Content-Type %s" % (what, headers.get("content-type")))
    retry = float(m.group(1))
    j = json.loads(body)
    check(j["retry_after"] == retry and j["global"] is False
          and j["code"] == 0, "%s: body %s" % (what, j))
    ra = headers.get("retry-after")
    check(ra is not None and ra.isdigit()
          and int(ra) == max(1, -(-int(round(retry * 1000)) // 1000)),
          "%s: Retry-After %s for retry_after %s" % (what, ra, retry))
    return retry


def upgrade():
    """/gateway: rate=2r/s burst=3; /gateway-slow: the server's rate=1r/s
    (burst 1); /gateway-free: off.  As nginx's limit_req counts it: the
    first upgrade of an address, then `burst` more at once."""
    def ok(path, source=None, what=""):
        st, h, body, s = handshake(PORT, path, source)
        check(st == 101, "%s %s from %s: %d %r" % (what, path, source, st,
                                                   body))
        s.close()

    # 127.0.0.1: 1 + a burst of 3, then 429; the bucket leaks 2 a second
    # meanwhile, so retry_after is 0.5 s less the time taken
    t0 = time.time()
    for i in range(4):
        ok("/gateway?v=10", what="burst %d" % i)
    st, h, body, _ = handshake(PORT, "/gateway?v=10")
    took = time.time() - t0
    retry = over(st, h, body, "the 5th upgrade")
    check(0.5 - took - 0.01 <= retry <= 0.5, "retry_after %s %.3f s after "
          "the first, expected 0.5 s less that (2r/s)" % (retry, took))
    # refused ones are not counted: still 429, not longer
    st, h, body, _ = handshake(PORT, "/gateway?v=10")
    retry2 = over(st, h, body, "the 6th upgrade")
    check(retry2 <= retry, "retry_after grew: %s, %s" % (retry, retry2))
    # another address has its own bucket; "off" has none
    for i in range(4):
        ok("/gateway?v=10", source="127.0.0.2", what="127.0.0.2")
    for i in range(10):
        ok("/gateway-free?v=10", what="off")
    # after retry_after, one more
    time.sleep(retry2 + 0.02)
    ok("/gateway?v=10", what="after retry_after")

    # the server level: 1r/s, burst 1 (the rate): two, then 429
    t0 = time.time()
    ok("/gateway-slow?v=10", source="127.0.0.3", what="slow")
    ok("/gateway-slow?v=10", source="127.0.0.3", what="slow")
    st, h, body, _ = handshake(PORT, "/gateway-slow?v=10", "127.0.0.3")
    took = time.time() - t0
    retry = over(st, h, body, "the 3rd slow upgrade")
    check(1.0 - took - 0.01 <= retry <= 1.0, "retry_after %s %.3f s after "
          "the first, expected 1 s less that (1r/s)" % (retry, took))
    check(h.get("retry-after") == "1", "Retry-After", h)

    # a steady 2/s passes
    time.sleep(2.1)
    for i in range(6):
        ok("/gateway?v=10", what="steady %d" % i)
        time.sleep(0.51)
    print("1 + burst 3, then 429 (retry_after %.3f s, Retry-After 1); "
          "other addresses and \"off\" not limited; a steady 2/s passes"
          % retry2)


if __name__ == "__main__":
    run({"interval": interval, "concurrency": concurrency, "starts": starts,
         "upgrade": upgrade})
