# op 8 Request Guild Members (shared/PROTOCOL.md 1.15, 1.12): malformed
# requests (4002) and requests before Identify (4003); the user_ids and
# query forms; nonces; the whole member list in chunks of 1000, and only
# with GUILD_MEMBERS; presences with GUILD_PRESENCES; guilds that are not
# the user's; the 30 s limit of the all-members form (RATE_LIMITED); and
# chunks made as a slow client reads, with other dispatches between them.
#
# All blocks share one configuration, so the users and guilds made by
# TEST 1 (see t/bin/members_check.py) stay in the zone.  Each block that
# asks for a whole member list (query "", limit 0) does so as a user of
# its own, since that form is limited per user and guild for 30 s.
use lib 't/lib';
use Test::Gateway;
use Test::Gateway::Fixture;

# the extra listener has a small fixed send buffer (no autotuning), so a
# chunk of 1000 members cannot sit whole in the kernel (TEST 13)
our $CONFIG = <<'CONF';
listen 127.0.0.1:$TEST_NGINX_BACKEND_PORT sndbuf=32k;
location = /gateway { gateway; }
location /api/ { gateway_rest; }
location /admin/ { gateway_admin; client_max_body_size 16m; }
CONF

gateway_fixture();
workers(2);
add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => $CONFIG) unless defined $block->config;
    $block->set_value(client_timeout => 40)
        if defined $block->client && !defined $block->client_timeout;
});
run_tests();

__DATA__

=== TEST 1: setup: guild G1 (17 members), G2 (2500, made with /admin/bulk), G3 (not the bots')
--- client
/usr/bin/python3 t/bin/members_check.py setup
--- no_error_log
[error]



=== TEST 2: op 8 before Identify: 4003, even when malformed
--- ws_script
open a /gateway?v=10&encoding=json
a< json {"op":10}
a> json {"op":8,"d":{"guild_id":"4194304000","query":"","limit":0}}
a< close 4003 /^Not authenticated/
a< eof
open b /gateway?v=10&encoding=json
b< json {"op":10}
b> json {"op":8,"d":null}
b< close 4003
b< eof
--- no_error_log
[error]



=== TEST 3: malformed requests: 4002 "Decode error: Request Guild Members: ..."
--- ws_script
open /gateway?v=10&encoding=json
< json {"op":10}
> json {"op":2,"d":{"token":"@token(107)@","intents":3}}
< json {"op":0,"t":"READY","s":1}
< json {"op":0,"t":"GUILD_CREATE","s":2}
> json {"op":8,"d":{"guild_id":["4194304000"],"query":"","limit":0}}
< close 4002 /^Decode error: Request Guild Members: .*one guild_id per request/
< eof
--- client
/usr/bin/python3 t/bin/members_check.py decode-errors
--- error_log
closing with 4002, Decode error: Request Guild Members:
--- no_error_log
[error]



=== TEST 4: user_ids: one chunk, the members found and not_found
--- ws_script
open /gateway?v=10&encoding=json
< json {"op":10}
> json {"op":2,"d":{"token":"@token(100)@","intents":3}}
< json {"op":0,"t":"READY","s":1}
< json {"op":0,"t":"GUILD_CREATE","s":2}
< json {"op":0,"t":"GUILD_CREATE","s":3}
> json {"op":8,"d":{"guild_id":"4194304000","user_ids":["101","104","107","999"],"nonce":"by-ids"}}
< json {"op":0,"t":"GUILD_MEMBERS_CHUNK","s":4,"d":{"guild_id":"4194304000","members":[{"user":{"id":"101","username":"alice"},"nick":null},{"user":{"id":"104","username":"carol"}}],"chunk_index":0,"chunk_count":1,"not_found":["107","999"],"nonce":"by-ids"}}
> json {"op":8,"d":{"guild_id":"4194304000","user_ids":"103","limit":0}}
< json {"op":0,"t":"GUILD_MEMBERS_CHUNK","s":5,"d":{"guild_id":"4194304000","members":[{"user":{"id":"103","username":"bob"},"nick":"ALbert","roles":[]}],"chunk_index":0,"chunk_count":1}}
> close 1000
< close 1000
< eof
--- no_error_log
[error]



=== TEST 5: query: a case-insensitive username or nickname prefix, at most min(limit, 100), in user id order
--- ws_script
open /gateway?v=10&encoding=json
< json {"op":10}
> json {"op":2,"d":{"token":"@token(100)@","intents":3}}
< json {"op":0,"t":"READY","s":1}
< json {"op":0,"t":"GUILD_CREATE","s":2}
< json {"op":0,"t":"GUILD_CREATE","s":3}
> json {"op":8,"d":{"guild_id":"4194304000","query":"AL","limit":0,"nonce":"q"}}
< json {"op":0,"t":"GUILD_MEMBERS_CHUNK","s":4,"d":{"guild_id":"4194304000","members":[{"user":{"id":"101"}},{"user":{"id":"102"}},{"user":{"id":"103"},"nick":"ALbert"},{"user":{"id":"105"}},{"user":{"id":"106"}}],"chunk_index":0,"chunk_count":1,"nonce":"q"}}
> json {"op":8,"d":{"guild_id":"4194304000","query":"nobody","limit":10}}
< json {"op":0,"t":"GUILD_MEMBERS_CHUNK","s":5,"d":{"guild_id":"4194304000","members":[],"chunk_index":0,"chunk_count":1}}
> close 1000
< close 1000
< eof
--- client
/usr/bin/python3 t/bin/members_check.py queries
--- no_error_log
[error]



=== TEST 6: a nonce of at most 32 bytes is echoed; any other nonce is ignored
--- ws_script
open /gateway?v=10&encoding=json
< json {"op":10}
> json {"op":2,"d":{"token":"@token(100)@","intents":3}}
< json {"op":0,"t":"READY","s":1}
< json {"op":0,"t":"GUILD_CREATE","s":2}
< json {"op":0,"t":"GUILD_CREATE","s":3}
> json {"op":8,"d":{"guild_id":"4194304000","user_ids":["101"],"nonce":"0123456789abcdef0123456789abcdef"}}
< json {"op":0,"t":"GUILD_MEMBERS_CHUNK","s":4,"d":{"members":[{"user":{"id":"101"}}],"nonce":"0123456789abcdef0123456789abcdef"}}
> json {"op":8,"d":{"guild_id":"4194304000","user_ids":["102"],"nonce":"0123456789abcdef0123456789abcdef0"}}
< text /^(?!.*"nonce")(?=.*"s":5,"t":"GUILD_MEMBERS_CHUNK")(?=.*"members":\[\{"user":\{"id":"102")/
> json {"op":8,"d":{"guild_id":"4194304000","user_ids":["101"],"nonce":"\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"}}
< json {"op":0,"t":"GUILD_MEMBERS_CHUNK","s":6,"d":{"members":[{"user":{"id":"101"}}],"nonce":"\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"}}
> json {"op":8,"d":{"guild_id":"4194304000","user_ids":["102"],"nonce":"\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"}}
< text /^(?!.*"nonce")(?=.*"s":7,"t":"GUILD_MEMBERS_CHUNK")(?=.*"members":\[\{"user":\{"id":"102")/
> json {"op":8,"d":{"guild_id":"4194304000","user_ids":["101"],"nonce":12345}}
< text /^(?!.*"nonce")(?=.*"s":8,"t":"GUILD_MEMBERS_CHUNK")(?=.*"members":\[\{"user":\{"id":"101")/
> json {"op":8,"d":{"guild_id":"4194304000","user_ids":["102"],"nonce":null}}
< text /^(?!.*"nonce")(?=.*"s":9,"t":"GUILD_MEMBERS_CHUNK")(?=.*"members":\[\{"user":\{"id":"102")/
> json {"op":8,"d":{"guild_id":"4194304000","user_ids":["101"],"nonce":["n"]}}
< text /^(?!.*"nonce")(?=.*"s":10,"t":"GUILD_MEMBERS_CHUNK")(?=.*"members":\[\{"user":\{"id":"101")/
> json {"op":8,"d":{"guild_id":"4194304000","query":"zzz","limit":1,"nonce":"quote\" back\\slash \u0001"}}
< json {"op":0,"t":"GUILD_MEMBERS_CHUNK","s":11,"d":{"members":[],"nonce":"quote\" back\\slash \u0001"}}
> close 1000
< close 1000
< eof
--- no_error_log
[error]



=== TEST 7: an empty nonce is a string of at most 32 bytes: echoed
--- ws_script
open /gateway?v=10&encoding=json
< json {"op":10}
> json {"op":2,"d":{"token":"@token(107)@","intents":3}}
< json {"op":0,"t":"READY","s":1}
< json {"op":0,"t":"GUILD_CREATE","s":2}
> json {"op":8,"d":{"guild_id":"12582912000","user_ids":["107"],"nonce":""}}
< json {"op":0,"t":"GUILD_MEMBERS_CHUNK","s":3,"d":{"members":[{"user":{"id":"107"}}],"nonce":""}}
> close 1000
< close 1000
< eof



=== TEST 8: without GUILD_MEMBERS, query "" gives exactly one empty chunk; the other forms work
--- ws_script
open /gateway?v=10&encoding=json
< json {"op":10}
> json {"op":2,"d":{"token":"@token(117)@","intents":1}}
< json {"op":0,"t":"READY","s":1}
< json {"op":0,"t":"GUILD_CREATE","s":2}
< json {"op":0,"t":"GUILD_CREATE","s":3}
> json {"op":8,"d":{"guild_id":"8388608000","query":"","limit":0,"nonce":"no-intent"}}
< json {"op":0,"t":"GUILD_MEMBERS_CHUNK","s":4,"d":{"guild_id":"8388608000","members":[],"chunk_index":0,"chunk_count":1,"nonce":"no-intent"}}
> json {"op":1,"d":4}
< json {"op":11}
> json {"op":8,"d":{"guild_id":"8388608000","query":"","limit":1500}}
< json {"op":0,"t":"GUILD_MEMBERS_CHUNK","s":5,"d":{"guild_id":"8388608000","members":[],"chunk_index":0,"chunk_count":1}}
> json {"op":1,"d":5}
< json {"op":11}
> json {"op":8,"d":{"guild_id":"4194304000","query":"","limit":0,"presences":true}}
< json {"op":0,"t":"GUILD_MEMBERS_CHUNK","s":6,"d":{"guild_id":"4194304000","members":[],"chunk_index":0,"chunk_count":1}}
> json {"op":1,"d":6}
< json {"op":11}
> json {"op":8,"d":{"guild_id":"4194304000","query":"al","limit":2}}
< json {"op":0,"t":"GUILD_MEMBERS_CHUNK","s":7,"d":{"guild_id":"4194304000","members":[{"user":{"id":"101"}},{"user":{"id":"102"}}],"chunk_index":0,"chunk_count":1}}
> json {"op":8,"d":{"guild_id":"8388608000","user_ids":["22489","105"]}}
< json {"op":0,"t":"GUILD_MEMBERS_CHUNK","s":8,"d":{"guild_id":"8388608000","members":[{"user":{"id":"22489","username":"user02489"}}],"chunk_index":0,"chunk_count":1,"not_found":["105"]}}
> close 1000
< close 1000
< eof
--- no_error_log
[error]



=== TEST 9: a guild that is not the user's, or no guild: one empty chunk, not_found = the user_ids
--- ws_script
open /gateway?v=10&encoding=json
< json {"op":10}
> json {"op":2,"d":{"token":"@token(119)@","intents":3}}
< json {"op":0,"t":"READY","s":1}
< json {"op":0,"t":"GUILD_CREATE","s":2}
< json {"op":0,"t":"GUILD_CREATE","s":3}
> json {"op":8,"d":{"guild_id":"12582912000","user_ids":["101","107"],"nonce":"g3"}}
< json {"op":0,"t":"GUILD_MEMBERS_CHUNK","s":4,"d":{"guild_id":"12582912000","members":[],"chunk_index":0,"chunk_count":1,"not_found":["101","107"],"nonce":"g3"}}
> json {"op":8,"d":{"guild_id":"12582912000","query":"al","limit":10}}
< json {"op":0,"t":"GUILD_MEMBERS_CHUNK","s":5,"d":{"guild_id":"12582912000","members":[],"chunk_index":0,"chunk_count":1}}
> json {"op":8,"d":{"guild_id":"12582912000","query":"","limit":0}}
< json {"op":0,"t":"GUILD_MEMBERS_CHUNK","s":6,"d":{"guild_id":"12582912000","members":[],"chunk_index":0,"chunk_count":1}}
> json {"op":8,"d":{"guild_id":"16777216000","user_ids":"101","nonce":"none"}}
< json {"op":0,"t":"GUILD_MEMBERS_CHUNK","s":7,"d":{"guild_id":"16777216000","members":[],"chunk_index":0,"chunk_count":1,"not_found":["101"],"nonce":"none"}}
> json {"op":8,"d":{"guild_id":"16777216000","query":"","limit":0}}
< json {"op":0,"t":"GUILD_MEMBERS_CHUNK","s":8,"d":{"guild_id":"16777216000","members":[],"chunk_index":0,"chunk_count":1}}
> json {"op":1,"d":8}
< json {"op":11}
> close 1000
< close 1000
< eof
--- no_error_log
[error]



=== TEST 10: presences: with presences:true and GUILD_PRESENCES, those of the members not offline or invisible
--- client
/usr/bin/python3 t/bin/members_check.py presences
--- no_error_log
[error]



=== TEST 11: the whole list: 1000 per chunk, chunk_count = ceil(n/1000), user id order, the nonce on every chunk; limit n = the first n
--- client
/usr/bin/python3 t/bin/members_check.py all-members
--- no_error_log
[error]



=== TEST 12: the all-members form again within 30 s: RATE_LIMITED, the socket stays open; other forms, users and guilds are not limited
--- client
/usr/bin/python3 t/bin/members_check.py rate-limit
--- no_error_log
[error]



=== TEST 13: chunks are made as the client reads: a message comes between them, s has no gap; readers that go away mid-list
--- client
/usr/bin/python3 t/bin/members_check.py streaming
--- no_error_log
[error]



=== TEST 14: the limit is per guild: asking for another guild's list meanwhile does not lift it
--- client
/usr/bin/python3 t/bin/members_check.py rate-limit-guilds
--- no_error_log
[error]



=== TEST 15: any integer limit from 0 is allowed: 4294967295 is the whole list, or the query's 100 at most
--- client
/usr/bin/python3 t/bin/members_check.py huge-limit
--- no_error_log
[error]
