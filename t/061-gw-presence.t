# Presence (shared/PROTOCOL.md 1.15, 1.16): op 3, a user's first session
# coming online and its last one ending publish PRESENCE_UPDATE in each of
# the user's guilds, to the other users' sessions with GUILD_PRESENCES;
# "invisible" shows as "offline"; in a guild with more members than a
# session's large_threshold, only after an op 8 subscription with
# presences:true (by user_ids, by query, or the all-members form).
# Scenarios in t/bin/fanout_presence.py; every block makes its own users
# and guilds in the one zone.  The resume window is 2 s, so a dropped
# session ends (and goes offline) quickly.
use lib 't/lib';
use Test::Gateway;
use Test::Gateway::Fixture;

our $HTTP_CONFIG = <<'CONF';
gateway_zone zone=gateway:16m;
gateway_token_secret "t-token-secret";
gateway_admin_secret "t-admin-secret";
gateway_resume_timeout 2s;
gateway_identify_interval 0;
CONF

our $CONFIG = <<'CONF';
location = /gateway { gateway; }
location /api/ { gateway_rest; }
location /admin/ { gateway_admin; }
CONF

# (before gateway_fixture(), whose preprocessor sets its own http_config)
add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(http_config => $HTTP_CONFIG)
        unless defined $block->http_config;
    $block->set_value(config => $CONFIG) unless defined $block->config;
    $block->set_value(client_timeout => 60)
        unless defined $block->client_timeout;
    $block->set_value(no_error_log => "[error]\n")
        unless defined $block->no_error_log;
});
gateway_fixture();
workers(2);
run_tests();

__DATA__

=== TEST 1: small guilds: to GUILD_PRESENCES sessions of other users, once per guild and shard; online on Identify, offline when the last session closes
--- client
/usr/bin/python3 t/bin/fanout_presence.py small



=== TEST 2: invisible shows as offline
--- client
/usr/bin/python3 t/bin/fanout_presence.py invisible



=== TEST 3: an invisible user's activities do not show either
--- client
/usr/bin/python3 t/bin/fanout_presence.py invisible_activities



=== TEST 4: a dropped or 4000-closed session keeps its user online until the resume window runs out; 1001 ends it at once
--- client
/usr/bin/python3 t/bin/fanout_presence.py expire



=== TEST 5: 60 members: large below a large_threshold of 60; presences after op 8 user_ids, query or all-members subscriptions only
--- client
/usr/bin/python3 t/bin/fanout_presence.py large



=== TEST 6: 300 members from /admin/bulk: presences to subscribers only, once each
--- client
/usr/bin/python3 t/bin/fanout_presence.py huge
