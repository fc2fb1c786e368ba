# A real third-party client: discord.js 14 (t/js, pinned by its lockfile)
# logs in as a bot through rest.api pointed at the node, gets READY and a
# GUILD_CREATE per guild, a guildCreate for a guild joined later, and
# stays connected through heartbeats at a short interval.
use lib 't/lib';
use Test::Gateway;

workers(2);
run_tests();

__DATA__

=== TEST 1: discord.js logs in, gets its guilds, survives three heartbeats
--- http_config
gateway_zone zone=gateway:16m;
gateway_token_secret "t040-token-secret";
gateway_admin_secret "t040-admin-secret";
gateway_heartbeat_interval 1000ms;
--- config
location = /gateway { gateway; }
location /api/ { gateway_rest; }
location /admin/ { gateway_admin; }
--- client
GW_ADMIN_SECRET=t040-admin-secret node t/js/discordjs_login.js 3
--- client_timeout: 90
--- no_error_log
[error]
