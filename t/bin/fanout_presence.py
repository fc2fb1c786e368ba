#!/usr/bin/python3
"""Presence checks for t/061-gw-presence.t (shared/PROTOCOL.md 1.15, 1.16):

    fanout_presence.py small|invisible|expire|large|huge

PRESENCE_UPDATE goes to the other users' sessions with GUILD_PRESENCES,
once per guild; in a guild with more members than a session's
large_threshold only after an op 8 subscription with presences:true.

"Nothing arrived" is checked without sleeping: an admin dispatch
FANOUT_SYNC is published after the action, and since all publishes are
serialised and every session gets its events in publish order, the next
dispatch a session gets must be that marker.  op 3 is known to be
processed once the heartbeat sent after it is ACKed; a session end once
/admin/status no longer lists it.
"""

import itertools

from fanout_lib import (GUILDS, GUILD_MEMBERS, GUILD_MESSAGES,
                        GUILD_PRESENCES, PORT, Session, admin, admin_bulk,
                        admin_guild, admin_member, admin_user, check,
                        http, run, shard_of, status_sessions, wait_until,
                        wait_session_gone, ADMIN_SECRET)

_marker = itertools.count(1)
OBS = GUILDS | GUILD_PRESENCES


MEMBERS = {}    # guild id -> user ids
LIVE = []       # the sessions open now


def _recipients(gid):
    return [s for s in LIVE if s.user in MEMBERS.get(gid, ())
            and shard_of(gid, s.shard[1] if s.shard else 1)
            == (s.shard[0] if s.shard else 0)]


def _marker_dispatch(gid):
    n = next(_marker)
    r = http("POST", "/admin/guilds/%d/dispatch" % gid,
             {"t": "FANOUT_SYNC", "d": {"n": n}},
             auth="Admin " + ADMIN_SECRET)
    check(r.status == 202, "dispatch -> %r" % r)
    return n


def sync(*gids):
    """each open session of the guilds' members gets the marker as its
    next dispatch: nothing else came before it"""
    for gid in gids:
        n = _marker_dispatch(gid)
        for s in _recipients(gid):
            m = s.dispatch(5, "the FANOUT_SYNC marker %d" % n)
            check(m["t"] == "FANOUT_SYNC" and m["d"] == {"n": n},
                  "%r: %s before the marker %d" % (s, m["t"], n), m)


def drain(gid):
    """read up to a marker, whatever came before it"""
    n = _marker_dispatch(gid)
    for s in _recipients(gid):
        while True:
            m = s.dispatch(5, "the FANOUT_SYNC marker %d" % n)
            if m["t"] == "FANOUT_SYNC" and m["d"] == {"n": n}:
                break


def member(gid, uid):
    admin_member(gid, uid)
    MEMBERS.setdefault(gid, set()).add(uid)


def session(uid, intents=OBS, guilds=None, **kw):
    s = Session(PORT, str(uid))
    s.identify(uid, intents, guilds=guilds, **kw)
    LIVE.append(s)
    return s


def check_presence(s, d, uid, gid, status, activities=()):
    check(isinstance(d, dict) and {"user", "guild_id", "status",
                                   "activities", "client_status"} <= set(d),
          "%r: PRESENCE_UPDATE keys" % s, d)
    check(d["user"].get("id") == str(uid) and d["guild_id"] == str(gid),
          "%r: PRESENCE_UPDATE of %s in %s expected" % (s, uid, gid), d)
    check(d["status"] == status, "%r: status %s, expected %s" % (
        s, d["status"], status), d)
    got = [(a.get("name"), a.get("type")) for a in d["activities"]]
    check(got == [(a["name"], a["type"]) for a in activities],
          "%r: activities %s, expected %s" % (s, got, list(activities)), d)
    check(isinstance(d["client_status"], dict), "client_status", d)
    if status == "offline":
        check(all(v == "offline" for v in d["client_status"].values()),
              "%r: an offline presence with an online client_status" % s, d)
    else:
        check(status in d["client_status"].values(),
              "%r: client_status does not show %s" % (s, status), d)


def expect_presence(sessions, uid, status, activities=(), guilds=None):
    """sessions: {session: [guild ids]} or [sessions] with guilds"""
    if not isinstance(sessions, dict):
        sessions = {s: guilds for s in sessions}
    for s, gids in sessions.items():
        seen = []
        for _ in gids:
            d = s.expect("PRESENCE_UPDATE")
            seen.append(int(d["guild_id"]))
            check_presence(s, d, uid, int(d["guild_id"]), status, activities)
        check(sorted(seen) == sorted(gids),
              "%r: presences of %s in guilds %s, expected %s" % (
                  s, uid, seen, sorted(gids)))


def op3(s, status, activities=(), afk=False):
    s.send({"op": 3, "d": {"since": None, "activities": list(activities),
                           "status": status, "afk": afk}})
    s.sync()


def close(s, code=1000):
    LIVE.remove(s)
    s.close(code)
    sid = s.ready["session_id"]
    wait_until(lambda: sid not in status_sessions()[0], 5,
               "session %s to end" % sid)


def small():
    """a small guild: GUILD_PRESENCES sessions only, once per guild, never
    the user's own sessions; online on the first Identify, offline when
    the last session closes with 1000/1001"""
    G5, G6 = 2000 << 22, 2001 << 22
    check(shard_of(G5, 2) == 0 and shard_of(G6, 2) == 1, "guild ids")
    O1, O2, S, T = 2101, 2102, 2103, 2104
    for u in (O1, O2, S, T):
        admin_user(u)
    admin_guild(G5, [(G5 + 1, 0)])
    admin_guild(G6, [(G6 + 1, 0)])
    for u in (O1, O2, S, T):
        member(G5, u)
    for u in (O1, S):
        member(G6, u)

    o2 = session(O2, GUILDS | GUILD_MESSAGES)
    o1a = session(O1)
    o1b = session(O1, OBS, shard=[1, 2])
    # O1 came online: not to O2 (no GUILD_PRESENCES), not to O1 itself
    sync(G5)
    sync(G6)

    s1 = session(S, GUILDS)
    expect_presence({o1a: [G5, G6], o1b: [G6]}, S, "online")
    sync(G5)
    sync(G6)

    # a second session of a user already online: nothing new
    s2 = session(S, OBS)
    sync(G5)
    sync(G6)

    act = [{"name": "chess", "type": 0}]
    op3(s1, "idle", act)
    expect_presence({o1a: [G5, G6], o1b: [G6]}, S, "idle", act)
    sync(G5)
    sync(G6)

    # T, in G5 only, comes online as dnd: S's session with the intent
    # hears of it, O1's session of shard 1 does not
    act_t = [{"name": "music", "type": 2}]
    t = session(T, GUILDS, presence={"since": None, "activities": act_t,
                                     "status": "dnd", "afk": False})
    expect_presence({o1a: [G5], s2: [G5]}, T, "dnd", act_t)
    sync(G5)
    sync(G6)

    op3(s2, "online")
    expect_presence({o1a: [G5, G6], o1b: [G6]}, S, "online")
    sync(G5)

    # S's first session ends: S is still online
    close(s1)
    sync(G5)
    sync(G6)

    close(s2, 1000)
    expect_presence({o1a: [G5, G6], o1b: [G6]}, S, "offline")
    sync(G5)
    sync(G6)

    close(t, 1001)
    expect_presence({o1a: [G5]}, T, "offline")
    sync(G5)
    sync(G6)
    for s in (o1a, o1b, o2):
        close(s)


def invisible():
    """invisible shows as offline, to everyone else"""
    G = 2002 << 22
    O, S = 2201, 2202
    for u in (O, S):
        admin_user(u)
    admin_guild(G, [(G + 1, 0)])
    for u in (O, S):
        member(G, u)
    o = session(O)

    s = session(S, OBS, presence={"since": None, "activities": [],
                                  "status": "invisible", "afk": False})
    expect_presence([o], S, "offline", guilds=[G])
    sync(G)

    act = [{"name": "chess", "type": 0}]
    op3(s, "online", act)
    expect_presence([o], S, "online", act, guilds=[G])
    sync(G)

    op3(s, "invisible")
    expect_presence([o], S, "offline", guilds=[G])
    sync(G)

    op3(s, "dnd")
    expect_presence([o], S, "dnd", guilds=[G])
    sync(G)

    # O goes invisible: S (with GUILD_PRESENCES) sees it offline
    op3(o, "invisible")
    expect_presence([s], O, "offline", guilds=[G])
    sync(G)

    close(s)
    expect_presence([o], S, "offline", guilds=[G])
    sync(G)
    close(o)


def invisible_activities():
    """an invisible user's activities are not shown: it looks offline"""
    G = 2006 << 22
    O, S = 2211, 2212
    for u in (O, S):
        admin_user(u)
    admin_guild(G, [(G + 1, 0)])
    for u in (O, S):
        member(G, u)
    o = session(O)

    act = [{"name": "hidden game", "type": 0}]
    s = session(S, OBS, presence={"since": None, "activities": act,
                                  "status": "online", "afk": False})
    expect_presence([o], S, "online", act, guilds=[G])
    sync(G)

    op3(s, "invisible", act)
    expect_presence([o], S, "offline", guilds=[G])
    sync(G)
    close(s)
    drain(G)        # (an offline update for a user shown offline is moot)

    s = session(S, OBS, presence={"since": None, "activities": act,
                                  "status": "invisible", "afk": False})
    expect_presence([o], S, "offline", guilds=[G])
    sync(G)
    close(s)
    close(o)


def expire():
    """a session that ends without 1000/1001 keeps its user online until
    the resume window (2 s here) runs out"""
    G = 2003 << 22
    O, S = 2301, 2302
    for u in (O, S):
        admin_user(u)
    admin_guild(G, [(G + 1, 0)])
    for u in (O, S):
        member(G, u)
    o = session(O)

    for how in ("drop", 4000):
        s = session(S, GUILDS)
        expect_presence([o], S, "online", guilds=[G])
        sid = s.ready["session_id"]
        LIVE.remove(s)
        if how == "drop":
            s.drop()
        else:
            s.close(how)
        wait_until(lambda: sid in status_sessions()[0]
                   and not status_sessions()[0][sid]["attached"], 5,
                   "session %s detached" % sid)
        sync(G)
        wait_session_gone(S, 5)
        expect_presence([o], S, "offline", guilds=[G])
        sync(G)

    s = session(S, GUILDS)
    expect_presence([o], S, "online", guilds=[G])
    close(s, 1001)
    expect_presence([o], S, "offline", guilds=[G])
    sync(G)
    close(o)


def _big_guild(gid, first, n, names):
    lines = [{"op": "user", "id": str(u), "bot": True,
              "username": names.get(u, "user%d" % u)}
             for u in range(first, first + n)]
    admin_bulk(lines)
    admin_guild(gid, [(gid + 1, 0)])
    admin_bulk([{"op": "member", "guild_id": str(gid), "user_id": str(u)}
                for u in range(first, first + n)])
    MEMBERS[gid] = set(range(first, first + n))
    g = admin("GET", "/admin/guilds/%d" % gid)
    check(g.get("member_count", n) == n, "member_count", g)


def op8(s, d, presences_field=True):
    s.send({"op": 8, "d": d})
    c = s.expect("GUILD_MEMBERS_CHUNK")
    check(c.get("nonce") == d.get("nonce"), "%r: chunk nonce" % s, c)
    check(c["chunk_index"] == 0 and c["chunk_count"] == 1,
          "%r: one chunk" % s, c)
    check(presences_field is None or ("presences" in c) == presences_field,
          "%r: presences in the chunk: %s, expected %s"
          % (s, "presences" in c, presences_field), c)
    return c


def large():
    """60 members: above the default large_threshold of 50, presences
    only after an op 8 subscription with presences:true; a session whose
    large_threshold is at least 60 needs none"""
    G = 2004 << 22
    first = 2401
    A, B, C = 2450, 2451, 2452
    _big_guild(G, first, 60, {A: "alpha2450", B: "beta2451",
                              C: "gamma2452"})

    o50 = session(2401)
    o59 = session(2402, large_threshold=59)
    o60 = session(2403, large_threshold=60)
    o250 = session(2404, large_threshold=250)
    osub = session(2405)
    oquery = session(2406)
    oall = session(2407, OBS | GUILD_MEMBERS)
    ofalse = session(2408, OBS | GUILD_MEMBERS)
    onopres = session(2409, GUILDS | GUILD_MEMBERS)
    obs = [o50, o59, o60, o250, osub, oquery, oall, ofalse, onopres]
    drain(G)       # the observers' own coming online

    c = op8(osub, {"guild_id": str(G), "user_ids": [str(A)],
                   "presences": True, "nonce": "sub"})
    check([m["user"]["id"] for m in c["members"]] == [str(A)], "members", c)
    c = op8(oquery, {"guild_id": str(G), "query": "beta", "limit": 10,
                     "presences": True, "nonce": "query"})
    check([m["user"]["id"] for m in c["members"]] == [str(B)], "members", c)
    c = op8(oall, {"guild_id": str(G), "query": "", "limit": 0,
                   "presences": True, "nonce": "all"})
    check(len(c["members"]) == 60, "all 60 members", len(c["members"]))
    op8(ofalse, {"guild_id": str(G), "user_ids": [str(A), str(B)],
                 "presences": False, "nonce": "false"}, None)
    op8(ofalse, {"guild_id": str(G), "query": "", "limit": 0,
                 "nonce": "false2"}, None)
    op8(onopres, {"guild_id": str(G), "user_ids": [str(A)],
                  "presences": True, "nonce": "nopres"}, False)
    sync(G)

    act = [{"name": "go", "type": 0}]
    for uid, subscribed in ((A, [osub]), (B, [oquery]), (C, [])):
        s = session(uid, GUILDS)
        expect_presence([o60, o250, oall] + subscribed, uid, "online",
                        guilds=[G])
        sync(G)
        op3(s, "idle", act)
        expect_presence([o60, o250, oall] + subscribed, uid, "idle", act,
                        guilds=[G])
        sync(G)
        close(s)
        expect_presence([o60, o250, oall] + subscribed, uid, "offline",
                        guilds=[G])
        sync(G)

    # a 61st member (bulk: no events): the guild is now large for o60 as
    # well; the all-members subscription covers the newcomer
    admin_bulk([{"op": "user", "id": "2461", "username": "late2461"},
                {"op": "member", "guild_id": str(G), "user_id": "2461"}])
    MEMBERS[G].add(2461)
    s = session(2461, GUILDS)
    expect_presence([o250, oall], 2461, "online", guilds=[G])
    sync(G)
    close(s)
    expect_presence([o250, oall], 2461, "offline", guilds=[G])
    sync(G)
    for s in obs:
        close(s)


def huge():
    """300 members (made by /admin/bulk): large for every session, so
    presences go only to subscribers, once each"""
    G = 2005 << 22
    first = 2501
    A, B = 2790, 2791
    _big_guild(G, first, 300, {A: "alpha2790", B: "beta2791"})

    h250 = session(2501, OBS | GUILD_MEMBERS, large_threshold=250)
    hsub = session(2502)
    hall = session(2503, OBS | GUILD_MEMBERS)
    hboth = session(2504, OBS | GUILD_MEMBERS)
    hquery = session(2505)
    obs = [h250, hsub, hall, hboth, hquery]
    # 300 > 250: nobody hears of the observers coming online
    sync(G)

    op8(hsub, {"guild_id": str(G), "user_ids": [str(A)], "presences": True,
               "nonce": "sub"})
    c = op8(hall, {"guild_id": str(G), "query": "", "limit": 0,
                   "presences": True, "nonce": "all"})
    check(len(c["members"]) == 300, "all 300 members", len(c["members"]))
    op8(hboth, {"guild_id": str(G), "user_ids": [str(A)], "presences": True,
                "nonce": "both1"})
    op8(hboth, {"guild_id": str(G), "query": "", "limit": 0,
                "presences": True, "nonce": "both2"})
    op8(hquery, {"guild_id": str(G), "query": "beta", "limit": 5,
                 "presences": True, "nonce": "query"})
    sync(G)

    act = [{"name": "x", "type": 3}]
    for uid, subscribed in ((A, [hsub]), (B, [hquery])):
        s = session(uid, GUILDS)
        expect_presence([hall, hboth] + subscribed, uid, "online",
                        guilds=[G])
        sync(G)
        op3(s, "dnd", act)
        expect_presence([hall, hboth] + subscribed, uid, "dnd", act,
                        guilds=[G])
        sync(G)
        close(s)
        expect_presence([hall, hboth] + subscribed, uid, "offline",
                        guilds=[G])
        sync(G)
    for s in obs:
        close(s)


if __name__ == "__main__":
    run({"small": small, "invisible": invisible,
         "invisible_activities": invisible_activities, "expire": expire,
         "large": large, "huge": huge})
