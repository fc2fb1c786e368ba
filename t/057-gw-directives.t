# The gateway's directives: what each refuses at nginx -t, with the
# message; their effects are tested beside the behaviour they change
# (t/050-053).
use lib 't/lib';
use Test::Gateway;

run_tests();

__DATA__

=== TEST 1: "gateway" needs a zone
--- http_config
gateway_token_secret s;
--- config
location = /gateway { gateway; }
--- must_die
--- error_log
"gateway_zone" is required by "gateway"



=== TEST 2: "gateway" needs a token secret
--- http_config
gateway_zone zone=gateway:2m;
--- config
location = /gateway { gateway; }
--- must_die
--- error_log
"gateway_token_secret" or "gateway_token_secret_file" is required



=== TEST 3: "gateway_admin" needs an admin secret
--- http_config
gateway_zone zone=gateway:2m;
gateway_token_secret s;
--- config
location /admin/ { gateway_admin; }
--- must_die
--- error_log
"gateway_admin_secret" or "gateway_admin_secret_file" is required by "gateway_admin"



=== TEST 4: a zone without a size, with an empty name, too small, twice
--- http_config
gateway_zone zone=gateway;
--- must_die
--- error_log
invalid zone size in "zone=gateway"



=== TEST 5: an empty zone name
--- http_config
gateway_zone zone=:2m;
--- must_die
--- error_log
invalid zone name in "zone=:2m"



=== TEST 6: a zone below 1m
--- http_config
gateway_zone zone=gateway:512k;
--- must_die
--- error_log
zone "gateway" is too small: at least 1m is needed



=== TEST 7: two zones
--- http_config
gateway_zone zone=a:2m;
gateway_zone zone=b:2m;
--- must_die
--- error_log
"gateway_zone" directive is duplicate



=== TEST 8: a parameter that is not zone=
--- http_config
gateway_zone size=2m;
--- must_die
--- error_log
invalid parameter "size=2m", expected "zone=name:size"



=== TEST 9: zombie factors outside 1.1..10
--- config
location = /gateway { gateway_zombie_factor 1.0; }
--- must_die
--- error_log
invalid zombie factor "1.0", expected 1.1 to 10.0



=== TEST 10: a zombie factor that is not a number
--- config
location = /gateway { gateway_zombie_factor fast; }
--- must_die
--- error_log
invalid zombie factor "fast"



=== TEST 11: a rate limit of 0 payloads
--- config
location = /gateway { gateway_rate_limit 0 60s; }
--- must_die
--- error_log
invalid rate limit "0", expected 1 to 65535 payloads



=== TEST 12: a rate limit window of 0
--- config
location = /gateway { gateway_rate_limit 10 0s; }
--- must_die
--- error_log
invalid rate limit window "0s"



=== TEST 13: a large_threshold range upside down
--- config
location = /gateway { gateway_large_threshold 250 50; }
--- must_die
--- error_log
invalid large_threshold range "250 50"



=== TEST 14: intents outside the documented bits
--- config
location = /gateway { gateway_allowed_intents 1099511627776; }
--- must_die
--- error_log
invalid intents "1099511627776": a subset of 53608447 is expected



=== TEST 15: "all" intents
--- http_config
gateway_zone zone=gateway:2m;
gateway_token_secret s;
--- config
location = /gateway {
    gateway;
    gateway_allowed_intents all;
    gateway_privileged_intents 2;
}
--- ws_script
open /gateway
< json {"op":10}
--- no_error_log
[error]



=== TEST 16: a heartbeat interval of 0
--- config
location = /gateway { gateway_heartbeat_interval 0; }
--- must_die
--- error_log
"gateway_heartbeat_interval" must not be 0



=== TEST 17: a public URL that is not ws:// or wss://
--- config
location = /gateway { gateway_public_url http://example.com/gateway; }
--- must_die
--- error_log
"gateway_public_url" must be a ws:// or wss:// URL



=== TEST 18: a session guild limit of 0
--- config
location = /gateway { gateway_max_session_guilds 0; }
--- must_die
--- error_log
"gateway_max_session_guilds" must not be 0



=== TEST 19: a secret file that does not exist
--- http_config
gateway_token_secret_file /nonexistent/token.secret;
--- must_die
--- error_log
open() "/nonexistent/token.secret" failed



=== TEST 20: an empty secret file
--- user_files
>>> empty.secret
--- http_config
gateway_token_secret_file $TEST_NGINX_SERVROOT/html/empty.secret;
--- must_die
--- error_log
is empty



=== TEST 21: a secret file's trailing newline is not part of the secret
--- user_files
>>> token.secret
t-token-secret

>>> admin.secret
t-admin-secret
--- http_config
gateway_zone zone=gateway:2m;
gateway_token_secret_file $TEST_NGINX_SERVROOT/html/token.secret;
gateway_admin_secret_file $TEST_NGINX_SERVROOT/html/admin.secret;
--- config
location = /gateway { gateway; }
location /admin/ { gateway_admin; }
--- client
set -e
t/bin/gwadmin POST /admin/users '{"id":"100","username":"alice"}' > /dev/null
token=$(perl -Mlib=t/lib -MTest::Gateway::Fixture -e 'print gateway_token(100)')
sleep 1 | /usr/bin/python3 t/bin/gwclient.py identify --port $TEST_NGINX_PORT --tokens $token
