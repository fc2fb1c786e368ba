# Four workers share one zone: sessions identified on different workers
# are all listed by /admin/status, and the admin API (served by any
# worker) reaches a session owned by any other through its doorbell.
use lib 't/lib';
use Test::Gateway;
use Test::Gateway::Fixture;

gateway_fixture();
workers(4);
use_hup();
run_tests();

__DATA__

=== TEST 1: 40 sessions over 4 workers, all in the status
--- config
# reuseport: one listening socket per worker, connections spread by hash
listen 127.0.0.1:$TEST_NGINX_BACKEND_PORT reuseport;
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- client
set -e
for i in $(seq 100 139); do
    t/bin/gwadmin POST /admin/users "{\"id\":\"$i\",\"username\":\"user$i\",\"bot\":true}" > /dev/null
done
t/bin/gwadmin PUT /admin/guilds/4194304000 '{"name":"Guild A","channels":[]}' > /dev/null
t/bin/gwadmin PUT /admin/guilds/4194304000/members/100 '{}'
tokens=$(perl -Mlib=t/lib -MTest::Gateway::Fixture -e 'print join ",", map { gateway_token($_) } 100..139')
out=$TEST_NGINX_SERVROOT/sessions.txt
sleep 10 | /usr/bin/python3 t/bin/gwclient.py identify --port $TEST_NGINX_BACKEND_PORT --tokens $tokens > $out &
client=$!
for i in $(seq 1 100); do
    [ "$(wc -l < $out)" -ge 40 ] && break
    sleep 0.1
done
t/bin/gwadmin GET '/admin/status?sessions=1' | /usr/bin/python3 -c '
import json, sys
status = json.load(sys.stdin)
sessions = [json.loads(l)["session_id"] for l in open(sys.argv[1])]
listed = {s["session_id"]: s for s in status["session_list"]}
assert status["sessions"]["attached"] == 40, status["sessions"]
assert all(s in listed and listed[s]["attached"] for s in sessions), "missing"
pids = {s["pid"] for s in listed.values()}
workers = {w["pid"] for w in status["workers"]}
assert pids <= workers, (pids, workers)
assert len(pids) >= 2, pids
assert sum(w["sessions"] for w in status["workers"]) == 40
print("40 sessions on %d workers: %s" % (len(pids), sorted(
      sum(1 for s in listed.values() if s["pid"] == p) for p in pids)))
' $out
kill $client 2>/dev/null || true
--- client_timeout: 60
--- no_error_log
[error]



=== TEST 2: the admin API reaches sessions on every worker
--- config
listen 127.0.0.1:$TEST_NGINX_BACKEND_PORT reuseport;
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- client
set -e
tokens=$(perl -Mlib=t/lib -MTest::Gateway::Fixture -e 'print join ",", map { gateway_token($_) } 100..139')
/usr/bin/python3 - $TEST_NGINX_BACKEND_PORT $tokens <<'PY'
import json, subprocess, sys
sys.path.insert(0, "t/bin")
from gwclient import Conn
port, tokens = int(sys.argv[1]), sys.argv[2].split(",")
conns = []
for i, t in enumerate(tokens):
    c = Conn(port)
    c.recv_json()
    c.send({"op": 2, "d": {"token": t, "intents": 1}})
    ready = c.recv_json()
    for g in ready["d"]["guilds"]:
        c.recv_json()
    conns.append((100 + i, c))
# every user joins a new guild: each session, on whichever worker, gets it
subprocess.run(["t/bin/gwadmin", "PUT", "/admin/guilds/4198498304",
                '{"name":"Guild B","channels":[]}'], check=True,
               stdout=subprocess.DEVNULL)
for uid, c in conns:
    subprocess.run(["t/bin/gwadmin", "PUT",
                    "/admin/guilds/4198498304/members/%d" % uid, "{}"],
                   check=True)
for uid, c in conns:
    msg = c.recv_json()
    assert msg["t"] == "GUILD_CREATE" and msg["d"]["id"] == "4198498304", msg
print("40 sessions got their GUILD_CREATE")
PY
--- client_timeout: 60
--- no_error_log
[error]
