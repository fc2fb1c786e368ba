# The admin API (docs/API.md "Admin API"): loopback and secret checks,
# users, guilds, members and their events on live sessions, dispatch,
# bulk NDJSON, status, the routes' 404/405/409/413.  Two workers, so
# events cross between them.  Every block runs on one configuration, so
# nginx keeps its zone from block to block: later blocks use what earlier
# ones created (ids by section: 1xxx users, 2xxx guilds and members, 3xxx
# live events, 4xxx bulk, 5xxx status).
use lib 't/lib';
use Test::Gateway;
use Test::Gateway::Fixture;

my $CONFIG = <<'CONF';
location = /gateway { gateway; }
location /admin/ {
    gateway_admin;
    client_max_body_size 64k;
    error_page 413 = @gateway_too_large;
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;
}
# as in conf/nginx.conf: nginx refuses a body over the limit before the
# module runs, and answers in Discord's shape all the same
location @gateway_too_large {
    default_type application/json;
    return 413 '{"code":40005,"message":"Request entity too large"}';
}
# without error_page: the module's own 413, for a chunked body
location = /admin/users {
    gateway_admin;
    client_max_body_size 1k;
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;
}
CONF

# Every client starts with these.  ck METHOD PATH BODY 'WANT STATUS' calls
# the admin API (no body if BODY is empty) and compares the response body
# and status exactly; bad METHOD PATH BODY MESSAGE expects the 400 of
# "Invalid Form Body: MESSAGE".  A mismatch is printed and fails the client
# at its end (the other checks still run).
my $CLIENT_PRELUDE = <<'SH';
U=http://127.0.0.1:$TEST_NGINX_PORT
fail=0
trap '[ $fail = 0 ] || exit 1' EXIT
adm() { curl -s -H 'Authorization: Admin t-admin-secret' "$@"; }
ck() {
    if [ -n "$3" ]; then got=$(adm -X "$1" -w ' %{http_code}' --data-binary "$3" "$U$2")
    else got=$(adm -X "$1" -w ' %{http_code}' "$U$2"); fi
    [ "$got" = "$4" ] || { printf '%s %s %s\n  got:  %s\n  want: %s\n' "$1" "$2" "$3" "$got" "$4"; fail=1; }
}
bad() { ck "$1" "$2" "$3" "{\"code\":50035,\"message\":\"Invalid Form Body: $4\"} 400"; }
SH

workers(2);
gateway_fixture();
add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => $CONFIG) unless defined $block->config;
    # requests carry the fixture's admin secret unless the block says noauth
    if (defined $block->request && !defined $block->noauth) {
        my $h = $block->more_headers // '';
        $block->set_value(more_headers => "Authorization: Admin $ADMIN_SECRET\n$h");
    }
    $block->set_value(client => $CLIENT_PRELUDE . $block->client) if defined $block->client;
});
run_tests();

__DATA__

=== TEST 1: 401 without Authorization
--- request
GET /admin/status
--- noauth
--- error_code: 401
--- response_headers
Content-Type: application/json
--- response_body: {"code":0,"message":"401: Unauthorized"}



=== TEST 2: 401 for a wrong secret, another scheme, a prefix of the secret, the secret and more
--- client
for a in 'Admin t-admin-secreT' 'Bearer t-admin-secret' 'Bot t-admin-secret' 'Admin t-admin-secre' \
         'Admin t-admin-secretX' 'Admin  t-admin-secret' 'Admin ' 'Admin' 't-admin-secret'; do
    got=$(curl -s -w ' %{http_code}' -H "Authorization: $a" $U/admin/status)
    [ "$got" = '{"code":0,"message":"401: Unauthorized"} 401' ] || { echo "[$a]: $got"; fail=1; }
done



=== TEST 3: 403 for a non-loopback client, even with the right secret
--- request
GET /admin/status
--- more_headers
X-Forwarded-For: 10.1.2.3
--- error_code: 403
--- response_headers
Content-Type: application/json
--- response_body: {"code":0,"message":"403: Forbidden"}



=== TEST 4: 403 comes before the secret is looked at
--- request
GET /admin/users/1
--- noauth
--- more_headers
X-Forwarded-For: 10.1.2.3
--- error_code: 403
--- response_body: {"code":0,"message":"403: Forbidden"}



=== TEST 5: any 127.0.0.0/8 client is loopback
--- request
GET /admin/status
--- more_headers
X-Forwarded-For: 127.0.0.5
--- response_body_like: ^\{"node":
--- no_error_log
[error]



=== TEST 6: POST /admin/users with an id, bot and global_name: the id and a token naming it
--- request
POST /admin/users
{"id":"1001","username":"alice","bot":true,"global_name":"Alice A."}
--- response_headers
Content-Type: application/json
--- response_body_like: ^\{"id":"1001","token":"MTAwMQ\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}"\}$
--- no_error_log
[error]



=== TEST 7: GET /admin/users/{id}: the user object
--- request
GET /admin/users/1001
--- response_body: {"id":"1001","username":"alice","discriminator":"0","global_name":"Alice A.","avatar":null,"bot":true,"system":false,"flags":0,"public_flags":0}



=== TEST 8: without an id: a new snowflake of now, and a token that verifies (HMAC-SHA256, t-token-secret)
--- client
adm -f -d '{"username":"gen"}' $U/admin/users | perl -MJSON::PP -MDigest::SHA=hmac_sha256 \
    -MMIME::Base64=encode_base64url,decode_base64url -e '
    my $r = decode_json(join "", <STDIN>);
    my $id = $r->{id};
    $id =~ /^[1-9][0-9]{15,19}$/ or die "id $id\n";
    my $ms = ($id >> 22) + 1420070400000;
    abs($ms / 1000 - time) < 120 or die "id $id has timestamp $ms\n";
    my ($u, $t, $mac) = split /\./, $r->{token};
    decode_base64url($u) eq $id or die "token names " . decode_base64url($u) . "\n";
    abs(decode_base64url($t) - time) < 120 or die "issued_at " . decode_base64url($t) . "\n";
    $mac eq encode_base64url(hmac_sha256("$u.$t", "t-token-secret")) or die "bad MAC\n";
    print "ok $id\n";'



=== TEST 9: 409 for a taken id
--- request
POST /admin/users
{"id":"1001","username":"alice2"}
--- error_code: 409
--- response_body_like: ^\{"code":0,"message":"user (1001 )?exists"\}$



=== TEST 10: bot defaults to false, global_name to null; 2 and 32 bytes are valid usernames
--- client
adm -f -d '{"id":"1002","username":"bo"}' $U/admin/users >/dev/null
adm -f -d '{"id":"1003","username":"abcdefghijklmnopqrstuvwxyz012345"}' $U/admin/users >/dev/null
ck GET /admin/users/1002 '' '{"id":"1002","username":"bo","discriminator":"0","global_name":null,"avatar":null,"bot":false,"system":false,"flags":0,"public_flags":0} 200'
adm $U/admin/users/1003 | grep -F '"username":"abcdefghijklmnopqrstuvwxyz012345"'



=== TEST 11: 400 for a body that is not JSON, or is empty
--- client
for b in 'username=alice' ''; do
    adm -w ' %{http_code}' --data-binary "$b" $U/admin/users \
        | grep -E '^\{"code":50035,"message":"Invalid Form Body: [^"]+"\} 400$' || fail=1
done



=== TEST 12: 400 for bad fields: usernames, wrong types, privileged_intents outside 33026; nothing is created
--- client
u='username must be a string of 2 to 32 bytes'
bad POST /admin/users '["alice"]' 'not a JSON object'
bad POST /admin/users '{"id":"1091","bot":true}' "$u"
for n in '"a"' '""' '"abcdefghijklmnopqrstuvwxyz0123456"' '"a\u0001b"' '42' 'null'; do
    bad POST /admin/users "{\"id\":\"1091\",\"username\":$n}" "$u"
done
bad POST /admin/users '{"id":"1091","username":"ok","bot":"yes"}' 'bot must be a boolean'
bad POST /admin/users '{"id":"1091","username":"ok","bot":1}' 'bot must be a boolean'
bad POST /admin/users '{"id":"1091","username":"ok","global_name":""}' 'global_name must be a string of 1 to 32 bytes'
bad POST /admin/users '{"id":"1091","username":"ok","global_name":7}' 'global_name must be a string of 1 to 32 bytes'
for p in '1' '33027' '-1' '"2"' '1.5' '65535'; do
    bad POST /admin/users "{\"id\":\"1091\",\"username\":\"ok\",\"privileged_intents\":$p}" \
        'privileged_intents must be a subset of 33026'
done
ck GET /admin/users/1091 '' '{"code":10013,"message":"Unknown User"} 404'



=== TEST 13: 400 for ids that are not snowflakes
--- client
for id in '"0"' '"012"' '"abc"' '"18446744073709551616"' '"99999999999999999999"' '"-1"' '"+1"' \
          '" 1"' '"1 "' '""' '"1e3"' '0' '-5' '1.5' 'true' 'null' '[1]'; do
    bad POST /admin/users "{\"id\":$id,\"username\":\"badid\"}" 'id must be a snowflake'
done



=== TEST 14: the largest snowflake, and a JSON number, are valid ids
--- client
adm -f -d '{"id":"18446744073709551615","username":"max"}' $U/admin/users | grep '^{"id":"18446744073709551615","token":"'
adm -f -d '{"id":1092,"username":"num"}' $U/admin/users | grep '^{"id":"1092","token":"MTA5Mg\.'



=== TEST 15: 404 Unknown User for an unknown id or one that is not a snowflake
--- client
for p in /admin/users/999999 /admin/users/abc /admin/users/0 /admin/users/012; do
    ck GET $p '' '{"code":10013,"message":"Unknown User"} 404'
    ck DELETE $p '' '{"code":10013,"message":"Unknown User"} 404'
done



=== TEST 16: DELETE /admin/users/{id}: 204 without a body; then GET and DELETE are 404
--- client
ck DELETE /admin/users/1002 '' ' 204'
ck GET /admin/users/1002 '' '{"code":10013,"message":"Unknown User"} 404'
ck DELETE /admin/users/1002 '' '{"code":10013,"message":"Unknown User"} 404'



=== TEST 17: PUT /admin/guilds/{id} creates: name, owner, channels, roles after the automatic @everyone
--- request
PUT /admin/guilds/2001
{"name":"Guild One","owner_id":"1001","channels":[{"id":"2002","name":"general","type":0},{"id":"2003","name":"Voice","type":2}],"roles":[{"id":"2010","name":"mod","permissions":"8","color":255,"position":1}]}
--- response_headers
Content-Type: application/json
--- response_body_like: ^\{"id":"2001","name":"Guild One",.*"owner_id":"1001",.*"roles":\[\{"id":"2001","name":"@everyone",[^{}]*"position":0,[^{}]*\},\{"id":"2010","name":"mod","color":255,[^{}]*"position":1,"permissions":"8",[^{}]*\}\],.*"member_count":0,"channels":\[\{"id":"2002","type":0,"guild_id":"2001","name":"general",[^{}]*\},\{"id":"2003","type":2,"guild_id":"2001","name":"Voice",[^{}]*"bitrate":64000,[^{}]*\}\]\}$
--- no_error_log
[error]



=== TEST 18: GET /admin/guilds/{id}: the same guild
--- request
GET /admin/guilds/2001
--- response_body_like: ^\{"id":"2001","name":"Guild One",.*"roles":\[\{"id":"2001","name":"@everyone",[^{}]*\},\{"id":"2010",[^{}]*\}\],.*"member_count":0,"channels":\[\{"id":"2002",[^{}]*\},\{"id":"2003",[^{}]*\}\]\}$



=== TEST 19: PUT a member: 204 without a body
--- request
PUT /admin/guilds/2001/members/1001
{}
--- error_code: 204
--- response_body chomp
--- no_error_log
[error]



=== TEST 20: PUT again replaces name, owner, channels and roles, and keeps the members
--- request
PUT /admin/guilds/2001
{"name":"Guild One bis","channels":[{"id":"2004","name":"other"}]}
--- response_body_like: ^\{"id":"2001","name":"Guild One bis",.*"owner_id":null,.*"roles":\[\{"id":"2001","name":"@everyone",[^{}]*\}\],.*"member_count":1,"channels":\[\{"id":"2004","type":0,"guild_id":"2001","name":"other",[^{}]*\}\]\}$



=== TEST 21: 409 when a channel id belongs to another guild; the channels a PUT dropped are free
--- client
ck PUT /admin/guilds/2101 '{"name":"Guild Two","channels":[{"id":"2004","name":"stolen"}]}' \
    '{"code":0,"message":"a channel id belongs to another guild"} 409'
adm -X PUT -w ' %{http_code}' -d '{"name":"Guild Two","channels":[{"id":"2002","name":"reused"}]}' $U/admin/guilds/2101 \
    | grep -E '^\{"id":"2101","name":"Guild Two",.*"channels":\[\{"id":"2002","type":0,"guild_id":"2101","name":"reused",.*\} 200$' || fail=1



=== TEST 22: 400 for bad guild bodies; nothing is created
--- client
n='name must be a string of 2 to 100 bytes'
c0='channel 0 needs an id, a name of 1 to 100 bytes and a type 0..255'
adm -X PUT -w ' %{http_code}' -d 'name=ok' $U/admin/guilds/2301 \
    | grep -E '^\{"code":50035,"message":"Invalid Form Body: invalid JSON at [0-9]+: [^"]+"\} 400$' || fail=1
bad PUT /admin/guilds/2301 '[]' 'not a JSON object'
bad PUT /admin/guilds/2301 '{}' "$n"
bad PUT /admin/guilds/2301 '{"name":"x"}' "$n"
bad PUT /admin/guilds/2301 '{"name":5}' "$n"
bad PUT /admin/guilds/2301 '{"name":"ok","owner_id":"0"}' 'owner_id must be a snowflake'
bad PUT /admin/guilds/2301 '{"name":"ok","channels":{}}' 'channels must be an array of at most 500'
for c in '{"name":"c"}' '{"id":"012","name":"c"}' '{"id":"2302","name":""}' '"2302"' \
         '{"id":"2302","name":"c","type":256}' '{"id":"2302","name":"c","type":"0"}'; do
    bad PUT /admin/guilds/2301 "{\"name\":\"ok\",\"channels\":[$c]}" "$c0"
done
bad PUT /admin/guilds/2301 '{"name":"ok","channels":[{"id":"2302","name":"c"},{"name":"d"}]}' \
    'channel 1 needs an id, a name of 1 to 100 bytes and a type 0..255'
bad PUT /admin/guilds/2301 '{"name":"ok","roles":{}}' 'roles must be an array of at most 250'
bad PUT /admin/guilds/2301 '{"name":"ok","roles":[{"id":"2303"}]}' 'role 0 needs an id and a name'
bad PUT /admin/guilds/2301 '{"name":"ok","roles":[{"name":"r"}]}' 'role 0 needs an id and a name'
bad PUT /admin/guilds/2301 '{"name":"ok","roles":[{"id":"2303","name":"r","permissions":"abc"}]}' \
    'role 0: permissions must be a decimal string'
bad PUT /admin/guilds/abc '{"name":"ok"}' 'the guild id must be a snowflake'
bad PUT /admin/guilds/0 '{"name":"ok"}' 'the guild id must be a snowflake'
ck GET /admin/guilds/2301 '' '{"code":10004,"message":"Unknown Guild"} 404'



=== TEST 23: DELETE /admin/guilds/{id}: 204, then GET and DELETE are 404 Unknown Guild
--- client
ck DELETE /admin/guilds/2101 '' ' 204'
for p in /admin/guilds/2101 /admin/guilds/999999 /admin/guilds/abc; do
    ck GET $p '' '{"code":10004,"message":"Unknown Guild"} 404'
    ck DELETE $p '' '{"code":10004,"message":"Unknown Guild"} 404'
done



=== TEST 24: members: PUT with nick and roles, PUT without a body, PUT again: 204
--- client
adm -f -X PUT -d '{"name":"Members","channels":[],"roles":[{"id":"2210","name":"crew"}]}' $U/admin/guilds/2201 >/dev/null
ck PUT /admin/guilds/2201/members/1001 '{"nick":"Al","roles":["2210"]}' ' 204'
ck PUT /admin/guilds/2201/members/1003 '' ' 204'
ck PUT /admin/guilds/2201/members/1003 '{}' ' 204'
adm $U/admin/guilds/2201 | grep '"member_count":2,'



=== TEST 25: member PUT/DELETE: 404 for an unknown guild, user, or ids that are not snowflakes
--- client
ck PUT /admin/guilds/999999/members/1001 '{}' '{"code":10004,"message":"Unknown Guild"} 404'
ck DELETE /admin/guilds/999999/members/1001 '' '{"code":10004,"message":"Unknown Guild"} 404'
ck PUT /admin/guilds/2201/members/999999 '{}' '{"code":10013,"message":"Unknown User"} 404'
ck DELETE /admin/guilds/2201/members/999999 '' '{"code":10007,"message":"Unknown Member"} 404'
for p in /admin/guilds/abc/members/1001 /admin/guilds/2201/members/0 /admin/guilds/2201/members/x1; do
    ck PUT $p '{}' '{"code":0,"message":"404: Not Found"} 404'
    ck DELETE $p '' '{"code":0,"message":"404: Not Found"} 404'
done



=== TEST 26: member PUT: 400 for bad nick and roles, and for a role of another guild
--- client
m=/admin/guilds/2201/members/1001
adm -X PUT -w ' %{http_code}' -d 'x' $U$m \
    | grep -E '^\{"code":50035,"message":"Invalid Form Body: invalid JSON at [0-9]+: [^"]+"\} 400$' || fail=1
for n in '""' '"abcdefghijklmnopqrstuvwxyz0123456"' '5'; do
    bad PUT $m "{\"nick\":$n}" 'nick must be a string of 1 to 32 bytes'
done
for r in '"2210"' '["abc"]' '[0]'; do
    bad PUT $m "{\"roles\":$r}" 'roles must be an array of role ids'
done
bad PUT $m '{"roles":["2010"]}' 'role 2010 is not a role of guild 2201'
bad PUT $m '[]' 'not a JSON object'



=== TEST 27: a member PUT refused with 400, or a refused bulk member line, adds no member
--- client
bad PUT /admin/guilds/2201/members/1092 '{"roles":["999"]}' 'role 999 is not a role of guild 2201'
bad PUT /admin/guilds/2201/members/1092 '{"nick":""}' 'nick must be a string of 1 to 32 bytes'
ck DELETE /admin/guilds/2201/members/1092 '' '{"code":10007,"message":"Unknown Member"} 404'
ck POST /admin/bulk '{"op":"member","guild_id":"2201","user_id":"1092","roles":["999"]}' \
    '{"code":50035,"message":"role 999 is not a role of guild 2201"}
 200'
ck DELETE /admin/guilds/2201/members/1092 '' '{"code":10007,"message":"Unknown Member"} 404'



=== TEST 28: member DELETE: 204, then 404 Unknown Member
--- client
ck DELETE /admin/guilds/2201/members/1003 '' ' 204'
ck DELETE /admin/guilds/2201/members/1003 '' '{"code":10007,"message":"Unknown Member"} 404'



=== TEST 29: a user's deletion removes its memberships
--- client
adm -f -d '{"id":"1093","username":"leaver"}' $U/admin/users >/dev/null
adm -f -X PUT -d '{"name":"Left","channels":[]}' $U/admin/guilds/2202 >/dev/null
ck PUT /admin/guilds/2202/members/1001 '' ' 204'
ck PUT /admin/guilds/2202/members/1093 '' ' 204'
adm $U/admin/guilds/2202 | grep -q '"member_count":2,' || { echo 'not 2 members'; fail=1; }
ck DELETE /admin/users/1093 '' ' 204'
adm $U/admin/guilds/2202 | grep -q '"member_count":1,' || { echo 'not 1 member'; fail=1; }



=== TEST 30: a member PUT: GUILD_CREATE to the joiner, GUILD_MEMBER_ADD to GUILD_MEMBERS sessions only
--- ws_script
shell t/bin/gwadmin POST /admin/users '{"id":"3001","username":"ann"}'
shell t/bin/gwadmin POST /admin/users '{"id":"3002","username":"ben"}'
shell t/bin/gwadmin POST /admin/users '{"id":"3003","username":"cat"}'
shell t/bin/gwadmin POST /admin/users '{"id":"3004","username":"dan"}'
shell t/bin/gwadmin PUT /admin/guilds/3100 '{"name":"Events","channels":[{"id":"3101","name":"general"}],"roles":[{"id":"3110","name":"crew"}]}'
shell t/bin/gwadmin PUT /admin/guilds/3100/members/3002 '{}'
shell t/bin/gwadmin PUT /admin/guilds/3100/members/3003 '{}'
open a /gateway?v=10&encoding=json
a< json {"op":10}
a> json {"op":2,"d":{"token":"@token(3001)@","intents":1}}
a< json {"op":0,"t":"READY","s":1,"d":{"user":{"id":"3001"},"guilds":[]}}
open b /gateway?v=10&encoding=json
b< json {"op":10}
b> json {"op":2,"d":{"token":"@token(3002)@","intents":3}}
b< json {"op":0,"t":"READY","s":1,"d":{"guilds":[{"id":"3100","unavailable":true}]}}
b< json {"op":0,"t":"GUILD_CREATE","s":2,"d":{"id":"3100"}}
open c /gateway?v=10&encoding=json
c< json {"op":10}
c> json {"op":2,"d":{"token":"@token(3003)@","intents":1}}
c< json {"op":0,"t":"READY","s":1}
c< json {"op":0,"t":"GUILD_CREATE","s":2,"d":{"id":"3100"}}
open d /gateway?v=10&encoding=json
d< json {"op":10}
d> json {"op":2,"d":{"token":"@token(3004)@","intents":3}}
d< json {"op":0,"t":"READY","s":1,"d":{"guilds":[]}}
shell t/bin/gwadmin PUT /admin/guilds/3100/members/3001 '{"nick":"Annie","roles":["3110"]}'
a< json {"op":0,"t":"GUILD_CREATE","s":2,"d":{"id":"3100","name":"Events","member_count":3,"channels":[{"id":"3101"}],"members":[{"user":{"id":"3001","username":"ann"},"nick":"Annie","roles":["3110"]}]}}
b< json {"op":0,"t":"GUILD_MEMBER_ADD","s":3,"d":{"guild_id":"3100","user":{"id":"3001","username":"ann"},"nick":"Annie","roles":["3110"]}}
c< nothing 0.5
d< nothing 0.1
a< nothing 0.1
--- no_error_log
[error]



=== TEST 31: a member DELETE: GUILD_DELETE to the member, GUILD_MEMBER_REMOVE to GUILD_MEMBERS sessions only
--- ws_script
open a /gateway?v=10&encoding=json
a< json {"op":10}
a> json {"op":2,"d":{"token":"@token(3001)@","intents":1}}
a< json {"op":0,"t":"READY","s":1,"d":{"guilds":[{"id":"3100"}]}}
a< json {"op":0,"t":"GUILD_CREATE","s":2}
open b /gateway?v=10&encoding=json
b< json {"op":10}
b> json {"op":2,"d":{"token":"@token(3002)@","intents":3}}
b< json {"op":0,"t":"READY","s":1}
b< json {"op":0,"t":"GUILD_CREATE","s":2}
open c /gateway?v=10&encoding=json
c< json {"op":10}
c> json {"op":2,"d":{"token":"@token(3003)@","intents":1}}
c< json {"op":0,"t":"READY","s":1}
c< json {"op":0,"t":"GUILD_CREATE","s":2}
shell t/bin/gwadmin DELETE /admin/guilds/3100/members/3001
a< text /^\{"op":0,"s":3,"t":"GUILD_DELETE","d":\{"id":"3100"\}\}$/
b< json {"op":0,"t":"GUILD_MEMBER_REMOVE","s":3,"d":{"guild_id":"3100","user":{"id":"3001","username":"ann"}}}
c< nothing 0.5
--- no_error_log
[error]



=== TEST 32: a guild DELETE: GUILD_DELETE to every member session, nothing to others
--- ws_script
shell t/bin/gwadmin PUT /admin/guilds/3200 '{"name":"Doomed","channels":[{"id":"3201","name":"general"}]}'
shell t/bin/gwadmin PUT /admin/guilds/3200/members/3002 '{}'
shell t/bin/gwadmin PUT /admin/guilds/3200/members/3003 '{}'
open b /gateway?v=10&encoding=json
b< json {"op":10}
b> json {"op":2,"d":{"token":"@token(3002)@","intents":3}}
b< json {"op":0,"t":"READY","s":1,"d":{"guilds":[{"id":"3100"},{"id":"3200"}]}}
b< json {"op":0,"t":"GUILD_CREATE","s":2}
b< json {"op":0,"t":"GUILD_CREATE","s":3}
open c /gateway?v=10&encoding=json
c< json {"op":10}
c> json {"op":2,"d":{"token":"@token(3003)@","intents":1}}
c< json {"op":0,"t":"READY","s":1}
c< json {"op":0,"t":"GUILD_CREATE","s":2}
c< json {"op":0,"t":"GUILD_CREATE","s":3}
open a /gateway?v=10&encoding=json
a< json {"op":10}
a> json {"op":2,"d":{"token":"@token(3001)@","intents":3}}
a< json {"op":0,"t":"READY","s":1,"d":{"guilds":[]}}
shell t/bin/gwadmin DELETE /admin/guilds/3200
b< json {"op":0,"t":"GUILD_DELETE","s":4,"d":{"id":"3200"}}
c< json {"op":0,"t":"GUILD_DELETE","s":4,"d":{"id":"3200"}}
a< nothing 0.5
b< nothing 0.1
--- no_error_log
[error]



=== TEST 33: DELETE of a connected user closes its socket with 4004 (GUILD_MEMBER_REMOVE to the others); its token then fails with 4004
--- ws_script
shell t/bin/gwadmin POST /admin/users '{"id":"3005","username":"eve"}'
shell t/bin/gwadmin PUT /admin/guilds/3100/members/3005 '{}'
open w /gateway?v=10&encoding=json
w< json {"op":10}
w> json {"op":2,"d":{"token":"@token(3002)@","intents":3}}
w< json {"op":0,"t":"READY","s":1}
w< json {"op":0,"t":"GUILD_CREATE","s":2}
open e /gateway?v=10&encoding=json
e< json {"op":10}
e> json {"op":2,"d":{"token":"@token(3005)@","intents":1}}
e< json {"op":0,"t":"READY","s":1}
e< json {"op":0,"t":"GUILD_CREATE","s":2}
shell t/bin/gwadmin DELETE /admin/users/3005
e< close 4004
e< eof
w< json {"op":0,"t":"GUILD_MEMBER_REMOVE","s":3,"d":{"guild_id":"3100","user":{"id":"3005"}}}
open f /gateway?v=10&encoding=json
f< json {"op":10}
f> json {"op":2,"d":{"token":"@token(3005)@","intents":1}}
f< close 4004
f< eof
shell t/bin/gwadmin GET /admin/guilds/3100 | grep -q '"member_count":2,'



=== TEST 34: privileged_intents limits what the user may identify with (default: all, 33026)
--- ws_script
shell t/bin/gwadmin POST /admin/users '{"id":"3006","username":"nopriv","privileged_intents":0}'
shell t/bin/gwadmin POST /admin/users '{"id":"3007","username":"members","privileged_intents":2}'
open a /gateway?v=10&encoding=json
a< json {"op":10}
a> json {"op":2,"d":{"token":"@token(3006)@","intents":2}}
a< close 4014
open b /gateway?v=10&encoding=json
b< json {"op":10}
b> json {"op":2,"d":{"token":"@token(3007)@","intents":3}}
b< json {"op":0,"t":"READY","s":1}
open c /gateway?v=10&encoding=json
c< json {"op":10}
c> json {"op":2,"d":{"token":"@token(3007)@","intents":257}}
c< close 4014
open d /gateway?v=10&encoding=json
d< json {"op":10}
d> json {"op":2,"d":{"token":"@token(3002)@","intents":33027}}
d< json {"op":0,"t":"READY","s":1}



=== TEST 35: dispatch: MESSAGE_CREATE only to GUILD_MESSAGES sessions, a custom event to all, each with the next seq
--- ws_script
open b /gateway?v=10&encoding=json
b< json {"op":10}
b> json {"op":2,"d":{"token":"@token(3002)@","intents":513}}
b< json {"op":0,"t":"READY","s":1,"d":{"guilds":[{"id":"3100"}]}}
b< json {"op":0,"t":"GUILD_CREATE","s":2}
open c /gateway?v=10&encoding=json
c< json {"op":10}
c> json {"op":2,"d":{"token":"@token(3003)@","intents":1}}
c< json {"op":0,"t":"READY","s":1}
c< json {"op":0,"t":"GUILD_CREATE","s":2}
open d /gateway?v=10&encoding=json
d< json {"op":10}
d> json {"op":2,"d":{"token":"@token(3004)@","intents":513}}
d< json {"op":0,"t":"READY","s":1,"d":{"guilds":[]}}
shell t/bin/gwadmin POST /admin/guilds/3100/dispatch '{"t":"MESSAGE_CREATE","d":{"id":"3150","channel_id":"3101","content":"hi"}}'
b< json {"op":0,"t":"MESSAGE_CREATE","s":3,"d":{"id":"3150","channel_id":"3101","content":"hi"}}
c< nothing 0.3
shell t/bin/gwadmin POST /admin/guilds/3100/dispatch '{"t":"CUSTOM_EVENT_2","d":[1,"x",null]}'
b< json {"op":0,"t":"CUSTOM_EVENT_2","s":4,"d":[1,"x",null]}
c< json {"op":0,"t":"CUSTOM_EVENT_2","s":3,"d":[1,"x",null]}
d< nothing 0.3
--- no_error_log
[error]



=== TEST 36: dispatch: 202 without a body; 400 for bad names and bodies, 404 for an unknown guild
--- client
t64=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
for b in '{"d":{}}' '{"t":"X"}' '{"t":"","d":{}}' '{"t":5,"d":{}}' "{\"t\":\"${t64}A\",\"d\":{}}"; do
    bad POST /admin/guilds/3100/dispatch "$b" '\"t\" (an event name) and \"d\" are required'
done
for t in message_create A-B 'A B' 'É'; do
    bad POST /admin/guilds/3100/dispatch "{\"t\":\"$t\",\"d\":{}}" 'invalid event name'
done
bad POST /admin/guilds/3100/dispatch '[]' 'not a JSON object'
ck POST /admin/guilds/999999/dispatch '{"t":"X","d":{}}' '{"code":10004,"message":"Unknown Guild"} 404'
ck POST /admin/guilds/abc/dispatch '{"t":"X","d":{}}' '{"code":10004,"message":"Unknown Guild"} 404'
ck POST /admin/guilds/3100/dispatch '{"t":"TYPING_START","d":{"channel_id":"3101","user_id":"3002"}}' ' 202'
ck POST /admin/guilds/3100/dispatch "{\"t\":\"$t64\",\"d\":null}" ' 202'



=== TEST 37: bulk: NDJSON out, one line per operation in order; bad lines fail alone
--- request
POST /admin/bulk
{"op":"user","id":"4001","username":"bulk1","bot":true}
{"op":"user","id":"4001","username":"bulk1"}
{"op":"user","username":"bulk2","global_name":"Two"}

{"op":"guild","id":"4100","name":"Bulk guild","owner_id":"4001","channels":[{"id":"4101","name":"general","type":0},{"id":"4102","name":"Voice","type":2}]}
{"op":"member","guild_id":"4100","user_id":"4001"}
not json
{"op":"nope"}
{"username":"noop"}
{"op":"user","username":"x"}
{"op":"member","guild_id":"4100","user_id":"999999"}
{"op":"member","guild_id":"999999","user_id":"4001"}
{"op":"member","guild_id":"0","user_id":"4001"}
{"op":"guild","id":"4200","name":"Thief","channels":[{"id":"4101","name":"stolen"}]}
{"op":"guild","name":"No id"}
{"op":"user","id":"4002","username":"bulk3","privileged_intents":0}
--- more_headers
Content-Type: application/x-ndjson
--- response_headers
Content-Type: application/x-ndjson
--- response_body_like
^\{"id":"4001","token":"NDAwMQ\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}"\}
\{"code":50035,"message":"user (4001 )?exists"\}
\{"id":"[1-9][0-9]+","token":"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}"\}
\{"id":"4100"\}
\{"guild_id":"4100","user_id":"4001"\}
\{"code":50035,"message":"invalid JSON at \d+: [^"]*"\}
\{"code":50035,"message":"\\"op\\" must be user, guild or member"\}
\{"code":50035,"message":"\\"op\\" must be user, guild or member"\}
\{"code":50035,"message":"username must be a string of 2 to 32 bytes"\}
\{"code":50035,"message":"Unknown User"\}
\{"code":50035,"message":"Unknown Guild"\}
\{"code":50035,"message":"guild_id and user_id must be snowflakes"\}
\{"code":50035,"message":"a channel id belongs to another guild"\}
\{"code":50035,"message":"id must be a snowflake"\}
\{"id":"4002","token":"NDAwMg\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}"\}
$
--- no_error_log
[error]



=== TEST 38: bulk: what the good lines did is there (users, guild with its channels, member)
--- client
adm $U/admin/users/4001 | grep -F '"username":"bulk1","discriminator":"0","global_name":null,"avatar":null,"bot":true' || fail=1
adm $U/admin/guilds/4100 | grep -E '^\{"id":"4100","name":"Bulk guild",.*"owner_id":"4001",.*"member_count":1,"channels":\[\{"id":"4101",.*\{"id":"4102","type":2,' || fail=1
ck GET /admin/guilds/4200 '' '{"code":10004,"message":"Unknown Guild"} 404'



=== TEST 39: bulk: CRLF line ends are accepted, and the last line needs no newline
--- client
printf '{"op":"user","id":"4003","username":"crlf"}\r\n{"op":"member","guild_id":"4100","user_id":"4003"}' \
    | adm -f -H 'Content-Type: application/x-ndjson' --data-binary @- $U/admin/bulk > $TEST_NGINX_SERVROOT/bulk.out
cat $TEST_NGINX_SERVROOT/bulk.out
[ "$(wc -l < $TEST_NGINX_SERVROOT/bulk.out)" = 2 ] || fail=1
sed -n 2p $TEST_NGINX_SERVROOT/bulk.out | grep -Fx '{"guild_id":"4100","user_id":"4003"}' || fail=1



=== TEST 40: bulk members join without events; the next dispatch takes the next seq
--- ws_script
open a /gateway?v=10&encoding=json
a< json {"op":10}
a> json {"op":2,"d":{"token":"@token(4001)@","intents":3}}
a< json {"op":0,"t":"READY","s":1,"d":{"guilds":[{"id":"4100"}]}}
a< json {"op":0,"t":"GUILD_CREATE","s":2,"d":{"id":"4100"}}
open b /gateway?v=10&encoding=json
b< json {"op":10}
b> json {"op":2,"d":{"token":"@token(4002)@","intents":1}}
b< json {"op":0,"t":"READY","s":1,"d":{"guilds":[]}}
shell printf '{"op":"member","guild_id":"4100","user_id":"4002"}\n' | curl -fsS -H 'Authorization: Admin t-admin-secret' --data-binary @- http://127.0.0.1:$TEST_NGINX_PORT/admin/bulk
a< nothing 0.5
b< nothing 0.1
shell t/bin/gwadmin POST /admin/guilds/4100/dispatch '{"t":"AFTER_BULK","d":{}}'
a< json {"op":0,"t":"AFTER_BULK","s":3}
b< json {"op":0,"t":"AFTER_BULK","s":2}



=== TEST 41: 413 in Discord's shape for a body over client_max_body_size
--- request eval
"POST /admin/bulk\n" . ('{"op":"user","username":"big"}' . "\n") x 3000
--- error_code: 413
--- response_headers
Content-Type: application/json
--- response_body: {"code":40005,"message":"Request entity too large"}



=== TEST 42: 413 in Discord's shape from the module for a chunked body over the limit
--- raw_request eval
"POST /admin/users HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
. "Authorization: Admin t-admin-secret\r\nTransfer-Encoding: chunked\r\n\r\n"
. sprintf("%x\r\n%s\r\n0\r\n\r\n", 2000, '{"username":"' . ('x' x 1985) . '"}')
--- error_code: 413
--- response_headers
Content-Type: application/json
--- response_body: {"code":40005,"message":"Request entity too large"}
--- error_log
gateway API: 413 Request entity too large



=== TEST 43: GET /admin/status: node, pid, workers, sessions, counts, shards, zone; no session_list
--- request
GET /admin/status
--- response_headers
Content-Type: application/json
--- response_body_like: ^\{"node":"1","pid":[1-9]\d*,"mode":"embedded","workers":\[\{"slot":0,"pid":[1-9]\d*,"sessions":\d+\},\{"slot":1,"pid":[1-9]\d*,"sessions":\d+\}\],"sessions":\{"attached":\d+,"detached":\d+\},"users":\d+,"guilds":\d+,"members":\d+,"shards":\[[^\]]*\],"zone":\{"name":"gateway","size":16777216,"used":[1-9]\d*\}\}$
--- no_error_log
[error]



=== TEST 44: ?sessions=1 lists identified sessions (id, user, pid, shard, seq, attached)
--- ws_script
shell t/bin/gwadmin POST /admin/users '{"id":"5001","username":"listed"}'
open a /gateway?v=10&encoding=json
a< json {"op":10}
a> json {"op":2,"d":{"token":"@token(5001)@","intents":1,"shard":[0,1]}}
a< json_save ready {"op":0,"t":"READY","s":1}
shell t/bin/gwadmin GET '/admin/status?sessions=1' | grep -q '"session_list":\[.*{"session_id":"${ready.d.session_id}","user_id":"5001","pid":[1-9][0-9]*,"shard":\[0,1\],"seq":1,"attached":true}'
shell t/bin/gwadmin GET '/admin/status?sessions=1' | grep -Eq '"sessions":\{"attached":[1-9][0-9]*,'
shell t/bin/gwadmin GET '/admin/status?sessions=0' | grep -vq session_list



=== TEST 45: shard moves are for clusters: 409 in embedded mode, 405 for other methods
--- client
adm -w ' %{http_code}' -d '{"to":"2"}' $U/admin/shards/0/move | grep -Ex '\{"code":0,"message":"[^"]*embedded mode[^"]*"\} 409' || fail=1
ck GET /admin/shards/0/move '' '{"code":0,"message":"405: Method Not Allowed"} 405'



=== TEST 46: 405 for a wrong method on every route
--- client
for r in 'GET /admin/users' 'PUT /admin/users' 'DELETE /admin/users' 'PUT /admin/users/1001' \
         'POST /admin/users/1001' 'POST /admin/guilds/2001' 'PATCH /admin/guilds/2001' \
         'GET /admin/guilds/2001/members/1001' 'POST /admin/guilds/2001/members/1001' \
         'GET /admin/guilds/2001/dispatch' 'PUT /admin/guilds/2001/dispatch' \
         'GET /admin/bulk' 'PUT /admin/bulk' 'POST /admin/status' 'DELETE /admin/status' \
         'PUT /admin/shards/0/move'; do
    ck $r '' '{"code":0,"message":"405: Method Not Allowed"} 405'
done



=== TEST 47: 404 for unknown routes
--- client
for p in /admin/ /admin/nope /admin/guilds /admin/users/1001/x /admin/guilds/2001/x \
         /admin/guilds/2001/members /admin/guilds/2001/members/1001/x /admin/shards/0 \
         /admin/shards/0/stay /admin/bulk/x /admin/status/x /admin/Users; do
    ck GET $p '' '{"code":0,"message":"404: Not Found"} 404'
done
