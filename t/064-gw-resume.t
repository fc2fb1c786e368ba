# op 6 Resume (shared/PROTOCOL.md 1.8, 1.9): replay of what was missed with
# the original s, RESUMED, then live events, on any of four workers;
# take-over of a session whose old socket is still open; what is refused
# with op 9 d:false (stale seq, unknown, malformed or another user's
# session, ended or expired sessions, a ring that overflowed by count or
# by bytes, an attached client that fell a ring behind) and what closes
# (4002 malformed, 4004 bad token, 4005 after Identify).  The scenarios are
# in t/bin/resume_check.py; the sessions come in on a reuseport listener,
# so they are spread over the workers.
use lib 't/lib';
use Test::Gateway;
use Test::Gateway::Fixture;

our $CONFIG = <<'CONF';
listen 127.0.0.1:$TEST_NGINX_BACKEND_PORT reuseport;
location = /gateway { gateway; }
location /api/ { gateway_rest; }
location /admin/ { gateway_admin; }
CONF

workers(4);
add_block_preprocessor(sub {
    my $block = shift;
    # http_extra: lines added to the fixture's http_config
    if (defined $block->http_extra) {
        $block->set_value(http_config => $Test::Gateway::Fixture::HTTP_CONFIG
                                         . $block->http_extra);
    }
    $block->set_value(config => $CONFIG) unless defined $block->config;
    $block->set_value(client_timeout => 50)
        unless defined $block->client_timeout;
    $block->set_value(no_error_log => "[error]\n")
        unless defined $block->no_error_log;
});
gateway_fixture();
run_tests();

__DATA__

=== TEST 1: a dropped connection resumes: the missed dispatches with their s and payloads, RESUMED with the next s, then live
--- client
/usr/bin/python3 t/bin/resume_check.py replay



=== TEST 2: resumes until one lands on another worker; nothing lost on the way
--- client
/usr/bin/python3 t/bin/resume_check.py workers



=== TEST 3: take-over while the old socket is open, on the same and on other workers: 4003 to the old socket, nothing else
--- client
/usr/bin/python3 t/bin/resume_check.py takeover



=== TEST 4: seq inside the READY burst or past the last s: op 9 d:false, socket open; the session is untouched
--- client
/usr/bin/python3 t/bin/resume_check.py stale



=== TEST 5: unknown and malformed session ids: op 9 d:false
--- client
/usr/bin/python3 t/bin/resume_check.py unknown



=== TEST 6: another user's token: op 9 d:false, nothing leaks, both sessions whole
--- client
/usr/bin/python3 t/bin/resume_check.py foreign



=== TEST 7: a client close 1000/1001 ends the session; 4200, 3000, 4000, a drop and server-initiated closes keep it
--- client
/usr/bin/python3 t/bin/resume_check.py ending



=== TEST 8: malformed op 6 payloads: 4002; bad token: 4004; Resume after Identify or Resume: 4005
--- client
/usr/bin/python3 t/bin/resume_check.py malformed



=== TEST 9: the same on the wire: Resume without a session_id, with a forged token, after Identify
--- ws_script
open a /gateway?v=10&encoding=json
a< json {"op":10}
a> json {"op":6,"d":{"token":"@token(100)@","seq":1}}
a< close 4002 /^Decode error: /
a> close 4002
a< eof
open b /gateway?v=10&encoding=json
b< json {"op":10}
b> json {"op":6,"d":{"token":"@token(100,not-the-secret)@","session_id":"00000000000000000000000000000000","seq":1}}
b< close 4004 /^Authentication failed/
b> close 4004
b< eof
open c /gateway?v=10&encoding=json
c< json {"op":10}
c> json {"op":6,"d":{"token":"@token(100)@","session_id":"00000000000000000000000000000000","seq":null}}
c< json {"op":9,"d":false,"s":null,"t":null}
c< nothing 0.3
c> json {"op":1,"d":null}
c< json {"op":11}
shell t/bin/gwadmin POST /admin/users '{"id":"100","username":"alice","bot":true}'
c> json {"op":2,"d":{"token":"@token(100)@","intents":1}}
c< json_save ready {"op":0,"t":"READY","s":1}
c> json {"op":6,"d":{"token":"@token(100)@","session_id":"${ready.d.session_id}","seq":1}}
c< close 4005 /^Already authenticated: /
c> close 1000
c< eof
open d /gateway?v=10&encoding=json
d< json {"op":10}
d> json {"op":6,"d":{"token":"@token(100)@","session_id":"${ready.d.session_id}","seq":1}}
d< json {"op":0,"t":"RESUMED","s":2,"d":{"_trace":["gateway"]}}
d> close 1000
d< close 1000
d< eof



=== TEST 10: a server-initiated 4009 (no heartbeat at a 1 s interval), echoed with 1000, keeps the session
--- config
listen 127.0.0.1:$TEST_NGINX_BACKEND_PORT reuseport;
location = /gateway { gateway; gateway_heartbeat_interval 1000ms; }
location /api/ { gateway_rest; }
location /admin/ { gateway_admin; }
--- client
/usr/bin/python3 t/bin/resume_check.py zombie



=== TEST 11: gateway_resume_timeout 1s: resumable within it, gone after it; attached sessions do not expire
--- http_extra
gateway_resume_timeout 1s;
--- client
/usr/bin/python3 t/bin/resume_check.py expired



=== TEST 12: gateway_resume_buffer 8: 8 missed dispatches replayed; one more drops the oldest (op 9 from before it)
--- http_extra
gateway_resume_buffer 8;
--- client
/usr/bin/python3 t/bin/resume_check.py ring 8



=== TEST 13: gateway_resume_buffer 9 is rounded up to 16
--- http_extra
gateway_resume_buffer 9;
--- client
/usr/bin/python3 t/bin/resume_check.py ring 9



=== TEST 14: gateway_resume_buffer 128 4k: about 1.5 KiB dispatches, as many kept as fit in 4096 bytes
--- http_extra
gateway_resume_buffer 128 4k;
--- client
/usr/bin/python3 t/bin/resume_check.py bytes 4096



=== TEST 15: an attached client more than a ring (8) behind: op 9 d:false, the session ends
--- http_extra
gateway_resume_buffer 8;
--- client
/usr/bin/python3 t/bin/resume_check.py behind
