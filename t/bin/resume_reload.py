#!/usr/bin/python3
"""Reload and worker crash under load (shared/PROTOCOL.md 1.8) for
t/066-gw-reload-crash.t:

    resume_reload.py reload|crash

reload  50 clients on the reuseport listener (over 4 workers) receive a
        steady stream of REST messages from a publisher thread.  Two
        reloads (SIGHUP): every client gets op 7 then close 1012, the op 7s
        spread over gateway_drain_window (1 s), and resumes on the new
        workers after a random pause of up to 0.3 s (so that it misses
        some messages, which are replayed).  Then SIGKILL of the worker with most sessions: its
        clients see their sockets drop and resume within 5 s.  In the end
        every client has every message exactly once, in the same order, s
        gap-free, and no client had to identify again.
crash   10 clients hold off resuming after a SIGKILL of a worker: within
        about a second its sessions show attached:false in /admin/status;
        messages published meanwhile all arrive after the resume.

Each client is a thread with a blocking socket and a timeout.
"""

import json
import os
import random
import signal
import socket
import struct
import threading
import time

from resume_lib import (BPORT, FULL, Fail, check, hup, http, run,
                        status_sessions, token, wait_until)
from fanout_lib import admin_bulk
from gwclient import Conn

DRAIN = 1.0                     # gateway_drain_window in the .t
WORKERS = 4


class Client(threading.Thread):
    """one bot: Identify once, then resume after whatever happens"""

    def __init__(self, uid, channel):
        threading.Thread.__init__(self, daemon=True)
        self.uid = uid
        self.channel = str(channel)
        self.s = 0
        self.sid = None
        self.ids = []               # MESSAGE_CREATE ids, in order
        self.identifies = 0
        self.resumed = []           # times of RESUMED
        self.op7 = []               # times of op 7
        self.closes = []            # (time, code) of server closes
        self.drops = []             # times of EOF/reset without a close
        self.errors = []
        self.resuming = False
        self.replayed = 0           # dispatches between op 6 and RESUMED
        self.ready = threading.Event()
        self.hold = threading.Event()
        self.hold.set()
        self.stopping = False
        self.conn = None
        self.lock = threading.Lock()
        self.backoff = 0.3

    def __repr__(self):
        return "client %d" % self.uid

    def fail(self, why):
        self.errors.append("%.3f %s" % (time.time() % 100, why))
        raise Fail(why)

    def connect(self):
        for i in range(50):
            try:
                c = Conn(BPORT)
                break
            except (OSError, RuntimeError) as e:
                err = e
                time.sleep(0.1)
        else:
            self.fail("cannot connect: %s" % err)
        c.s.settimeout(10)
        self.conn = c
        m = self.frame()
        if m is None or m[0] != "json" or m[1]["op"] != 10:
            self.fail("no Hello: %r" % (m,))

    def send(self, obj):
        data = json.dumps(obj).encode()
        n = len(data)
        head = bytes([0x81, 0x80 | n]) if n < 126 else \
            bytes([0x81, 0x80 | 126]) + struct.pack("!H", n)
        self.conn.s.sendall(head + b"\0\0\0\0" + data)

    def frame(self):
        """("json", msg), ("close", code), ("eof", None) or None at a
        timeout"""
        try:
            f = self.conn.recv()
        except socket.timeout:
            return None
        except (ConnectionResetError, BrokenPipeError):
            return ("eof", None)
        if f is None:
            return ("eof", None)
        if f[0] == 8:
            code = struct.unpack("!H", f[1][:2])[0] if len(f[1]) >= 2 \
                else None
            return ("close", code)
        if f[0] == 9:
            self.conn.s.sendall(bytes([0x8A, 0x80 | len(f[1])])
                                + b"\0\0\0\0" + f[1])
            return self.frame()
        return ("json", json.loads(f[1]))

    def run(self):
        try:
            self.connect()
            self.send({"op": 2, "d": {"token": token(self.uid),
                                      "intents": FULL,
                                      "properties": {"os": "linux",
                                                     "browser": "reload",
                                                     "device": "reload"}}})
            self.identifies += 1
            self.loop()
        except Fail:
            pass
        except Exception as e:      # noqa: BLE001 (reported by the checker)
            self.errors.append("%.3f %r" % (time.time() % 100, e))

    def loop(self):
        self.conn.s.settimeout(0.5)
        while True:
            if self.stopping:
                return
            m = self.frame()
            if m is None:
                continue
            kind, v = m
            if kind == "json":
                self.message(v)
                continue
            now = time.time()
            if kind == "close":
                self.closes.append((now, v))
                try:
                    self.conn.s.sendall(bytes([0x88, 0x82]) + b"\0\0\0\0"
                                        + struct.pack("!H", v or 1000))
                except OSError:
                    pass
            else:
                self.drops.append(now)
            try:
                self.conn.s.close()
            except OSError:
                pass
            # resume (after the checker releases us, if it holds us), after
            # a random pause as clients back off: some dispatches are missed
            self.hold.wait(30)
            time.sleep(random.uniform(0, self.backoff))
            self.connect()
            self.conn.s.settimeout(0.5)
            self.resuming = True
            self.send({"op": 6, "d": {"token": token(self.uid),
                                      "session_id": self.sid,
                                      "seq": self.s}})

    def message(self, m):
        op = m["op"]
        if op == 0:
            if m["s"] != self.s + 1:
                self.fail("dispatch %s with s=%s after s=%d"
                          % (m["t"], m["s"], self.s))
            self.s = m["s"]
            if m["t"] == "RESUMED":
                self.resumed.append(time.time())
                self.resuming = False
                return
            if self.resuming:
                self.replayed += 1
            if m["t"] == "READY":
                self.sid = m["d"]["session_id"]
            elif m["t"] == "GUILD_CREATE":
                self.ready.set()
            elif m["t"] == "MESSAGE_CREATE":
                if m["d"]["channel_id"] != self.channel:
                    self.fail("a message in channel %s" % m["d"]["channel_id"])
                with self.lock:
                    self.ids.append(m["d"]["id"])
            return
        if op == 7:
            self.op7.append(time.time())
            return
        if op == 9:
            self.fail("op 9 %s: would have to identify again" % m["d"])
        if op == 1:
            self.send({"op": 1, "d": self.s})
            return
        if op == 11:
            return
        self.fail("unexpected op %s" % op)

    def stop(self):
        self.stopping = True
        self.join(5)
        try:
            self.conn.s.settimeout(5)
            self.conn.s.sendall(bytes([0x88, 0x82]) + b"\0\0\0\0"
                                + struct.pack("!H", 1000))
        except OSError:
            pass


class Publisher(threading.Thread):
    """REST messages, one after the other, at about `rate` a second"""

    def __init__(self, channel, author, rate):
        threading.Thread.__init__(self, daemon=True)
        self.channel = channel
        self.author = author
        self.period = 1.0 / rate
        self.acked = []             # ids answered 200, in order
        self.failed = []            # (n, error) of the others
        self.stopping = False
        self.n = 0

    def run(self):
        nxt = time.time()
        while not self.stopping:
            self.post()
            nxt += self.period
            time.sleep(max(0, nxt - time.time()))

    def post(self, content=None):
        self.n += 1
        try:
            r = http("POST", "/api/v10/channels/%d/messages" % self.channel,
                     {"content": content or "m%d" % self.n, "nonce": self.n},
                     auth="Bot " + token(self.author))
        except Exception as e:      # noqa: BLE001 (a worker killed mid-way)
            self.failed.append((self.n, repr(e)))
            return None
        if r.status != 200:
            self.failed.append((self.n, repr(r)))
            return None
        self.acked.append(r.json["id"])
        return r.json["id"]


def population(base, n):
    G = base << 22
    C = G + 1
    users = list(range(base + 1, base + n + 1))
    poster = base + 99
    lines = [{"op": "user", "id": str(u), "username": "u%d" % u, "bot": True}
             for u in users + [poster]]
    lines.append({"op": "guild", "id": str(G), "name": "reload",
                  "channels": [{"id": str(C), "name": "general",
                                "type": 0}]})
    lines += [{"op": "member", "guild_id": str(G), "user_id": str(u)}
              for u in users + [poster]]
    admin_bulk(lines)
    return G, C, users, poster


def start(users, C):
    clients = [Client(u, C) for u in users]
    for c in clients:
        c.start()
    deadline = time.time() + 20
    for c in clients:
        if not c.ready.wait(max(0.01, deadline - time.time())):
            raise Fail("%r not ready: %s" % (c, c.errors))
    return clients


def errors(clients):
    bad = ["%r: %s" % (c, e) for c in clients for e in c.errors]
    check(not bad, "client errors:\n    " + "\n    ".join(bad[:20]))


def finish(clients, pub, end_id):
    """every client got every message, the same ones, once, in order"""
    def all_have_end():
        errors(clients)
        return all(c.ids and c.ids[-1] == end_id for c in clients)
    wait_until(all_have_end, 15, "every client to get the last message")
    for c in clients:
        c.stopping = True
    for c in clients:
        c.stop()
    errors(clients)
    ref = clients[0].ids
    for c in clients:
        check(len(set(c.ids)) == len(c.ids), "%r got a message twice" % c)
        check(c.ids == ref, "%r got %d messages, %r %d; first difference "
              "at %s" % (c, len(c.ids), clients[0], len(ref), next(
                  (i for i, (a, b) in enumerate(zip(c.ids, ref)) if a != b),
                  min(len(c.ids), len(ref)))))
        check(c.identifies == 1, "%r identified %d times"
              % (c, c.identifies))
    pos = {m: i for i, m in enumerate(ref)}
    missing = [m for m in pub.acked if m not in pos]
    check(not missing, "%d acknowledged messages never arrived: %s"
          % (len(missing), missing[:5]))
    order = [pos[m] for m in pub.acked]
    check(order == sorted(order), "messages out of publishing order")
    return len(ref)


def workers_by_sessions(clients):
    sessions, st = status_sessions()
    by = {}
    for c in clients:
        s = sessions.get(c.sid)
        check(s is not None and s["attached"], "%r's session %s: %s"
              % (c, c.sid, s))
        by.setdefault(s["pid"], []).append(c)
    return by


def reload_():
    G, C, users, poster = population(6700, 50)
    clients = start(users, C)
    by = workers_by_sessions(clients)
    check(len(by) >= 2, "50 sessions on %d worker(s)" % len(by))
    pub = Publisher(C, poster, 40)
    pub.start()
    time.sleep(1.5)

    report = []
    for k in (1, 2):
        t0 = time.time()
        hup(WORKERS)
        wait_until(lambda: all(len(c.resumed) >= k for c in clients), 10,
                   "every client to resume after reload %d" % k)
        errors(clients)
        t7 = [c.op7[k - 1] - t0 for c in clients]
        check(all(len(c.op7) == k for c in clients), "op 7 counts: %s"
              % sorted({len(c.op7) for c in clients}))
        check(all(len(c.closes) == k and c.closes[-1][1] == 1012
                  and c.closes[-1][0] >= c.op7[-1] for c in clients),
              "after op 7, close 1012: %s" % sorted(
                  {str(c.closes[-1:]) for c in clients})[:3])
        check(min(t7) >= 0 and max(t7) <= DRAIN + 0.6,
              "reload %d: op 7 from %.2f to %.2f s after the SIGHUP"
              % (k, min(t7), max(t7)))
        check(max(t7) - min(t7) >= DRAIN / 2,
              "reload %d: op 7 not spread over the drain window: %.2f to "
              "%.2f s" % (k, min(t7), max(t7)))
        late = max(c.resumed[k - 1] - c.op7[k - 1] for c in clients)
        report.append("reload %d: op 7 over %.2f-%.2f s, resumed at most "
                      "%.2f s after it" % (k, min(t7), max(t7), late))
        by = workers_by_sessions(clients)
        time.sleep(1.0)

    # SIGKILL of the worker with the most sessions
    victim, hit = max(by.items(), key=lambda kv: len(kv[1]))
    others = [c for c in clients if c not in hit]
    before = {c.uid: len(c.resumed) for c in clients}
    t0 = time.time()
    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: all(len(c.resumed) > before[c.uid] for c in hit), 5,
               "the %d clients of the killed worker to resume" % len(hit))
    took = max(c.resumed[-1] - t0 for c in hit)
    check(all(len(c.resumed) == before[c.uid] for c in others),
          "clients of other workers reconnected")
    check(all(c.drops and c.drops[-1] >= t0 for c in hit),
          "the killed worker's clients saw no drop")
    report.append("SIGKILL of worker %d: its %d clients resumed within "
                  "%.2f s" % (victim, len(hit), took))
    time.sleep(1.0)

    pub.stopping = True
    pub.join(15)
    end_id = pub.post("END")
    check(end_id is not None, "the last message failed: %s" % pub.failed)
    n = finish(clients, pub, end_id)
    print("\n".join(report))
    print("%d clients, %d messages each (%d published, %d failed "
          "requests), 1 Identify each; %d dispatches replayed in all"
          % (len(clients), n, pub.n, len(pub.failed),
             sum(c.replayed for c in clients)))


def crash():
    G, C, users, poster = population(6800, 10)
    clients = start(users, C)
    by = workers_by_sessions(clients)
    victim, hit = max(by.items(), key=lambda kv: len(kv[1]))
    for c in hit:
        c.hold.clear()
    pub = Publisher(C, poster, 40)
    t0 = time.time()
    os.kill(victim, signal.SIGKILL)
    sids = {c.sid for c in hit}

    def detached():
        sessions = status_sessions()[0]
        return all(not sessions[s]["attached"] and sessions[s]["pid"] is None
                   for s in sids)
    wait_until(detached, 4, "the killed worker's sessions detached")
    took = time.time() - t0
    check(took <= 2.5, "detached %.2f s after the SIGKILL" % took)
    # the other sessions are still attached, and get the messages live
    sessions = status_sessions()[0]
    check(all(sessions[c.sid]["attached"] for c in clients if c not in hit),
          "other sessions detached")
    for i in range(10):
        check(pub.post() is not None, "post %d failed: %s" % (i, pub.failed))
    check(all(c.drops for c in hit), "no drop seen")
    for c in hit:
        c.hold.set()
    wait_until(lambda: all(c.resumed for c in hit), 5,
               "the held clients to resume")
    end_id = pub.post("END")
    n = finish(clients, pub, end_id)
    wait_until(lambda: len(status_sessions()[1]["workers"]) == WORKERS, 5,
               "the worker respawned")
    replayed = [c.replayed for c in hit]
    check(all(r == 10 for r in replayed), "replayed after the hold: %s"
          % replayed)
    print("%d of %d sessions detached %.2f s after the SIGKILL; 10 messages "
          "replayed to each; %d messages each" % (len(hit), len(clients),
                                                  took, n))


if __name__ == "__main__":
    run({"reload": reload_, "crash": crash})
