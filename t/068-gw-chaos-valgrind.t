# The chaos test of t/067 at a smaller scale with nginx under valgrind
# memcheck: 200 clients, two reloads and a SIGKILL, on a stretched
# timeline; nothing lost, and no memory errors in any worker.
use lib 't/lib';

BEGIN { $ENV{TEST_NGINX_USE_VALGRIND} = 1 }

use Test::Gateway;
use Test::Gateway::Fixture;

workers(4);
allow_error_log(qr/\[alert\] \d+#\d+: worker process \d+ exited on signal 9\b/);
add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(main_config => "worker_shutdown_timeout 20s;\n");
    $block->set_value(http_config => $Test::Gateway::Fixture::HTTP_CONFIG
                                     . "gateway_drain_window 2s;\n"
                                     . "gateway_resume_buffer 512;\n"
                                     . "gateway_resume_timeout 60s;\n");
});
gateway_fixture();
run_tests();

__DATA__

=== TEST 1: under valgrind: 200 clients, 4 messages/s; two reloads and a SIGKILL: every client resumes, 0 lost, 0 repeated, 0 re-identified
--- config
listen 127.0.0.1:$TEST_NGINX_BACKEND_PORT reuseport;
location = /gateway { gateway; }
location /api/ { gateway_rest; }
location /admin/ { gateway_admin; client_max_body_size 64m; }
--- client
t/bin/chaos_run.sh 200 4 2
--- client_timeout: 240
--- timeout: 60
--- no_error_log
[error]
