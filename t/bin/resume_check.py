#!/usr/bin/python3
"""op 6 Resume (shared/PROTOCOL.md 1.8, 1.9) for t/064-gw-resume.t:

    resume_check.py SCENARIO [args]

replay     a dropped connection resumes: every dispatch published while it
           was away (messages, typing, an admin dispatch) comes again with
           its original s and the payload a live session got, then RESUMED
           with the next s, then live events, gap-free;
workers    resumes until one lands on another worker than the Identify;
           nothing is lost on the way;
takeover   a resume while the old socket is still open takes the session,
           on the same and on another worker: the old socket gets close
           4003 "...session resumed on another connection" and nothing else;
stale      seq before the end of the READY burst, or past the last s: op 9
           d:false, the socket stays open; seq null is 0; the session is
           not touched and resumes afterwards;
unknown    unknown and malformed session ids: op 9 d:false;
foreign    another user's token: op 9 d:false, nothing leaks, the session
           is still whole;
ending     client close 1000/1001 ends the session; 4200, 3000, a drop and
           a server-initiated close (4002, echoed with 1000) keep it;
zombie     a server-initiated 4009 (no heartbeat) keeps it;
expired    gateway_resume_timeout 1s: an attached session does not expire;
           a detached one is gone about a second after the timeout, but
           is resumable for all of it (0.85 s after a drop late in a
           wall-clock second, with the sweeps early in each: after a
           reload at the start of one);
ring N     gateway_resume_buffer N (8 here; 9 means 16, the ring's size S):
           S-1 and S dispatches missed are all replayed; with S+1 or 3*S
           the oldest are dropped: a resume from before the oldest kept
           is op 9, from it or later replays the rest;
bytes L    gateway_resume_buffer 128 L: ~1.5 KiB dispatches, the ring keeps
           as many as fit in L bytes of bodies (sizes from a live session
           with the same intents);
behind     an attached client whose worker is stopped falls more than the
           ring behind: op 9 d:false, the session ends;
malformed  op 6 payloads that are not {token, session_id, seq}: 4002; a
           bad token signature: 4004; Resume after Identify or after a
           Resume: 4005.
"""

import json
import os
import random
import re
import signal
import threading
import time

from resume_lib import (BPORT, FULL, PORT, TAKEN_OVER, Fail, RSession,
                        RWorld, admin_user, check, http, hup, pid_of,
                        refused, resume, run, session_of, token, verify,
                        wait_detached, wait_gone)


def setup(base, users, channels=1):
    """a guild with text channels and members; a World on the reuseport
    listener (spread over the workers)"""
    G = base << 22
    w = RWorld(BPORT)
    w.guild(G, [(G + 1 + i, 0) for i in range(channels)], users)
    return w, G, G + 1


def replay():
    A, O, P = 6401, 6402, 6403
    w, G, C = setup(6400, [A, O, P])
    a = w.session(A, FULL)
    o = w.session(O, FULL)
    w.post(C, P, {"content": "before"})
    w.verify()
    check(a.s == 3, "a at s=%d" % a.s)
    sid = a.ready["session_id"]

    a.drop()
    wait_detached(sid)

    away = []
    for i in range(5):
        w.post(C, P, {"content": "away %d" % i, "nonce": i}, into=away)
    w.typing(C, P, into=away)
    w.dispatch(G, "RESUME_TEST", {"n": 1, "s": "x" * 100}, into=away)
    w.post(C, A, {"content": "by the absent one <@%d>" % O}, [O], into=away)
    live = verify(w, [o], away)[0]

    r = resume(a)
    got = verify(w, [r], away)[0]
    check([m["s"] for m in got] == list(range(4, 4 + len(away))),
          "replayed s %s" % [m["s"] for m in got])
    for m, l in zip(got, live):
        check(m["t"] == l["t"] and m["d"] == l["d"],
              "replayed %s differs from what a live session got" % m["t"],
              m, l)
    r.expect_resumed()
    check(r.s == 4 + len(away), "RESUMED s=%d" % r.s)
    st = session_of(sid)
    check(st["attached"] and st["seq"] == r.s and st["user_id"] == str(A),
          "status after the resume", st)

    # live again, gap-free, for both
    w.post(C, P, {"content": "after"})
    w.verify([r, o], w.events[-1:])
    r.close(1000)
    o.close(1000)
    print("replayed %d dispatches (s=4..%d), RESUMED s=%d, live s=%d"
          % (len(away), 3 + len(away), 4 + len(away), r.s))


def workers():
    A, P = 6411, 6412
    w, G, C = setup(6410, [A, P])
    a = w.session(A, FULL)
    sid = a.ready["session_id"]
    first = pid_of(sid)
    pids = [first]
    cur = a
    for i in range(40):
        cur.drop()
        away = []
        w.post(C, P, {"content": "round %d" % i}, into=away)
        r = resume(cur, [BPORT, PORT][i % 2])
        verify(w, [r], away)
        r.expect_resumed()
        pids.append(pid_of(sid))
        cur = r
        if pids[-1] != first:
            break
    check(pids[-1] != first, "40 resumes, all on worker %d" % first)
    w.post(C, P, {"content": "live"})
    w.verify([cur], w.events[-1:])
    cur.close(1000)
    print("identified on worker %d, resumed on %s; s=%d"
          % (first, pids[1:], cur.s))


def takeover():
    A, P = 6421, 6422
    w, G, C = setup(6420, [A, P])
    a = w.session(A, FULL)
    sid = a.ready["session_id"]
    w.post(C, P, {"content": "first"})
    w.verify([a])
    same = cross = 0
    cur = a
    for i in range(60):
        before = pid_of(sid)
        # every other time from one dispatch back: replayed to the new one
        back = i % 2
        r = resume(cur, random.choice([BPORT, PORT]), seq=cur.s - back)
        if back:
            verify(w, [r], w.events[-1:])
        r.expect_resumed()
        # published right away: only for the new connection
        w.post(C, P, {"content": "after take-over %d" % i})
        cur.expect_close(4003, TAKEN_OVER)
        verify(w, [r], w.events[-1:])
        after = pid_of(sid)
        if after == before:
            same += 1
        else:
            cross += 1
        cur = r
        if same >= 2 and cross >= 2:
            break
    check(same and cross, "take-overs on the same worker: %d, on another:"
          " %d" % (same, cross))
    cur.expect_nothing(0.2)
    cur.close(1000)
    print("%d take-overs on the same worker, %d on another; s=%d"
          % (same, cross, cur.s))


def stale():
    A, P, B = 6431, 6432, 6433
    w, G, C = setup(6430, [A, P])
    admin_user(B)                               # no guild: READY only
    a = w.session(A, FULL)                      # burst s=1..2
    for i in range(3):
        w.post(C, P, {"content": "m%d" % i})
    w.verify([a])                               # s=3..5
    a.drop()
    for seq in (None, 0, 1, 6, 7, 1000, 2 ** 53):
        refused(a, seq=seq)
    # the burst is not kept: seq 2 (its end) and later resume
    r = resume(a, seq=2)
    verify(w, [r], w.events)
    r.expect_resumed()
    check(r.s == 6, "RESUMED s=%d" % r.s)
    r.drop()
    r2 = resume(r)                              # the last s: nothing
    r2.expect_resumed()
    check(r2.s == 7, "RESUMED s=%d" % r2.s)
    r2.close(1000)

    # a session without guilds: READY is s=1, so seq 0/null is too old
    b = RSession(BPORT, "b")
    b.identify(B, FULL, guilds=[])
    b.drop()
    refused(b, seq=0)
    refused(b, seq=None)
    rb = resume(b, seq=1)
    rb.expect_resumed()
    check(rb.s == 2, "RESUMED s=%d" % rb.s)
    rb.close(1000)
    print("refused seq null/0/1/6/7/1000/2^53; resumed at 2 and 5")


def unknown():
    A, P = 6441, 6442
    w, G, C = setup(6440, [A, P])
    a = w.session(A, FULL)
    sid = a.ready["session_id"]
    a.drop()
    w.post(C, P, {"content": "while away"})
    bad = ["%032x" % random.getrandbits(128), "", "abc", sid[:-1],
           sid + "0", "zz" * 16, sid[:-2] + "g0", " " + sid[1:],
           "0" * 32, "f" * 32, sid[::-1] if sid[::-1] != sid else "1" * 32,
           "\u00e9" * 16]
    for b in bad:
        refused(a, sid=b)
    r = resume(a)
    verify(w, [r], w.events)
    r.expect_resumed()
    r.close(1000)
    print("%d unknown or malformed session ids refused" % len(bad))


def foreign():
    A, B, P = 6451, 6452, 6453
    w, G, C = setup(6450, [A, B, P])
    a = w.session(A, FULL)
    b = w.session(B, FULL)
    w.post(C, P, {"content": "secret"})
    w.verify()
    a.drop()
    w.post(C, P, {"content": "while away"})
    w.verify([b], w.events[-1:])
    # B's token with A's session id, at every seq A could have
    for seq in (2, 3, a.s):
        refused(a, seq=seq, tok=token(B))
    # A's token with B's session, while B is attached: B keeps it
    refused(b, tok=token(A))
    b.expect_nothing(0.2)
    # a user that does not exist
    refused(a, tok=token(6459))
    # A's session is whole; B still attached and live
    r = resume(a)
    verify(w, [r], w.events[-1:])
    r.expect_resumed()
    w.post(C, P, {"content": "after"})
    w.verify([r, b], w.events[-1:])
    r.close(1000)
    b.close(1000)
    print("another user's token: op 9, nothing sent; both sessions whole")


def ending():
    A, P = 6461, 6462
    w, G, C = setup(6460, [A, P])

    # the client closes with 1000 or 1001: the session ends
    for code in (1000, 1001):
        a = w.session(A, FULL)
        sid = a.ready["session_id"]
        a.close(code)
        wait_gone(sid)
        refused(a, seq=2)

    # other client codes and a drop keep it
    kept = []
    for how in (4200, 3000, 4000, "drop"):
        a = w.session(A, FULL)
        sid = a.ready["session_id"]
        if how == "drop":
            a.drop()
        else:
            a.close(how)
        wait_detached(sid)
        away = []
        w.post(C, P, {"content": "after %s" % how}, into=away)
        r = resume(a)
        verify(w, [r], away)
        r.expect_resumed()
        r.close(1000)
        kept.append(str(how))

    # the server closes (4002, a payload that is not JSON) and the client
    # echoes 1000: kept, since the server initiated the close
    a = w.session(A, FULL)
    sid = a.ready["session_id"]
    a._send_frame(1, b"not json")
    a.expect_close(4002, echo=1000)
    wait_detached(sid)
    away = []
    w.post(C, P, {"content": "after 4002"}, into=away)
    r = resume(a)
    verify(w, [r], away)
    r.expect_resumed()
    # the server closes after a second Identify: 4005, echoed 1000, kept
    r.send({"op": 2, "d": {"token": token(A), "intents": FULL}})
    r.expect_close(4005, echo=1000)
    wait_detached(sid)
    r2 = resume(r)
    r2.expect_resumed()
    r2.close(1000)
    wait_gone(sid)
    print("ended by 1000/1001; kept after %s, 4002 and 4005 from the "
          "server" % "/".join(kept))


def zombie():
    """gateway_heartbeat_interval 1000ms: silent past 1.5 intervals"""
    A, P = 6471, 6472
    w, G, C = setup(6470, [A, P])
    a = RSession(BPORT, "a")
    a.identify(A, FULL)
    sid = a.ready["session_id"]
    # the server asks for a heartbeat (op 1), then gives up with 4009
    m = a.next_message(3, "op 1 from the server")
    check(m["op"] == 1, "op 1 expected", m)
    a.expect_close(4009, re.compile(r"^Session timed out"), 3, echo=1000)
    wait_detached(sid)
    away = []
    w.post(C, P, {"content": "after 4009"}, into=away)
    r = resume(a)
    verify(w, [r], away)
    r.expect_resumed()
    r.close(1000)
    print("4009 (echoed 1000) kept the session")


def expired():
    """gateway_resume_timeout 1s"""
    A, P = 6481, 6482
    w, G, C = setup(6480, [A, P])

    # attached for longer than the timeout: still there
    a = w.session(A, FULL)
    sid = a.ready["session_id"]
    time.sleep(2.2)
    check(session_of(sid) is not None, "an attached session expired")
    a.drop()
    wait_detached(sid)
    r = resume(a)
    r.expect_resumed()
    r.close(1000)

    # expiry: gone within the timeout and about a second of sweep
    a = w.session(A, FULL)
    sid = a.ready["session_id"]
    t0 = time.time()
    a.drop()
    wait_gone(sid, 5)
    gone = time.time() - t0
    check(gone <= 3.0, "expired after %.2f s" % gone)
    refused(a)
    print("gone %.2f s after a drop" % gone)

    # a resume 0.85 s after the drop is within the window, wherever in a
    # wall-clock second the drop falls: late in one here, with the sweeps
    # (once a second per worker) early in each, after a reload at the
    # start of one; a session must not expire at the next whole second
    time.sleep((0.02 - time.time() % 1) % 1)
    hup(4)
    late = []
    for frac in (0.97, 0.97, 0.97, 0.97, 0.5):
        a = w.session(A, FULL)
        sid = a.ready["session_id"]
        time.sleep((frac - time.time() % 1) % 1)
        t0 = time.time()
        a.drop()
        time.sleep(max(0, t0 + 0.85 - time.time()))
        r = resume(a)
        m = r.next_message(5, "RESUMED or op 9")
        if m["op"] == 9:
            late.append("dropped at %.3f, resumed at %.3f: %s"
                        % (t0 % 10, time.time() % 10, json.dumps(m)))
            r.drop()
            continue
        r.pending.insert(0, m)
        r.expect_resumed()
        r.close(1000)
    check(not late, "gateway_resume_timeout 1s, but resumes 0.85 s after "
          "the drop got op 9 (seconds mod 10):\n    " + "\n    ".join(late))

    print("resumable 0.85 s after a drop")


def ring(n):
    """gateway_resume_buffer n: the ring holds `size` dispatches; each
    case on a session of its own, all cases run, the failures reported
    together"""
    n = int(n)
    size = 8
    while size < n:
        size *= 2
    A, P = 6490 + n, 6500 + n
    w, G, C = setup(6500 + n, [A, P])
    failed = []

    def away_from(count, what):
        """a detached session that missed `count` dispatches"""
        a = w.session(A, FULL)
        sid = a.ready["session_id"]
        a.drop()
        wait_detached(sid)
        away = []
        for i in range(count):
            w.post(C, P, {"content": "%s %d" % (what, i)}, into=away)
        return a, sid, away

    def case(what, f):
        try:
            f()
        except Fail as e:
            failed.append("%s: %s" % (what, e))

    def replayed(a, seq, events):
        r = resume(a, seq=seq)
        verify(w, [r], events)
        r.expect_resumed()
        r.close(1000)

    def fewer():
        a, sid, away = away_from(size - 1, "fewer")
        replayed(a, 2, away)

    def exactly():
        a, sid, away = away_from(size, "exactly")
        replayed(a, 2, away)

    def one_more():
        a, sid, away = away_from(size + 1, "one more")
        refused(a, seq=2)
        replayed(a, 3, away[1:])

    def many():
        a, sid, away = away_from(3 * size, "many")
        last = 2 + len(away)
        refused(a, seq=last - size - 1)
        refused(a, seq=2)
        refused(a, seq=last + 1)
        replayed(a, last - size // 2, away[-(size // 2):])

    def many_all():
        a, sid, away = away_from(3 * size, "many, all kept")
        last = 2 + len(away)
        refused(a, seq=last - size - 1)
        replayed(a, last - size, away[-size:])

    case("%d missed, resume from 2" % (size - 1), fewer)
    case("%d missed, resume from 2" % size, exactly)
    case("%d missed, from 2 refused, from 3 replays %d" % (size + 1, size),
         one_more)
    case("%d missed, resume from the middle of the ring" % (3 * size), many)
    case("%d missed, resume from the oldest kept" % (3 * size), many_all)
    check(not failed, "ring of %d (gateway_resume_buffer %d):\n    "
          % (size, n) + "\n    ".join(failed))
    print("ring of %d (configured %d): %d missed replayed, %d refused from "
          "the start" % (size, n, size, size + 1))


def bytes_(limit):
    """gateway_resume_buffer 128 LIMIT: bodies of about 1.5 KiB; an
    attached observer with the same intents gets the same bodies, and
    shows their sizes"""
    limit = int(limit)
    A, O, P = 6521, 6522, 6523
    w, G, C = setup(6520, [A, O, P])
    a = w.session(A, FULL)
    o = RSession(BPORT, "o")
    o.identify(O, FULL)
    w.sessions.append(o)
    sid = a.ready["session_id"]
    a.drop()
    wait_detached(sid)
    away = []
    N = 2 * limit // 1000 + 3
    for i in range(N):
        w.post(C, P, {"content": "%04d" % i + "b" * 996}, into=away)
    verify(w, [o], away)
    # the bodies as the ring stores them: the frame minus '{"op":0,"s":N,'
    sizes = [o.sizes[s] - len('{"op":0,"s":%d,' % s)
             for s in range(3, 3 + N)]
    kept = 0
    while kept < N and sum(sizes[N - kept - 1:]) <= limit:
        kept += 1
    check(1 <= kept < N, "%d of %d bodies of %s bytes fit in %d"
          % (kept, N, sizes[0], limit))
    first = 2 + N - kept            # resume from here replays `kept`
    refused(a, seq=first - 1)
    refused(a, seq=2)
    r = resume(a, seq=first)
    verify(w, [r], away[N - kept:])
    r.expect_resumed()
    r.close(1000)
    o.close(1000)
    print("byte limit %d: the last %d of %d dispatches (%d bytes each) kept"
          % (limit, kept, N, sizes[0]))


def behind():
    """gateway_resume_buffer 8: the owner worker is stopped (SIGSTOP)
    while 9 dispatches are published; when it runs again its client is
    more than a ring behind"""
    A, P = 6531, 6532
    w, G, C = setup(6530, [A, P])
    for attempt in range(3):
        a = RSession(BPORT, "a")
        a.identify(A, FULL)
        sid = a.ready["session_id"]
        a.sync()
        pid = pid_of(sid)
        ok = [0]

        def publish():
            for i in range(9):
                r = http("POST", "/api/v10/channels/%d/messages" % C,
                         {"content": "behind %d" % i},
                         auth="Bot " + token(P))
                if r.status != 200:
                    return
                ok[0] += 1
        t = threading.Thread(target=publish, daemon=True)
        os.kill(pid, signal.SIGSTOP)
        try:
            t.start()
            t.join(5)
            done = ok[0] == 9 and not t.is_alive()
        finally:
            os.kill(pid, signal.SIGCONT)
        t.join(10)
        if done:
            break
        # stopped while holding the zone's lock: try again
        print("attempt %d: %d published while stopped" % (attempt, ok[0]))
        a.drop()
    else:
        raise Fail("could not publish while the worker was stopped")
    a.expect_invalid()
    a.expect_nothing(0.3)
    wait_gone(sid)
    refused(a, seq=2)
    a.alive()
    a.close(1000)
    print("a client 9 dispatches behind a ring of 8: op 9, session ended")


def malformed():
    A, P = 6541, 6542
    w, G, C = setup(6540, [A, P])
    a = w.session(A, FULL)
    sid = a.ready["session_id"]
    a.drop()
    tok = token(A)
    good = {"token": tok, "session_id": sid, "seq": 2}

    def without(k):
        d = dict(good)
        del d[k]
        return d

    def with_(k, v):
        d = dict(good)
        d[k] = v
        return d

    decode = [None, [], "x", 5, True, {}, without("token"),
              without("session_id"), without("seq"),
              with_("token", 123), with_("token", None),
              with_("token", ["x"]), with_("session_id", 123),
              with_("session_id", None), with_("session_id", {}),
              with_("seq", "2"), with_("seq", -1), with_("seq", 1.5),
              with_("seq", 2.0), with_("seq", True), with_("seq", {}),
              with_("seq", [2])]
    failed = []
    for d in decode:
        r = RSession(BPORT, "m")
        r.hello()
        r.send({"op": 6, "d": d})
        try:
            r.expect_close(4002, re.compile(r"^Decode error: "))
        except Fail as e:
            failed.append("d=%s: %s" % (json.dumps(d)[:80], e))
    # a bad signature, or not a token at all: 4004
    for t in (token(A, "another-secret"), "not.a.token", "x"):
        r = RSession(BPORT, "m")
        r.hello()
        r.send({"op": 6, "d": with_("token", t)})
        try:
            r.expect_close(4004, re.compile(r"^Authentication failed"))
        except Fail as e:
            failed.append("token %s: %s" % (t[:30], e))
    check(not failed, "%d of %d malformed resumes answered wrongly:\n    "
          % (len(failed), len(decode) + 3) + "\n    ".join(failed))

    # after Identify: 4005, and the Identify's session is kept (server
    # initiated)
    b = RSession(BPORT, "b")
    b.identify(A, FULL)
    bsid = b.ready["session_id"]
    b.send({"op": 6, "d": good})
    b.expect_close(4005, re.compile(r"^Already authenticated"))
    # after a Resume: 4005 too
    r = resume(a, seq=2)
    r.expect_resumed()
    r.send({"op": 6, "d": good})
    r.expect_close(4005, re.compile(r"^Already authenticated"))
    # both sessions are still there
    for s in (r, b):
        x = resume(s)
        x.expect_resumed()
        x.close(1000)
    wait_gone(sid)
    wait_gone(bsid)
    print("%d malformed payloads: 4002; 3 bad tokens: 4004; Resume after "
          "Identify or Resume: 4005" % len(decode))



if __name__ == "__main__":
    import sys
    args = sys.argv[2:]
    run({"replay": replay, "workers": workers, "takeover": takeover,
         "stale": stale, "unknown": unknown, "foreign": foreign,
         "ending": ending, "zombie": zombie, "expired": expired,
         "ring": lambda: ring(*args), "bytes": lambda: bytes_(*args),
         "behind": behind, "malformed": malformed})
