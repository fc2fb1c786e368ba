# gwctl (tools/gwctl/README.md, docs/API.md "gwctl") against a real node:
# the node and gwctl share a run directory's admin.secret and token.secret
# (gateway_*_secret_file), as two processes of one deployment do.  gwctl's
# own behaviour is tested against a mock in tools/gwctl/test; here it is the
# integration: what gwctl does, the node has, and the tokens it prints or
# mints offline are accepted.  One configuration for every block, so the
# zone persists: ids 7xxx are made by earlier blocks, 8000000.. by seed.
use lib 't/lib';
use Test::Gateway;
use Test::Gateway::Fixture;

workers(2);
gateway_fixture();
add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(user_files => <<'FILES');
>>> run/admin.secret
g058-admin-secret
>>> run/token.secret
t-token-secret
FILES
    $block->set_value(http_config => <<'CONF');
gateway_zone zone=gateway:64m;
gateway_token_secret_file $TEST_NGINX_SERVROOT/html/run/token.secret;
gateway_admin_secret_file $TEST_NGINX_SERVROOT/html/run/admin.secret;
gateway_identify_interval 0;
CONF
    $block->set_value(config => <<'CONF');
location = /gateway { gateway; }
location /api/ { gateway_rest; }
location /admin/ { gateway_admin; client_max_body_size 64m; }
CONF
    # every client starts with: g (gwctl on the node), me TOKEN (users/@me)
    if (defined $block->client) {
        $block->set_value(client => <<'SH' . $block->client);
R=$TEST_NGINX_SERVROOT/html/run
U=http://127.0.0.1:$TEST_NGINX_PORT
g() { build/bin/gwctl --url $U --run-dir $R "$@"; }
me() { curl -fsS -H "Authorization: Bot $1" $U/api/v10/users/@me; }
SH
    }
});
run_tests();

__DATA__

=== TEST 1: status: the node's status as JSON, with the secret from RUN_DIR/admin.secret
--- client
g status > $R/status.out
cat $R/status.out
grep -q '"mode": *"embedded"' $R/status.out && grep -q '"workers"' $R/status.out
--- no_error_log
[error]



=== TEST 2: defaults: --url from $PORT, the secrets from $RUN_DIR
--- client
PORT=$TEST_NGINX_PORT RUN_DIR=$R build/bin/gwctl status | grep -q '"node": *"1"'



=== TEST 3: user add NAME --bot --id ID prints "ID TOKEN"; the token is accepted by the node
--- client
out=$(g user add alice --bot --id 7001) || exit 1
echo "$out"
echo "$out" | grep -Ex '7001 NzAwMQ\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}' || exit 1
me "${out#* }" | grep -F '{"id":"7001","username":"alice","discriminator":"0","global_name":null,"avatar":null,"bot":true,'
--- no_error_log
[error]



=== TEST 4: user add without --id: a new id, not a bot, and its token
--- client
out=$(g user add bobby) || exit 1
id=${out%% *}
echo "$out" | grep -Ex '[1-9][0-9]{15,19} [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}' || exit 1
me "${out#* }" | grep -F "{\"id\":\"$id\",\"username\":\"bobby\",\"discriminator\":\"0\",\"global_name\":null,\"avatar\":null,\"bot\":false,"



=== TEST 5: user add of a taken id: exit 1, the 409 and Discord's error on stderr
--- client
g user add again --id 7001 > $R/o5 2> $R/e5
st=$?
cat $R/o5 $R/e5
[ $st = 1 ] && [ ! -s $R/o5 ] && grep -q '409' $R/e5 && grep -q '{"code":0,"message":"[^"]*exists"}' $R/e5



=== TEST 6: user del: exit 0, the user is gone; again: exit 1 with Unknown User
--- client
g user add temp --id 7002 >/dev/null || exit 1
g user del 7002 || exit 1
GW_ADMIN_SECRET=g058-admin-secret t/bin/gwadmin GET /admin/users/7002 && exit 1
g user del 7002 2> $R/e6
st=$?
cat $R/e6
[ $st = 1 ] && grep -q '404' $R/e6 && grep -qF '{"code":10013,"message":"Unknown User"}' $R/e6



=== TEST 7: guild put with an owner and channels (text, voice, a name with a colon)
--- client
g guild put 7100 'Gwctl guild' --owner 7001 --channel 7101:general:0 --channel 7102:Voice:2 \
    --channel 7103:a:b:0 > $R/o7 || exit 1
grep -q '"id": *"7100"' $R/o7 || { cat $R/o7; exit 1; }
GW_ADMIN_SECRET=g058-admin-secret t/bin/gwadmin GET /admin/guilds/7100 > $R/g7
cat $R/g7
grep -E '^\{"id":"7100","name":"Gwctl guild",.*"owner_id":"7001",.*"channels":\[\{"id":"7101","type":0,"guild_id":"7100","name":"general",[^{}]*\},\{"id":"7102","type":2,"guild_id":"7100","name":"Voice",[^{}]*\},\{"id":"7103","type":0,"guild_id":"7100","name":"a:b",[^{}]*\}\]\}$' $R/g7



=== TEST 8: member add: the member's live session gets GUILD_CREATE; member del: GUILD_DELETE
--- ws_script
open a /gateway?v=10&encoding=json
a< json {"op":10}
a> json {"op":2,"d":{"token":"@token(7001)@","intents":1}}
a< json {"op":0,"t":"READY","s":1,"d":{"user":{"id":"7001"},"guilds":[]}}
shell build/bin/gwctl --url http://127.0.0.1:$TEST_NGINX_PORT --run-dir $TEST_NGINX_SERVROOT/html/run member add 7100 7001
a< json {"op":0,"t":"GUILD_CREATE","s":2,"d":{"id":"7100","name":"Gwctl guild","member_count":1}}
shell build/bin/gwctl --url http://127.0.0.1:$TEST_NGINX_PORT --run-dir $TEST_NGINX_SERVROOT/html/run dispatch 7100 HELLO_GWCTL '{"x":1}'
a< json {"op":0,"t":"HELLO_GWCTL","s":3,"d":{"x":1}}
shell build/bin/gwctl --url http://127.0.0.1:$TEST_NGINX_PORT --run-dir $TEST_NGINX_SERVROOT/html/run member del 7100 7001
a< json {"op":0,"t":"GUILD_DELETE","s":4,"d":{"id":"7100"}}
--- no_error_log
[error]



=== TEST 9: member add / del print nothing; the membership shows on REST
--- client
t=$(g token 7001) || exit 1
gs() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bot $t" $U/api/v10/guilds/7100; }
[ "$(gs)" = 403 ] || { echo 'a member before member add'; exit 1; }
[ -z "$(g member add 7100 7001)" ] || exit 1
[ "$(gs)" = 200 ] || { echo 'not a member after member add'; exit 1; }
[ -z "$(g member del 7100 7001)" ] || exit 1
[ "$(gs)" = 403 ] || { echo 'still a member after member del'; exit 1; }



=== TEST 10: token USER_ID is minted offline from RUN_DIR/token.secret: the format, REST and the gateway accept it
--- client
t=$(build/bin/gwctl --url http://127.0.0.1:$TEST_NGINX_BACKEND_PORT --run-dir $R token 7001) || exit 1
echo "$t"
[ "$(g token 7001 --issued-at 1700000000)" = "$(perl -It/lib -MTest::Gateway::Fixture -e 'print gateway_token(7001)')" ] \
    || { echo 'not the token of docs/API.md'; exit 1; }
me "$t" | grep -q '^{"id":"7001",' || exit 1
perl -It/lib -MTest::Gateway::WSScript -e '
    my ($ok, $diag) = Test::Gateway::WSScript->new(port => $ENV{TEST_NGINX_PORT}, timeout => 10)->run(
        qq{open /gateway?v=10\n< json {"op":10}\n}
      . qq{> json {"op":2,"d":{"token":"$ARGV[0]","intents":1}}\n}
      . qq{< json {"op":0,"t":"READY","s":1,"d":{"user":{"id":"7001","username":"alice"}}}\n});
    print $diag; exit !$ok;' "$t"



=== TEST 11: an offline token of a user the node does not have is refused (401)
--- client
t=$(g token 7999) || exit 1
got=$(curl -s -w ' %{http_code}' -H "Authorization: Bot $t" $U/api/v10/users/@me)
[ "$got" = '{"code":0,"message":"401: Unauthorized"} 401' ] || { echo "$got"; exit 1; }



=== TEST 12: seed 2000 users, 20 guilds of 500: one valid token a line, in user order
--- client
g seed --users 2000 --guilds 20 --members 500 --id-base 8000000 --out $R/tokens.txt || exit 1
[ "$(wc -l < $R/tokens.txt)" = 2000 ] || { echo "$(wc -l < $R/tokens.txt) lines"; exit 1; }
perl -MDigest::SHA=hmac_sha256 -MMIME::Base64=encode_base64url,decode_base64url -ne '
    chomp; my ($u, $t, $mac) = split /\./;
    my $want = 8000000 + $. - 1;
    decode_base64url($u) eq $want or die "line $.: names " . decode_base64url($u) . ", not $want\n";
    $mac eq encode_base64url(hmac_sha256("$u.$t", "t-token-secret")) or die "line $.: bad MAC\n";
    END { print "$. tokens ok\n" }' $R/tokens.txt || exit 1
for n in 1 2 1000 1999 2000; do
    me "$(sed -n ${n}p $R/tokens.txt)" | grep -F "{\"id\":\"$((8000000 + n - 1))\",\"username\":\"load-$((n - 1))\"," \
        || { echo "token $n"; exit 1; }
done
--- client_timeout: 120
--- no_error_log
[error]



=== TEST 13: seed: guilds with a text and a voice channel, 500 members, owned by their first member
--- client
a() { GW_ADMIN_SECRET=g058-admin-secret t/bin/gwadmin GET $1; }
a /admin/guilds/8002000 | grep -E '^\{"id":"8002000","name":"load-guild-0",.*"owner_id":"8000000",.*"member_count":500,"channels":\[\{"id":"8002020","type":0,"guild_id":"8002000","name":"general",[^{}]*\},\{"id":"8002021","type":2,"guild_id":"8002000","name":"Voice",' || exit 1
a /admin/guilds/8002019 | grep -E '^\{"id":"8002019","name":"load-guild-19",.*"owner_id":"8001500",.*"member_count":500,"channels":\[\{"id":"8002058",[^{}]*\},\{"id":"8002059",' || exit 1
a /admin/guilds/8002020 && exit 1
exit 0



=== TEST 14: seed: guild g has users (g*K + i) mod N: checked on REST with the tokens
--- client
gs() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bot $(sed -n ${1}p $R/tokens.txt)" $U/api/v10/guilds/$2; }
[ "$(gs 1501 8002019)" = 200 ] && [ "$(gs 2000 8002019)" = 200 ] && [ "$(gs 1500 8002019)" = 403 ] \
    && [ "$(gs 1 8002000)" = 200 ] && [ "$(gs 500 8002000)" = 200 ] && [ "$(gs 501 8002000)" = 403 ] \
    && [ "$(gs 1 8002016)" = 200 ] && [ "$(gs 1 8002001)" = 403 ]



=== TEST 15: seed: a user of 5 guilds (20*500/2000) identifies with its token: READY and 5 GUILD_CREATE
--- client
perl -It/lib -MTest::Gateway::WSScript -e '
    my $g = join ",", map { qq({"id":"$_","unavailable":true}) } 8002000, 8002004, 8002008, 8002012, 8002016;
    my $s = qq{open /gateway?v=10\n< json {"op":10}\n}
          . qq{> json {"op":2,"d":{"token":"$ARGV[0]","intents":1}}\n}
          . qq{< json {"op":0,"t":"READY","s":1,"d":{"user":{"id":"8000001","bot":true},"guilds":[$g]}}\n};
    $s .= qq{< json {"op":0,"t":"GUILD_CREATE","s":$_}\n} for 2 .. 6;
    my ($ok, $diag) = Test::Gateway::WSScript->new(port => $ENV{TEST_NGINX_PORT}, timeout => 10)->run($s);
    print $diag; exit !$ok;' "$(sed -n 2p $R/tokens.txt)"



=== TEST 16: seed again with the same --id-base: exit 0, the same users, tokens that still work
--- client
g seed --users 2000 --guilds 20 --members 500 --id-base 8000000 --out $R/tokens2.txt --quiet || exit 1
[ "$(wc -l < $R/tokens2.txt)" = 2000 ] || exit 1
me "$(sed -n 2000p $R/tokens2.txt)" | grep -q '^{"id":"8001999",' || exit 1
GW_ADMIN_SECRET=g058-admin-secret t/bin/gwadmin GET /admin/guilds/8002000 | grep -q '"member_count":500,'
--- client_timeout: 120



=== TEST 17: status --sessions lists a connected session
--- ws_script
open a /gateway?v=10&encoding=json
a< json {"op":10}
a> json {"op":2,"d":{"token":"@token(7001)@","intents":1}}
a< json_save ready {"op":0,"t":"READY","s":1}
shell build/bin/gwctl --url http://127.0.0.1:$TEST_NGINX_PORT --run-dir $TEST_NGINX_SERVROOT/html/run status --sessions | tr -d ' \n' | grep -q '{"session_id":"${ready.d.session_id}","user_id":"7001",'



=== TEST 18: an unknown guild: exit 1, the status and Discord's error on stderr, nothing on stdout
--- client
g member add 999999 7001 > $R/o18 2> $R/e18
st=$?
cat $R/o18 $R/e18
[ $st = 1 ] && [ ! -s $R/o18 ] && grep -q '404' $R/e18 && grep -qF '{"code":10004,"message":"Unknown Guild"}' $R/e18



=== TEST 19: an unknown user: exit 1 with Unknown User
--- client
g member add 7100 999999 2> $R/e19
st=$?
cat $R/e19
[ $st = 1 ] && grep -qF '{"code":10013,"message":"Unknown User"}' $R/e19



=== TEST 20: a wrong admin secret: exit 1 with the node's 401
--- client
g --secret wrong-secret status 2> $R/e20
st=$?
cat $R/e20
[ $st = 1 ] && grep -q '401' $R/e20 && grep -qF '{"code":0,"message":"401: Unauthorized"}' $R/e20



=== TEST 21: --secret instead of RUN_DIR/admin.secret
--- client
build/bin/gwctl --url $U --run-dir $R/nowhere --secret g058-admin-secret status | grep -q '"mode": *"embedded"'



=== TEST 22: no node at the URL, or no secret file: exit 1
--- client
build/bin/gwctl --url http://127.0.0.1:$TEST_NGINX_BACKEND_PORT --run-dir $R --timeout 5 status
[ $? = 1 ] || exit 1
build/bin/gwctl --url $U --run-dir $R/nowhere status
[ $? = 1 ] || exit 1
build/bin/gwctl --run-dir $R/nowhere token 7001
[ $? = 1 ]



=== TEST 23: usage errors: exit 2, and no request reaches the node
--- client
fail=0
n0=$(wc -l < $TEST_NGINX_SERVROOT/logs/access.log)
for args in '' 'frobnicate' 'user' 'user add' 'user add x --id 012' 'user add x --id 0' 'user del abc' \
            'member add 7100' 'member add 7100 7001 extra' 'guild put 7200' 'guild put x name' \
            'guild put 7200 name --channel nope' 'seed' 'seed --users x' 'token' 'status --bogus'; do
    g $args > /dev/null 2>&1
    st=$?
    [ $st = 2 ] || { echo "gwctl $args: exit $st"; fail=1; }
done
[ "$(wc -l < $TEST_NGINX_SERVROOT/logs/access.log)" = "$n0" ] || { echo 'a request was made'; fail=1; }
exit $fail
