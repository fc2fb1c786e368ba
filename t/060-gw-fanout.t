# Event fan-out (shared/PROTOCOL.md 1.10, 1.11, 1.16): REST messages and
# typing and admin dispatches reach every member session of the guild
# that should see them, exactly once, in the same order everywhere, with
# a gap-free per-session s; intents, shards and membership filter them,
# and MESSAGE_CONTENT decides whether content and embeds are filled in.
# Four workers; the sessions of blocks 1 and 2 come in on a reuseport
# listener, so they are spread over the workers.  t/bin/fanout_check.py
# holds the scenarios and the model they are checked against; every block
# makes its own users and guilds in the one zone.
use lib 't/lib';
use Test::Gateway;
use Test::Gateway::Fixture;

our $CONFIG = <<'CONF';
listen 127.0.0.1:$TEST_NGINX_BACKEND_PORT reuseport;
location = /gateway { gateway; }
location /api/ { gateway_rest; }
location /admin/ { gateway_admin; }
CONF

gateway_fixture();
workers(4);
add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => $CONFIG) unless defined $block->config;
    $block->set_value(client_timeout => 60)
        unless defined $block->client_timeout;
    $block->set_value(no_error_log => "[error]\n")
        unless defined $block->no_error_log;
});
run_tests();

__DATA__

=== TEST 1: 41 sessions on 4 workers, 50 messages, typing, admin dispatches, a member joining and leaving: each session gets exactly its events, in order
--- client
/usr/bin/python3 t/bin/fanout_check.py fanout



=== TEST 2: four publishers at once: every session sees the same relative order
--- client
/usr/bin/python3 t/bin/fanout_check.py order



=== TEST 3: shards: a session gets only the events of its shard's guilds
--- client
/usr/bin/python3 t/bin/fanout_check.py shards



=== TEST 4: member add and remove: GUILD_MEMBER_ADD/REMOVE to the others, GUILD_CREATE/DELETE to the member
--- client
/usr/bin/python3 t/bin/fanout_check.py members



=== TEST 5: MESSAGE_CONTENT: redacted content and embeds, except for the author and the members mentioned
--- client
/usr/bin/python3 t/bin/fanout_check.py content
