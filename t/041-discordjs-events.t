# A real third-party client: discord.js 14 (t/js, pinned by its lockfile)
# gets messageCreate for a message posted through REST by another member
# and for its own channel.send(); and guild.members.fetch() (op 8) works
# on a 2500-member guild: all members, a query with a limit, and user ids.
# See t/js/discordjs_events.js.
use lib 't/lib';
use Test::Gateway;

workers(2);
run_tests();

__DATA__

=== TEST 1: discord.js: messageCreate from REST and channel.send; members.fetch of 2500 members, by query, by ids
--- http_config
gateway_zone zone=gateway:16m;
gateway_token_secret "t041-token-secret";
gateway_admin_secret "t041-admin-secret";
--- config
location = /gateway { gateway; }
location /api/ { gateway_rest; }
location /admin/ { gateway_admin; client_max_body_size 16m; }
--- client
GW_ADMIN_SECRET=t041-admin-secret node t/js/discordjs_events.js
--- client_timeout: 55
--- no_error_log
[error]
