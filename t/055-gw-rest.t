# The REST subset (docs/API.md "REST subset", shared/CONTRACT.md): gateway
# discovery with and without a token, the token's user, a guild for its
# members; the Bot/Bearer token checks, Discord's errors, v9, 404 and 405,
# and gateway_public_url.  The blocks before the last ones share one
# configuration, so the users and the guild made by TEST 1 stay in the zone.
use lib 't/lib';
use Test::Gateway;
use Test::Gateway::Fixture;

our $CONFIG = <<'CONF';
location = /gateway { gateway; }
location /api/ { gateway_rest; }
location /admin/ { gateway_admin; }
CONF

gateway_fixture();
add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => $CONFIG) unless defined $block->config;
});
run_tests();

__DATA__

=== TEST 1: setup: users 100 (a bot), 101 and 102 (deleted), guild 200 with member 100
--- client
a() { t/bin/gwadmin "$@" >/dev/null; }
a POST /admin/users '{"id":"100","username":"alice","bot":true}'
a POST /admin/users '{"id":"101","username":"bob"}'
a POST /admin/users '{"id":"102","username":"gone"}'
a DELETE /admin/users/102
a PUT /admin/guilds/200 '{"name":"Guild","owner_id":"100","channels":[{"id":"201","name":"general","type":0}]}'
a PUT /admin/guilds/200/members/100 '{}'
--- no_error_log
[error]



=== TEST 2: GET /api/v10/gateway needs no token: ws:// with the request's Host
--- request
GET /api/v10/gateway
--- more_headers
Host: 127.0.0.1:$TEST_NGINX_PORT
--- response_headers
Content-Type: application/json
--- response_body: {"url":"ws://127.0.0.1:$TEST_NGINX_PORT/gateway"}
--- no_error_log
[error]



=== TEST 3: the URL has no query string
--- request
GET /api/v10/gateway?v=10&encoding=json
--- response_body: {"url":"ws://localhost/gateway"}



=== TEST 4: wss:// over TLS
--- request
GET /api/v10/gateway
--- tls
--- more_headers
Host: 127.0.0.1:$TEST_NGINX_TLS_PORT
--- response_body: {"url":"wss://127.0.0.1:$TEST_NGINX_TLS_PORT/gateway"}



=== TEST 5: HEAD is answered without a body
--- request
HEAD /api/v10/gateway
--- response_headers
Content-Type: application/json
--- response_body chomp



=== TEST 6: /gateway/bot with "Bot <token>": the URL, 1 shard and session_start_limit
--- request
GET /api/v10/gateway/bot
--- more_headers eval
"Authorization: Bot " . main::gateway_token(100)
--- response_headers
Content-Type: application/json
--- response_body: {"url":"ws://localhost/gateway","shards":1,"session_start_limit":{"total":1000,"remaining":1000,"reset_after":0,"max_concurrency":1}}
--- no_error_log
[error]



=== TEST 7: /gateway/bot with "Bearer <token>", over TLS
--- request
GET /api/v10/gateway/bot
--- tls
--- more_headers eval
"Authorization: Bearer " . main::gateway_token(101)
--- response_body: {"url":"wss://localhost/gateway","shards":1,"session_start_limit":{"total":1000,"remaining":1000,"reset_after":0,"max_concurrency":1}}



=== TEST 8: a token the admin API issued is accepted
--- client
t=$(t/bin/gwadmin POST /admin/users '{"id":"103","username":"issued","bot":true}' \
    | perl -MJSON::PP -e 'print decode_json(join "", <STDIN>)->{token}')
curl -fsS -H "Authorization: Bot $t" http://127.0.0.1:$TEST_NGINX_PORT/api/v10/users/@me | grep '^{"id":"103",'



=== TEST 9: 401 for /gateway/bot without Authorization
--- request
GET /api/v10/gateway/bot
--- error_code: 401
--- response_headers
Content-Type: application/json
--- response_body: {"code":0,"message":"401: Unauthorized"}



=== TEST 10: 401 for a token that is not one
--- request
GET /api/v10/gateway/bot
--- more_headers
Authorization: Bot not.a.token
--- error_code: 401
--- response_body: {"code":0,"message":"401: Unauthorized"}



=== TEST 11: 401 for a token signed with another secret
--- request
GET /api/v10/gateway/bot
--- more_headers eval
"Authorization: Bot " . main::gateway_token(100, 'another-secret')
--- error_code: 401
--- response_body: {"code":0,"message":"401: Unauthorized"}



=== TEST 12: 401 for a valid signature of a deleted user
--- request
GET /api/v10/gateway/bot
--- more_headers eval
"Authorization: Bot " . main::gateway_token(102)
--- error_code: 401
--- response_body: {"code":0,"message":"401: Unauthorized"}



=== TEST 13: 401 for a valid signature of a user that never existed
--- request
GET /api/v10/users/@me
--- more_headers eval
"Authorization: Bot " . main::gateway_token(999999)
--- error_code: 401
--- response_body: {"code":0,"message":"401: Unauthorized"}



=== TEST 14: 401 for a good token under another scheme, without a scheme, or altered
--- client
fail=0
tok=$(perl -It/lib -MTest::Gateway::Fixture -e 'print gateway_token(100)')
other=$(perl -It/lib -MTest::Gateway::Fixture -e 'print gateway_token(101)')
mac=${tok##*.}
for a in "Basic $tok" "Admin $tok" "$tok" "Bot" "Bot " "Bot  $tok" "Bot $tok." "Bot ${tok}x" \
         "Bot ${other%.*}.$mac" "Bot ${tok%.*}" "Bearer $(echo "$tok" | tr A-Za-z a-zA-Z)"; do
    got=$(curl -s -w ' %{http_code}' -H "Authorization: $a" http://127.0.0.1:$TEST_NGINX_PORT/api/v10/users/@me)
    [ "$got" = '{"code":0,"message":"401: Unauthorized"} 401' ] || { echo "[$a] -> $got"; fail=1; }
done
exit $fail



=== TEST 15: GET /users/@me: the token's user, with the fields of one's own user
--- request
GET /api/v10/users/@me
--- more_headers eval
"Authorization: Bot " . main::gateway_token(100)
--- response_headers
Content-Type: application/json
--- response_body: {"id":"100","username":"alice","discriminator":"0","global_name":null,"avatar":null,"bot":true,"system":false,"flags":0,"public_flags":0,"verified":true,"mfa_enabled":false,"email":null,"locale":"en-US"}
--- no_error_log
[error]



=== TEST 16: GET /users/@me with Bearer; /api/v9 is served as well
--- request
GET /api/v9/users/@me
--- more_headers eval
"Authorization: Bearer " . main::gateway_token(101)
--- response_body: {"id":"101","username":"bob","discriminator":"0","global_name":null,"avatar":null,"bot":false,"system":false,"flags":0,"public_flags":0,"verified":true,"mfa_enabled":false,"email":null,"locale":"en-US"}



=== TEST 17: GET /guilds/{id} for a member: the guild object
--- request
GET /api/v10/guilds/200
--- more_headers eval
"Authorization: Bot " . main::gateway_token(100)
--- response_headers
Content-Type: application/json
--- response_body_like: ^\{"id":"200","name":"Guild",.*"owner_id":"100",.*"roles":\[\{"id":"200","name":"@everyone",[^{}]*\}\],.*"approximate_member_count":1\}$
--- no_error_log
[error]



=== TEST 18: GET /guilds/{id} for a non-member: 403 Missing Access
--- request
GET /api/v10/guilds/200
--- more_headers eval
"Authorization: Bot " . main::gateway_token(101)
--- error_code: 403
--- response_body: {"code":50001,"message":"Missing Access"}



=== TEST 19: GET /guilds/{id} of no guild: 404 Unknown Guild
--- client
for g in 999999 abc 0 012; do
    got=$(curl -s -w ' %{http_code}' -H "Authorization: Bot $(perl -It/lib -MTest::Gateway::Fixture -e 'print gateway_token(100)')" \
          http://127.0.0.1:$TEST_NGINX_PORT/api/v10/guilds/$g)
    [ "$got" = '{"code":10004,"message":"Unknown Guild"} 404' ] || { echo "$g -> $got"; exit 1; }
done



=== TEST 20: GET /guilds/{id} without a valid token: 401, before the guild is looked up
--- client
for g in 200 999999; do
    for h in 'X-No-Auth: 1' 'Authorization: Bot x.y.z'; do
        got=$(curl -s -w ' %{http_code}' -H "$h" http://127.0.0.1:$TEST_NGINX_PORT/api/v10/guilds/$g)
        [ "$got" = '{"code":0,"message":"401: Unauthorized"} 401' ] || { echo "$g [$h] -> $got"; exit 1; }
    done
done



=== TEST 21: the membership is read live: a member removed loses access, one added gains it
--- client
tok=$(perl -It/lib -MTest::Gateway::Fixture -e 'print gateway_token(101)')
g() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bot $tok" http://127.0.0.1:$TEST_NGINX_PORT/api/v10/guilds/200; }
t/bin/gwadmin PUT /admin/guilds/200/members/101 '{}'
[ "$(g)" = 200 ] || { echo 'not 200 as a member'; exit 1; }
t/bin/gwadmin DELETE /admin/guilds/200/members/101
[ "$(g)" = 403 ] || { echo 'not 403 after the removal'; exit 1; }



=== TEST 22: 404 for routes outside the subset
--- client
fail=0
tok=$(perl -It/lib -MTest::Gateway::Fixture -e 'print gateway_token(100)')
for p in /api/ /api/v10 /api/v10/ /api/v8/gateway /api/v11/gateway /api/V10/gateway /api/gateway \
         /api/v10/nope /api/v10/gateway/foo /api/v10/gateway/bot/x /api/v10/users/100 \
         /api/v10/users/@me/guilds /api/v10/users /api/v10/guilds /api/v10/guilds/200/channels; do
    got=$(curl -s -w ' %{http_code}' -H "Authorization: Bot $tok" http://127.0.0.1:$TEST_NGINX_PORT$p)
    [ "$got" = '{"code":0,"message":"404: Not Found"} 404' ] || { echo "$p -> $got"; fail=1; }
done
exit $fail



=== TEST 23: 405 for methods other than GET and HEAD
--- client
fail=0
tok=$(perl -It/lib -MTest::Gateway::Fixture -e 'print gateway_token(100)')
for r in 'POST /api/v10/gateway' 'PUT /api/v10/gateway' 'POST /api/v10/gateway/bot' \
         'DELETE /api/v10/users/@me' 'PATCH /api/v10/users/@me' 'POST /api/v9/users/@me' \
         'DELETE /api/v10/guilds/200' 'POST /api/v10/guilds/200'; do
    set -- $r
    got=$(curl -s -X $1 -w ' %{http_code}' -H "Authorization: Bot $tok" -d '{}' http://127.0.0.1:$TEST_NGINX_PORT$2)
    [ "$got" = '{"code":0,"message":"405: Method Not Allowed"} 405' ] || { echo "$r -> $got"; fail=1; }
done
exit $fail



=== TEST 24: a POST is answered 405 as JSON
--- request
POST /api/v10/gateway
{}
--- error_code: 405
--- response_headers
Content-Type: application/json
--- response_body: {"code":0,"message":"405: Method Not Allowed"}



=== TEST 25: gateway_public_url replaces the URL of /gateway, /gateway/bot (plain and TLS) and READY's resume_gateway_url
--- config
gateway_public_url wss://gw.example.com/gateway;
location = /gateway { gateway; }
location /api/ { gateway_rest; }
location /admin/ { gateway_admin; }
--- ws_script
shell t/bin/gwadmin POST /admin/users '{"id":"110","username":"public","bot":true}'
open /gateway?v=10&encoding=json
< json {"op":10}
> json {"op":2,"d":{"token":"@token(110)@","intents":1}}
< json {"op":0,"t":"READY","s":1,"d":{"resume_gateway_url":"wss://gw.example.com/gateway"}}
--- client
fail=0
tok=$(perl -It/lib -MTest::Gateway::Fixture -e 'print gateway_token(110)')
for u in http://127.0.0.1:$TEST_NGINX_PORT https://127.0.0.1:$TEST_NGINX_TLS_PORT; do
    got=$(curl -ks $u/api/v10/gateway)
    [ "$got" = '{"url":"wss://gw.example.com/gateway"}' ] || { echo "$u: $got"; fail=1; }
    got=$(curl -ks -H "Authorization: Bot $tok" $u/api/v10/gateway/bot)
    case "$got" in '{"url":"wss://gw.example.com/gateway","shards":1,'*) ;; *) echo "$u bot: $got"; fail=1;; esac
done
exit $fail



=== TEST 26: gateway_public_url in the REST location alone
--- config
location = /gateway { gateway; }
location /api/ { gateway_rest; gateway_public_url ws://10.0.0.1:9000/gw; }
--- request
GET /api/v10/gateway
--- response_body: {"url":"ws://10.0.0.1:9000/gw"}



=== TEST 27: gateway_public_url must be ws:// or wss://
--- config
location /api/ { gateway_rest; gateway_public_url https://gw.example.com/gateway; }
--- must_die
--- error_log
"gateway_public_url" must be a ws:// or wss:// URL
