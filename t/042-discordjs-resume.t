# A real third-party client resumes: discord.js 14 (t/js, pinned by its
# lockfile) through a TCP proxy the script runs; after nginx -s reload it
# gets op 7 and resumes, after its socket is cut it resumes, and each time
# it gets the messages posted while it was away (messageCreate, then
# shardResume), without identifying again.  See t/js/discordjs_resume.js.
use lib 't/lib';
use Test::Gateway;

workers(2);
run_tests();

__DATA__

=== TEST 1: discord.js resumes after a reload (op 7) and after a cut connection, and gets what it missed
--- main_config
worker_shutdown_timeout 10s;
--- http_config
gateway_zone zone=gateway:16m;
gateway_token_secret "t042-token-secret";
gateway_admin_secret "t042-admin-secret";
gateway_drain_window 1s;
--- config
location = /gateway { gateway; }
location /api/ { gateway_rest; }
location /admin/ { gateway_admin; }
--- client
GW_ADMIN_SECRET=t042-admin-secret node t/js/discordjs_resume.js
--- client_timeout: 55
--- no_error_log
[error]
