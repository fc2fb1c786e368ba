# Sessions in the shared-memory zone (DESIGN 3): created at READY, ended
# by a client's 1000/1001, kept (detached) after any other end, expired
# after the resume window, and kept across nginx -s reload.
use lib 't/lib';
use Test::Gateway;
use Test::Gateway::Fixture;

gateway_fixture();
use_hup();
run_tests();

__DATA__

=== TEST 1: a user with a guild; no sessions yet
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- ws_script
shell t/bin/gwadmin POST /admin/users '{"id":"100","username":"alice","bot":true}'
shell t/bin/gwadmin PUT /admin/guilds/4194304000 '{"name":"Guild A","channels":[]}'
shell t/bin/gwadmin PUT /admin/guilds/4194304000/members/100 '{}'
shell t/bin/gwadmin GET /admin/status | grep -q '"sessions":{"attached":0,"detached":0}'



=== TEST 2: READY creates an attached session, listed by /admin/status
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- ws_script
open /gateway?v=10
< json {"op":10}
> json {"op":2,"d":{"token":"@token(100)@","intents":1}}
< json_save ready {"op":0,"t":"READY"}
< json {"op":0,"t":"GUILD_CREATE"}
shell t/bin/gwadmin GET /admin/status | grep -q '"sessions":{"attached":1,"detached":0}'
shell t/bin/gwadmin GET '/admin/status?sessions=1' | grep -q '"session_id":"${ready.d.session_id}","user_id":"100","pid":[0-9]*,"shard":\[0,1\],"seq":2,"attached":true'
> close 1000
< close 1000
< eof



=== TEST 3: a client's close 1000 ends the session
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- ws_script
open /gateway?v=10
< json {"op":10}
> json {"op":2,"d":{"token":"@token(100)@","intents":1}}
< json {"op":0,"t":"READY"}
< json {"op":0,"t":"GUILD_CREATE"}
> close 1000 "bye"
< close 1000
< eof
sleep 0.1
shell t/bin/gwadmin GET /admin/status | grep -q '"sessions":{"attached":0,"detached":0}'



=== TEST 4: 1001 ends it too
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- ws_script
open /gateway?v=10
< json {"op":10}
> json {"op":2,"d":{"token":"@token(100)@","intents":1}}
< json {"op":0,"t":"READY"}
< json {"op":0,"t":"GUILD_CREATE"}
> close 1001
< close 1001
< eof
sleep 0.1
shell t/bin/gwadmin GET /admin/status | grep -q '"sessions":{"attached":0,"detached":0}'



=== TEST 5: any other close code, or a dropped connection, detaches it
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- ws_script
open a /gateway?v=10
a< json {"op":10}
a> json {"op":2,"d":{"token":"@token(100)@","intents":1}}
a< json {"op":0,"t":"READY"}
a< json {"op":0,"t":"GUILD_CREATE"}
a> close 4200 "resuming"
a< close 4200
a< eof
open b /gateway?v=10
b< json {"op":10}
b> json {"op":2,"d":{"token":"@token(100)@","intents":1}}
b< json {"op":0,"t":"READY"}
b< json {"op":0,"t":"GUILD_CREATE"}
b> disconnect
sleep 0.2
shell t/bin/gwadmin GET /admin/status | grep -q '"sessions":{"attached":0,"detached":2}'



=== TEST 6: detached sessions expire after gateway_resume_timeout
--- http_config
gateway_zone zone=gateway:16m;
gateway_token_secret "t-token-secret";
gateway_admin_secret "t-admin-secret";
gateway_resume_timeout 1s;
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- ws_script
shell t/bin/gwadmin GET /admin/status | grep -q '"detached":2}'
sleep 2.5
shell t/bin/gwadmin GET /admin/status | grep -q '"sessions":{"attached":0,"detached":0}'



=== TEST 7: nginx -s reload: op 7, then a close that keeps the session
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- ws_script
open /gateway?v=10
< json {"op":10}
> json {"op":2,"d":{"token":"@token(100)@","intents":1}}
< json_save ready {"op":0,"t":"READY"}
< json {"op":0,"t":"GUILD_CREATE"}
hup
< json {"op":7,"d":null,"s":null,"t":null}
< close 1012
< eof
sleep 0.2
shell t/bin/gwadmin GET '/admin/status?sessions=1' | grep -q '"session_id":"${ready.d.session_id}","user_id":"100","pid":null,"shard":\[0,1\],"seq":2,"attached":false'
--- no_error_log
[error]



=== TEST 8: a worker slot's sessions are shown per worker
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- ws_script
open /gateway?v=10
< json {"op":10}
> json {"op":2,"d":{"token":"@token(100)@","intents":1}}
< json {"op":0,"t":"READY"}
< json {"op":0,"t":"GUILD_CREATE"}
shell t/bin/gwadmin GET /admin/status | grep -q '"workers":\[{"slot":[0-9]*,"pid":[0-9]*,"sessions":1}'
