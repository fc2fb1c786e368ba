#!/usr/bin/python3
"""Event fan-out checks for t/060-gw-fanout.t:

    fanout_check.py fanout|order|shards|members|content

Each scenario makes its own users and guilds (ids apart from the other
scenarios'), connects its sessions, publishes through the REST and admin
APIs, and checks what every session received against fanout_lib.World:
each event exactly once, in publish order, with gap-free s, filtered by
intents, shard and membership, and MESSAGE_CONTENT redaction.
"""

import threading
import time

from fanout_lib import (BPORT, GUILDS, GUILD_MEMBERS, GUILD_MODERATION,
                        GUILD_MESSAGES, GUILD_MESSAGE_TYPING, MESSAGE_CONTENT,
                        PORT, World, check, check_event, event_key,
                        rest_message, run, shard_of, status_sessions)

FULL = (GUILDS | GUILD_MEMBERS | GUILD_MODERATION | GUILD_MESSAGES
        | GUILD_MESSAGE_TYPING | MESSAGE_CONTENT)
NOCONTENT = GUILDS | GUILD_MESSAGES | GUILD_MESSAGE_TYPING
NOMSG = GUILDS | GUILD_MEMBERS | GUILD_MODERATION
MSGONLY = GUILDS | GUILD_MESSAGES


def spread(world):
    """the sessions' worker processes, from /admin/status"""
    listed, st = status_sessions()
    ids = {s.ready["session_id"] for s in world.sessions}
    pids = {listed[i]["pid"] for i in ids if i in listed}
    check(all(i in listed and listed[i]["attached"] for i in ids),
          "a session is not listed as attached")
    return pids


def fanout():
    """~40 sessions over 4 workers, 50 messages with typing, admin
    dispatches and a member coming and going, in two guilds on
    different shards"""
    G1, G2 = 1000 << 22, 1001 << 22
    C1, C2 = G1 + 1, G2 + 1
    check(shard_of(G1, 2) == 0 and shard_of(G2, 2) == 1, "guild ids")
    users = list(range(1001, 1021))
    joiner = 1030

    w = World(BPORT)
    w.guild(G1, [(C1, 0)], users)
    w.guild(G2, [(C2, 0)], users)
    w.user(joiner)

    sets = [FULL, NOCONTENT, NOMSG, MSGONLY]
    shards = [None, [0, 2], [1, 2]]
    for i in range(40):
        w.session(users[i // 2], sets[i % 4], shards[i % 3])
    w.session(joiner, MSGONLY)

    pids = spread(w)
    check(len(pids) >= 2, "all sessions on one worker: %s" % pids)

    for n in range(50):
        gid, ch = (G2, C2) if n % 3 == 2 else (G1, C1)
        author = users[(n * 7) % 20]
        body = {"content": "message %d from %d" % (n, author)}
        mentions = []
        if n % 5 == 0:
            m = users[(n * 3 + 1) % 20]
            body["content"] += " for <@%d>" % m
            mentions = [m]
        elif n % 5 == 1:
            m1, m2 = users[(n + 5) % 20], users[(n + 11) % 20]
            body["content"] += " <@!%d> and <@%d>" % (m1, m2)
            mentions = [m1, m2]
        if n in (8, 25, 40):
            # 1030 is a member of G1 from n=20 to n=35 only
            body["content"] += " hey <@%d>" % joiner
            if n == 25:
                mentions.append(joiner)
        if n % 4 == 0:
            body["nonce"] = "n%d" % n
        elif n % 4 == 1:
            body["nonce"] = n * 1000
        if n % 6 == 0:
            body["tts"] = True
        if n % 5 == 3:
            body["embeds"] = [{"title": "embed %d" % n,
                               "description": "details of %d" % n}]
        w.post(ch, author, body, mentions)

        if n % 7 == 3:
            w.typing(C1 if n % 2 else C2, users[n % 20])
        if n % 10 == 9:
            w.dispatch(G1, "FANOUT_MARK", {"n": n, "guild": "G1"})
            w.dispatch(G2, "GUILD_BAN_ADD",
                       {"guild_id": str(G2),
                        "user": {"id": "42", "username": "banned%d" % n}},
                       GUILD_MODERATION)
        if n == 20:
            w.member_add(G1, joiner)
        if n == 35:
            w.member_remove(G1, joiner)

    w.dispatch(G1, "FANOUT_END", {"guild_id": str(G1)})
    w.dispatch(G2, "FANOUT_END", {"guild_id": str(G2)})

    total = w.verify()
    counts = sorted(len(w.expected(s)) for s in w.sessions)
    print("%d sessions on %d workers, %d events published, %d delivered "
          "(per session %d..%d)" % (len(w.sessions), len(pids),
                                    len(w.events), total, counts[0],
                                    counts[-1]))


def order():
    """four publishers at once: every session sees the events in the same
    relative order, each publisher's in its own order"""
    G3, G4 = 1002 << 22, 1003 << 22
    C3, C4 = G3 + 1, G4 + 1
    users = list(range(1301, 1317))

    w = World(BPORT)
    w.guild(G3, [(C3, 0)], users)
    w.guild(G4, [(C4, 0)], users)

    sets = [FULL, FULL, NOCONTENT, MSGONLY, GUILDS | GUILD_MESSAGE_TYPING]
    shards = [None, None, [0, 2], [1, 2]]
    for i in range(40):
        w.session(users[i % 16], sets[i % 5], shards[i % 4])
    pids = spread(w)
    check(len(pids) >= 2, "all sessions on one worker: %s" % pids)

    per_thread = [[] for _ in range(4)]
    errors = []
    barrier = threading.Barrier(4)

    def publisher(k):
        try:
            barrier.wait(5)
            ev = per_thread[k]
            for j in range(15):
                if k == 0:
                    w.post(C3, 1301, {"content": "t0 %d" % j}, into=ev)
                elif k == 1:
                    w.post(C4, 1302, {"content": "t1 %d" % j}, into=ev)
                elif k == 2:
                    w.post(C3, 1303, {"content": "t2 %d <@1304>" % j},
                           [1304], into=ev)
                elif j % 2:
                    w.typing(C3, 1305, into=ev)
                else:
                    w.dispatch(G3 if j % 4 else G4, "FANOUT_MARK",
                               {"thread": 3, "j": j}, into=ev)
        except Exception as e:          # reported below
            errors.append("publisher %d: %s" % (k, e))

    t0 = int(time.time())
    threads = [threading.Thread(target=publisher, args=(k,))
               for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    check(not errors, "; ".join(errors))
    allev = [e for ev in per_thread for e in ev]
    t1 = int(time.time()) + 1
    for e in allev:
        if e.kind == "typing":
            e.t0, e.t1 = t0, t1
    check(len(allev) == 60, "%d events published" % len(allev))
    bykey = {}
    for e in allev:
        bykey.setdefault(e.key, e)

    received = {}
    for s in w.sessions:
        exp = w.expected(s, allev)
        got = []
        for _ in exp:
            m = s.dispatch(5, "event %d of %d" % (len(got) + 1, len(exp)))
            k = event_key(m["t"], m["d"])
            check(k in bykey, "%r: an event nobody published" % s, m)
            check_event(s, bykey[k], m["d"])
            got.append(k)
        check(sorted(got) == sorted(k for k, _ in exp),
              "%r: received %d events, not the %d expected"
              % (s, len(got), len(exp)))
        received[s] = got
    time.sleep(0.3)
    for s in w.sessions:
        s.expect_nothing(0.01)

    ref = [s for s in w.sessions if s.intents == FULL and s.shard is None]
    check(ref, "no reference session")
    order = received[ref[0]]
    check(sorted(order) == sorted(e.key for e in allev),
          "the reference session did not see every event")
    for k, ev in enumerate(per_thread):
        pos, last = 0, -1
        for e in ev:
            # keys of one publisher are distinct, except TYPING_START
            nxt = order.index(e.key, pos) if e.kind != "typing" else None
            if nxt is not None:
                check(nxt > last, "publisher %d: its events out of order" % k)
                last = pos = nxt
    for s, got in received.items():
        keys = set(got)
        check(got == [k for k in order if k in keys],
              "%r sees the events in another order than %r" % (s, ref[0]))
    owner = {e.key: k for k, ev in enumerate(per_thread) for e in ev}
    switches = sum(1 for a, b in zip(order, order[1:]) if owner[a] != owner[b])
    print("%d sessions on %d workers agree on the order of %d concurrent "
          "events (%d switches between publishers)"
          % (len(w.sessions), len(pids), len(allev), switches))


def shards():
    """sessions of shards [0,2], [1,2], [0,3], [2,3], [1,3] and unsharded
    sessions of two guilds that map to different shards"""
    GA, GB = 1004 << 22, 1005 << 22
    CA, CB = GA + 1, GB + 1
    check(shard_of(GA, 2) == 0 and shard_of(GB, 2) == 1
          and shard_of(GA, 3) == 2 and shard_of(GB, 3) == 0, "guild ids")
    users = [1401, 1402, 1403, 1404]
    w = World(PORT)
    w.guild(GA, [(CA, 0)], users)
    w.guild(GB, [(CB, 0)], users)
    w.user(1405)

    w.session(1401, FULL, [0, 2])
    w.session(1401, FULL, [1, 2])
    w.session(1402, FULL)
    w.session(1402, FULL, [0, 1])
    w.session(1403, FULL, [0, 3])
    w.session(1404, NOCONTENT, [2, 3])
    nothing = w.session(1404, FULL, [1, 3])
    w.session(1405, FULL, [1, 2])
    w.session(1405, GUILDS, [0, 2])

    for n in range(12):
        ch = CA if n % 2 else CB
        w.post(ch, users[n % 4], {"content": "shard test %d" % n})
        if n % 3 == 0:
            w.typing(ch, users[(n + 1) % 4])
    w.dispatch(GA, "FANOUT_MARK", {"to": "A"})
    w.dispatch(GB, "FANOUT_MARK", {"to": "B"})
    w.dispatch(GA, "GUILD_BAN_ADD", {"guild_id": str(GA),
                                     "user": {"id": "7"}}, GUILD_MODERATION)
    w.member_add(GA, 1405)
    w.member_add(GB, 1405)
    w.post(CA, 1405, {"content": "1405 in A"})
    w.post(CB, 1405, {"content": "1405 in B <@1401>"}, [1401])
    w.member_remove(GB, 1405)
    w.post(CB, 1402, {"content": "after 1405 left B"})
    w.dispatch(GA, "FANOUT_END", {})
    w.dispatch(GB, "FANOUT_END", {})

    check(w.expected(nothing) == [], "model: shard [1,3] sees nothing")
    total = w.verify()
    print("%d sessions, %d events, %d delivered" % (
        len(w.sessions), len(w.events), total))


def members():
    """GUILD_MEMBER_ADD/REMOVE to the others (GUILD_MEMBERS), GUILD_CREATE
    and GUILD_DELETE to the member's sessions (GUILDS); messages reach a
    member only while it is one"""
    G = 1006 << 22
    C = G + 1
    w = World(PORT)
    w.guild(G, [(C, 0)], [1501, 1502, 1503])
    w.user(1504)
    w.user(1505)

    w.session(1501, FULL)
    w.session(1502, GUILDS | GUILD_MEMBERS)
    w.session(1503, GUILDS | GUILD_MESSAGES)
    w.session(1504, FULL)
    w.session(1504, GUILDS | GUILD_MESSAGES)
    w.session(1505, GUILD_MESSAGES | GUILD_MEMBERS)   # no GUILDS

    w.post(C, 1501, {"content": "before"})
    w.member_add(G, 1504)
    w.post(C, 1504, {"content": "hello from 1504"})
    w.member_add(G, 1505)
    w.post(C, 1501, {"content": "welcome <@1504> <@1505>"}, [1504, 1505])
    w.member_remove(G, 1504)
    r = rest_message(C, 1504, {"content": "still here?"})
    check(r.status == 403 and r.json == {"code": 50001,
                                         "message": "Missing Access"},
          "a removed member's message -> %r" % r)
    w.post(C, 1505, {"content": "1504 left"})
    w.member_remove(G, 1505)
    w.post(C, 1501, {"content": "after"})
    w.dispatch(G, "FANOUT_END", {})
    total = w.verify()
    print("%d sessions, %d events, %d delivered" % (
        len(w.sessions), len(w.events), total))


def content():
    """MESSAGE_CONTENT: without it content and embeds are empty, except
    for the author's sessions and those of members mentioned by <@id> or
    <@!id>"""
    G = 1008 << 22
    C = G + 1
    A, B, Cc, D, E, F = 1601, 1602, 1603, 1604, 1605, 1606
    w = World(PORT)
    w.guild(G, [(C, 0)], [A, B, Cc, D, F])
    w.user(E)

    w.session(A, NOCONTENT)
    w.session(A, FULL)
    w.session(B, MSGONLY)
    w.session(Cc, MSGONLY)
    w.session(Cc, NOCONTENT)
    w.session(D, FULL)
    w.session(E, MSGONLY)                       # not a member
    w.session(F, GUILDS | MESSAGE_CONTENT)      # no GUILD_MESSAGES

    emb = [{"title": "secret", "description": "only with MESSAGE_CONTENT",
            "fields": [{"name": "a", "value": "b", "inline": True}]}]
    w.post(C, A, {"content": "hello <@%d>" % B}, [B])
    w.post(C, A, {"content": "hi <@!%d> and <@%d>" % (Cc, Cc)}, [Cc])
    w.post(C, A, {"content": "to a stranger <@%d>" % E}, [])
    w.post(C, A, {"content": "<@abc> <@!> @%d <%d> <@%d <@-%d> <@!!%d> "
                             "<@ %d> <@%d >" % ((B,) * 7)}, [])
    w.post(C, A, {"embeds": emb}, [])
    w.post(C, A, {"content": "see <@%d> <@%d>" % (B, D), "embeds": emb},
           [B, D])
    w.post(C, B, {"content": "mine"}, [])
    w.post(C, Cc, {"content": "<@%d>" % A}, [A])
    w.post(C, A, {"content": "me <@%d>" % A}, [A])
    w.post(C, A, {"content": "quote \" backslash \\ tab \t é \u2603 "
                             "\U0001F600 <@%d>" % B, "tts": True,
                  "nonce": "abc"}, [B])
    w.post(C, B, {"content": "<@%d><@!%d>" % (Cc, D), "nonce": 77},
           [Cc, D])
    w.dispatch(G, "FANOUT_END", {})
    total = w.verify()
    print("%d sessions, %d events, %d delivered" % (
        len(w.sessions), len(w.events), total))


if __name__ == "__main__":
    run({"fanout": fanout, "order": order, "shards": shards,
         "members": members, "content": content})
