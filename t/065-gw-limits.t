# Identify limits (shared/PROTOCOL.md 1.6, 1.11): one Identify per user per
# bucket (shard_id % gateway_identify_concurrency) per
# gateway_identify_interval, a second one gets op 9 d:false 0.5-1.5 s later;
# gateway_session_start_limit, counted down by /gateway/bot and ending in
# 4004; gateway_upgrade_limit (429, Retry-After, Discord's body, per client
# address); and what these directives and gateway_resume_buffer refuse at
# config load.  Scenarios in t/bin/resume_limits.py; two workers, the
# sessions on a reuseport listener: the limits hold across workers.
use lib 't/lib';
use Test::Gateway;
use Test::Gateway::Fixture;

our $CONFIG = <<'CONF';
listen 127.0.0.1:$TEST_NGINX_BACKEND_PORT reuseport;
location = /gateway { gateway; }
location /api/ { gateway_rest; }
location /admin/ { gateway_admin; }
CONF

# the fixture's http_config without its "gateway_identify_interval 0;"
our $HTTP = <<'CONF';
gateway_zone zone=gateway:16m;
gateway_token_secret "t-token-secret";
gateway_admin_secret "t-admin-secret";
CONF

workers(2);
add_block_preprocessor(sub {
    my $block = shift;
    if (defined $block->http_extra) {
        $block->set_value(http_config => $HTTP . $block->http_extra);
    }
    return if defined $block->must_die;
    $block->set_value(config => $CONFIG) unless defined $block->config;
    $block->set_value(client_timeout => 50)
        unless defined $block->client_timeout;
    $block->set_value(no_error_log => "[error]\n")
        unless defined $block->no_error_log;
});
gateway_fixture();
run_tests();

__DATA__

=== TEST 1: the default interval (5 s): a second Identify gets op 9 0.5-1.5 s later, on any worker; others and resumes are not limited; after 5 s the same socket identifies
--- http_extra
--- client
/usr/bin/python3 t/bin/resume_limits.py interval



=== TEST 2: gateway_identify_concurrency 2: shards [0,2] and [1,2] are separate buckets, shard_id % 2 picks one
--- http_extra
gateway_identify_concurrency 2;
gateway_identify_interval 2s;
--- client
/usr/bin/python3 t/bin/resume_limits.py concurrency



=== TEST 3: gateway_session_start_limit 3: /gateway/bot counts down, resumes are free, the 4th Identify closes 4004
--- http_extra
gateway_session_start_limit 3;
gateway_identify_interval 0;
--- client
/usr/bin/python3 t/bin/resume_limits.py starts



=== TEST 4: gateway_upgrade_limit: 429 with Retry-After and Discord's body; per address; off; the server level
--- http_extra
gateway_identify_interval 0;
--- config
gateway_upgrade_limit rate=1r/s;
location = /gateway { gateway; gateway_upgrade_limit rate=2r/s burst=3; }
location = /gateway-slow { gateway; }
location = /gateway-free { gateway; gateway_upgrade_limit off; }
location /api/ { gateway_rest; }
location /admin/ { gateway_admin; }
--- client
/usr/bin/python3 t/bin/resume_limits.py upgrade



=== TEST 5: the limits at their bounds load and are reported
--- http_extra
gateway_identify_concurrency 1024;
gateway_session_start_limit 1000000000;
gateway_identify_interval 0;
gateway_resume_buffer 4096 4294967295;
gateway_upgrade_limit rate=5r/s;
--- config
gateway_upgrade_limit off;
location = /gateway { gateway; gateway_upgrade_limit rate=1000000r/s burst=1000000; }
location /api/ { gateway_rest; }
location /admin/ { gateway_admin; }
--- client
set -e
t/bin/gwadmin POST /admin/users '{"id":"6650","username":"bounds","bot":true}' > /dev/null
tok=$(perl -Mlib=t/lib -MTest::Gateway::Fixture -e 'print gateway_token(6650)')
curl -fsS -H "Authorization: Bot $tok" http://127.0.0.1:$TEST_NGINX_PORT/api/v10/gateway/bot \
    | grep -qx '{"url":"ws://127.0.0.1:'$TEST_NGINX_PORT'/gateway","shards":1,"session_start_limit":{"total":1000000000,"remaining":1000000000,"reset_after":0,"max_concurrency":1024}}'



=== TEST 6: the smallest ring loads
--- http_extra
gateway_resume_buffer 8 4k;
--- config
location = /gateway { gateway; }



=== TEST 7: gateway_resume_buffer: fewer than 8 dispatches
--- http_extra
gateway_resume_buffer 7;
--- must_die
--- error_log
invalid number of dispatches "7": it must be from 8 to 4096



=== TEST 8: gateway_resume_buffer: more than 4096 dispatches
--- http_extra
gateway_resume_buffer 4097;
--- must_die
--- error_log
invalid number of dispatches "4097": it must be from 8 to 4096



=== TEST 9: gateway_resume_buffer: not a number
--- http_extra
gateway_resume_buffer many;
--- must_die
--- error_log
invalid number of dispatches "many"



=== TEST 10: gateway_resume_buffer: a size below 4k
--- http_extra
gateway_resume_buffer 128 4095;
--- must_die
--- error_log
invalid size "4095": it must be from 4k to 4g-1



=== TEST 11: gateway_resume_buffer: a size of 4g
--- http_extra
gateway_resume_buffer 128 4g;
--- must_die
--- error_log
invalid size "4g": it must be from 4k to 4g-1



=== TEST 12: gateway_resume_buffer: a size that is not one
--- http_extra
gateway_resume_buffer 128 large;
--- must_die
--- error_log
invalid size "large"



=== TEST 13: gateway_resume_buffer: three arguments
--- http_extra
gateway_resume_buffer 128 1m 2;
--- must_die
--- error_log
invalid number of arguments in "gateway_resume_buffer" directive



=== TEST 14: gateway_resume_buffer twice
--- http_extra
gateway_resume_buffer 128;
gateway_resume_buffer 256;
--- must_die
--- error_log
"gateway_resume_buffer" directive is duplicate



=== TEST 15: gateway_resume_buffer is http-level only
--- config
location = /gateway { gateway; gateway_resume_buffer 64; }
--- must_die
--- error_log
"gateway_resume_buffer" directive is not allowed here



=== TEST 16: gateway_upgrade_limit: a rate of 0
--- config
location = /gateway { gateway; gateway_upgrade_limit rate=0r/s; }
--- must_die
--- error_log
invalid rate "rate=0r/s": expected rate=Nr/s



=== TEST 17: gateway_upgrade_limit: a rate without r/s
--- config
location = /gateway { gateway; gateway_upgrade_limit rate=5; }
--- must_die
--- error_log
invalid rate "rate=5": expected rate=Nr/s



=== TEST 18: gateway_upgrade_limit: a rate per minute
--- config
location = /gateway { gateway; gateway_upgrade_limit rate=5r/m; }
--- must_die
--- error_log
invalid rate "rate=5r/m": expected rate=Nr/s



=== TEST 19: gateway_upgrade_limit: no number
--- config
location = /gateway { gateway; gateway_upgrade_limit rate=r/s; }
--- must_die
--- error_log
invalid rate "rate=r/s": expected rate=Nr/s



=== TEST 20: gateway_upgrade_limit: a burst of 0
--- config
location = /gateway { gateway; gateway_upgrade_limit rate=5r/s burst=0; }
--- must_die
--- error_log
invalid burst "burst=0"



=== TEST 21: gateway_upgrade_limit: a burst that is not a number
--- config
location = /gateway { gateway; gateway_upgrade_limit rate=5r/s burst=x; }
--- must_die
--- error_log
invalid burst "burst=x"



=== TEST 22: gateway_upgrade_limit: a burst without a rate
--- config
location = /gateway { gateway; gateway_upgrade_limit burst=5; }
--- must_die
--- error_log
"rate=Nr/s" is required



=== TEST 23: gateway_upgrade_limit: an unknown parameter
--- config
location = /gateway { gateway; gateway_upgrade_limit rate=5r/s delay=1; }
--- must_die
--- error_log
invalid parameter "delay=1"



=== TEST 24: gateway_upgrade_limit: "off" with a burst
--- config
location = /gateway { gateway; gateway_upgrade_limit off burst=1; }
--- must_die
--- error_log
invalid parameter "off"



=== TEST 25: gateway_upgrade_limit: three arguments
--- config
location = /gateway { gateway; gateway_upgrade_limit rate=5r/s burst=5 burst=6; }
--- must_die
--- error_log
invalid number of arguments in "gateway_upgrade_limit" directive



=== TEST 26: gateway_upgrade_limit twice in one place
--- config
location = /gateway { gateway; gateway_upgrade_limit off; gateway_upgrade_limit rate=1r/s; }
--- must_die
--- error_log
"gateway_upgrade_limit" directive is duplicate



=== TEST 27: gateway_identify_concurrency 0
--- http_extra
gateway_identify_concurrency 0;
--- must_die
--- error_log
value must be between 1 and 1024



=== TEST 28: gateway_identify_concurrency 1025
--- http_extra
gateway_identify_concurrency 1025;
--- must_die
--- error_log
value must be between 1 and 1024



=== TEST 29: gateway_identify_concurrency that is not a number
--- http_extra
gateway_identify_concurrency many;
--- must_die
--- error_log
"gateway_identify_concurrency" directive invalid number



=== TEST 30: gateway_session_start_limit 0
--- http_extra
gateway_session_start_limit 0;
--- must_die
--- error_log
value must be between 1 and 1000000000



=== TEST 31: gateway_session_start_limit above 10^9
--- http_extra
gateway_session_start_limit 1000000001;
--- must_die
--- error_log
value must be between 1 and 1000000000



=== TEST 32: gateway_identify_interval that is not a time
--- http_extra
gateway_identify_interval soon;
--- must_die
--- error_log
"gateway_identify_interval" directive invalid value



=== TEST 33: the identify limits are http-level only
--- config
location = /gateway { gateway; gateway_identify_interval 1s; }
--- must_die
--- error_log
"gateway_identify_interval" directive is not allowed here



=== TEST 34: gateway_identify_concurrency in a server
--- config
gateway_identify_concurrency 2;
location = /gateway { gateway; }
--- must_die
--- error_log
"gateway_identify_concurrency" directive is not allowed here



=== TEST 35: gateway_session_start_limit in a location
--- config
location = /gateway { gateway; gateway_session_start_limit 5; }
--- must_die
--- error_log
"gateway_session_start_limit" directive is not allowed here



=== TEST 36: gateway_resume_timeout and gateway_drain_window that are not times
--- http_extra
gateway_resume_timeout later;
--- must_die
--- error_log
"gateway_resume_timeout" directive invalid value



=== TEST 37: gateway_drain_window that is not a time
--- config
location = /gateway { gateway; gateway_drain_window 5x; }
--- must_die
--- error_log
"gateway_drain_window" directive invalid value
