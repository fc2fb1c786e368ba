# Gateway v10 Identify (shared/PROTOCOL.md 1.6, 1.7, 1.10, 1.11, 1.15):
# READY with every field, a GUILD_CREATE per guild reduced as Discord
# does, and each close code Identify can end with.
use lib 't/lib';
use Test::Gateway;
use Test::Gateway::Fixture;

gateway_fixture();

# one master for the file: configurations change with HUP, the zone (and
# the users and guilds of TEST 1) stays
use_hup();
run_tests();

__DATA__

=== TEST 1: set up users and guilds
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- ws_script
shell t/bin/gwadmin POST /admin/users '{"id":"100","username":"alice","bot":true}'
shell t/bin/gwadmin POST /admin/users '{"id":"101","username":"bob","global_name":"Bobby"}'
shell t/bin/gwadmin POST /admin/users '{"id":"102","username":"carol","privileged_intents":0}'
shell t/bin/gwadmin PUT /admin/guilds/4194304000 '{"name":"Guild A","owner_id":"100","channels":[{"id":"500","name":"general","type":0},{"id":"501","name":"Voice","type":2}]}'
shell t/bin/gwadmin PUT /admin/guilds/4198498304 '{"name":"Guild B","channels":[{"id":"600","name":"chat","type":0}],"roles":[{"id":"700","name":"mods","permissions":"8"}]}'
shell t/bin/gwadmin PUT /admin/guilds/4194304000/members/100 '{}'
shell t/bin/gwadmin PUT /admin/guilds/4198498304/members/100 '{}'
shell t/bin/gwadmin PUT /admin/guilds/4194304000/members/101 '{"nick":"bobby","roles":[]}'
shell t/bin/gwadmin PUT /admin/guilds/4198498304/members/101 '{"roles":["700"]}'
--- no_error_log
[error]



=== TEST 2: READY (s=1) has every field of 1.7, then a GUILD_CREATE per guild
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- ws_script
open /gateway?v=10&encoding=json
< json {"op":10}
> json {"op":2,"d":{"token":"@token(100)@","intents":513,"properties":{"os":"linux","browser":"t","device":"t"}}}
< json {"op":0,"s":1,"t":"READY","d":{"v":10,"user":{"id":"100","username":"alice","discriminator":"0","global_name":null,"avatar":null,"bot":true},"guilds":[{"id":"4194304000","unavailable":true},{"id":"4198498304","unavailable":true}],"session_id":"/^[0-9a-f]{32}$/","resume_gateway_url":"/^ws:\/\/[^?]+\/gateway$/","application":{"id":"100","flags":0}}}
< json {"op":0,"s":2,"t":"GUILD_CREATE","d":{"id":"4194304000","name":"Guild A","owner_id":"100","unavailable":false,"large":false,"member_count":2,"channels":[{"id":"500","type":0,"name":"general"},{"id":"501","type":2,"name":"Voice"}],"roles":[{"id":"4194304000","name":"@everyone"}],"voice_states":[],"presences":[]}}
< json {"op":0,"s":3,"t":"GUILD_CREATE","d":{"id":"4198498304","name":"Guild B","member_count":2,"roles":[{"id":"4198498304","name":"@everyone"},{"id":"700","name":"mods","permissions":"8"}]}}
> json {"op":1,"d":3}
< json {"op":11}
--- no_error_log
[error]



=== TEST 3: without GUILD_PRESENCES the member list is the session's own
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- ws_script
open /gateway?v=10
< json {"op":10}
> json {"op":2,"d":{"token":"@token(100)@","intents":1}}
< json {"op":0,"t":"READY"}
< json {"op":0,"t":"GUILD_CREATE","d":{"members":[{"user":{"id":"100"},"roles":[]}],"presences":[]}}
< json {"op":0,"t":"GUILD_CREATE","d":{"members":[{"user":{"id":"100"}}]}}



=== TEST 4: with GUILD_PRESENCES a small guild lists everyone, online first
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- ws_script
open b /gateway?v=10
b< json {"op":10}
b> json {"op":2,"d":{"token":"@token(101)@","intents":1,"presence":{"status":"dnd","activities":[{"name":"testing","type":0}],"since":null,"afk":false}}}
b< json {"op":0,"t":"READY"}
b< json {"op":0,"t":"GUILD_CREATE"}
b< json {"op":0,"t":"GUILD_CREATE"}
open a /gateway?v=10
a< json {"op":10}
a> json {"op":2,"d":{"token":"@token(100)@","intents":257}}
a< json {"op":0,"t":"READY"}
a< json {"op":0,"t":"GUILD_CREATE","d":{"id":"4194304000","members":[{"user":{"id":"100"}},{"user":{"id":"101"},"nick":"bobby"}],"presences":[{"user":{"id":"100"},"status":"online"},{"user":{"id":"101"},"status":"dnd","activities":[{"name":"testing","type":0}]}]}}
a< json {"op":0,"t":"GUILD_CREATE","d":{"id":"4198498304","members":[{"user":{"id":"100"}},{"user":{"id":"101"},"roles":["700"]}]}}



=== TEST 5: large_threshold: a guild above it is "large"
--- config
location = /gateway { gateway; gateway_large_threshold 1 250; }
location /admin/ { gateway_admin; }
--- ws_script
open /gateway?v=10
< json {"op":10}
> json {"op":2,"d":{"token":"@token(100)@","intents":1,"large_threshold":1}}
< json {"op":0,"t":"READY"}
< json {"op":0,"t":"GUILD_CREATE","d":{"large":true,"member_count":2}}



=== TEST 6: large_threshold outside 50..250: 4002
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- ws_script
open a /gateway?v=10
a< json {"op":10}
a> json {"op":2,"d":{"token":"@token(100)@","intents":1,"large_threshold":49}}
a< close 4002 "Decode error: Identify: large_threshold must be 50..250"
a< eof
open b /gateway?v=10
b< json {"op":10}
b> json {"op":2,"d":{"token":"@token(100)@","intents":1,"large_threshold":251}}
b< close 4002
b< eof



=== TEST 7: shards: a session of shard [1, 2] gets only its guilds (1.11)
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- ws_script
open /gateway?v=10
< json {"op":10}
> json {"op":2,"d":{"token":"@token(100)@","intents":1,"shard":[1,2]}}
< json {"op":0,"s":1,"t":"READY","d":{"guilds":[{"id":"4198498304"}],"shard":[1,2]}}
< json {"op":0,"s":2,"t":"GUILD_CREATE","d":{"id":"4198498304"}}
> json {"op":1,"d":2}
< json {"op":11}



=== TEST 8: an invalid shard: 4010
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- ws_script
open a /gateway?v=10
a< json {"op":10}
a> json {"op":2,"d":{"token":"@token(100)@","intents":1,"shard":[2,2]}}
a< close 4010
a< eof
open b /gateway?v=10
b< json {"op":10}
b> json {"op":2,"d":{"token":"@token(100)@","intents":1,"shard":[0,0]}}
b< close 4010
b< eof
open c /gateway?v=10
c< json {"op":10}
c> json {"op":2,"d":{"token":"@token(100)@","intents":1,"shard":[-1,4]}}
c< close 4010
c< eof
--- error_log
closing with 4010



=== TEST 9: more guilds than a session may hold: 4011
--- config
location = /gateway { gateway; gateway_max_session_guilds 1; }
location /admin/ { gateway_admin; }
--- ws_script
open a /gateway?v=10
a< json {"op":10}
a> json {"op":2,"d":{"token":"@token(100)@","intents":1}}
a< close 4011
a< eof
open b /gateway?v=10
b< json {"op":10}
b> json {"op":2,"d":{"token":"@token(100)@","intents":1,"shard":[0,2]}}
b< json {"op":0,"t":"READY","d":{"guilds":[{"id":"4194304000"}]}}



=== TEST 10: bad tokens: garbage, another secret, an unknown user: 4004
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- ws_script
open a /gateway?v=10
a< json {"op":10}
a> json {"op":2,"d":{"token":"not-a-token","intents":1}}
a< close 4004
a< eof
open b /gateway?v=10
b< json {"op":10}
b> json {"op":2,"d":{"token":"@token(100,another-secret)@","intents":1}}
b< close 4004
b< eof
open c /gateway?v=10
c< json {"op":10}
c> json {"op":2,"d":{"token":"@token(999)@","intents":1}}
c< close 4004 "Authentication failed: unknown user 999"
c< eof
--- error_log
closing with 4004



=== TEST 11: the token of a deleted user: 4004
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- ws_script
shell t/bin/gwadmin POST /admin/users '{"id":"150","username":"gone"}'
shell t/bin/gwadmin DELETE /admin/users/150
open /gateway?v=10
< json {"op":10}
> json {"op":2,"d":{"token":"@token(150)@","intents":1}}
< close 4004
< eof



=== TEST 12: undefined intent bits: 4013; disallowed privileged ones: 4014
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- ws_script
open a /gateway?v=10
a< json {"op":10}
a> json {"op":2,"d":{"token":"@token(100)@","intents":131072}}
a< close 4013
a< eof
open b /gateway?v=10
b< json {"op":10}
b> json {"op":2,"d":{"token":"@token(102)@","intents":2}}
b< close 4014
b< eof
open c /gateway?v=10
c< json {"op":10}
c> json {"op":2,"d":{"token":"@token(102)@","intents":513}}
c< json {"op":0,"t":"READY"}
--- error_log
closing with 4013
closing with 4014



=== TEST 13: gateway_allowed_intents narrows what may be asked for
--- config
location = /gateway { gateway; gateway_allowed_intents 1; }
location /admin/ { gateway_admin; }
--- ws_script
open /gateway?v=10
< json {"op":10}
> json {"op":2,"d":{"token":"@token(100)@","intents":513}}
< close 4013
< eof



=== TEST 14: gateway_privileged_intents 0: nothing is privileged
--- config
location = /gateway { gateway; gateway_privileged_intents 0; }
location /admin/ { gateway_admin; }
--- ws_script
open /gateway?v=10
< json {"op":10}
> json {"op":2,"d":{"token":"@token(102)@","intents":258}}
< json {"op":0,"t":"READY"}



=== TEST 15: a second Identify: 4005
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- ws_script
open /gateway?v=10
< json {"op":10}
> json {"op":2,"d":{"token":"@token(101)@","intents":1}}
< json {"op":0,"t":"READY"}
< json {"op":0,"t":"GUILD_CREATE"}
< json {"op":0,"t":"GUILD_CREATE"}
> json {"op":2,"d":{"token":"@token(101)@","intents":1}}
< close 4005
< eof



=== TEST 16: Identify with missing or mistyped fields: 4002
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- ws_script
open a /gateway?v=10
a< json {"op":10}
a> json {"op":2,"d":{"intents":1}}
a< close 4002 "Decode error: Identify: token must be a string"
a< eof
open b /gateway?v=10
b< json {"op":10}
b> json {"op":2,"d":{"token":"@token(100)@","intents":"1"}}
b< close 4002
b< eof
open c /gateway?v=10
c< json {"op":10}
c> json {"op":2,"d":null}
c< close 4002
c< eof
open d /gateway?v=10
d< json {"op":10}
d> json {"op":2,"d":{"token":"@token(100)@","intents":1,"shard":"0,1"}}
d< close 4002
d< eof
open e /gateway?v=10
e< json {"op":10}
e> json {"op":2,"d":{"token":"@token(100)@","intents":1,"presence":{"status":"asleep"}}}
e< close 4002
e< eof
open f /gateway?v=10
f< json {"op":10}
f> json {"op":2,"d":{"token":"@token(100)@","intents":1,"properties":[]}}
f< close 4002
f< eof
open g /gateway?v=10
g< json {"op":10}
g> json {"op":2,"d":{"token":"@token(100)@","intents":-1}}
g< close 4002
g< eof



=== TEST 17: Resume of a session this node does not hold: op 9 d:false
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- ws_script
open /gateway?v=10
< json {"op":10}
> json {"op":6,"d":{"token":"@token(100)@","session_id":"00000000000000000000000000000000","seq":1}}
< json {"op":9,"d":false,"s":null,"t":null}
> json {"op":6,"d":{"token":"@token(100)@"}}
< close 4002
< eof



=== TEST 18: gateway_public_url is READY's resume_gateway_url
--- config
location = /gateway {
    gateway;
    gateway_public_url wss://gateway.example.com/gateway;
}
location /admin/ { gateway_admin; }
--- ws_script
open /gateway?v=10
< json {"op":10}
> json {"op":2,"d":{"token":"@token(100)@","intents":1}}
< json {"op":0,"t":"READY","d":{"resume_gateway_url":"wss://gateway.example.com/gateway"}}



=== TEST 19: over TLS the resume URL is wss://
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- ws_script
open /gateway?v=10 tls
< json {"op":10}
> json {"op":2,"d":{"token":"@token(100)@","intents":1}}
< json {"op":0,"t":"READY","d":{"resume_gateway_url":"/^wss:\/\/.*\/gateway$/"}}



=== TEST 20: a user in no guild gets READY with an empty list and no more
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- ws_script
shell t/bin/gwadmin POST /admin/users '{"id":"160","username":"lonely"}'
open /gateway?v=10
< json {"op":10}
> json {"op":2,"d":{"token":"@token(160)@","intents":513}}
< json {"op":0,"s":1,"t":"READY","d":{"guilds":[]}}
< nothing 0.3
