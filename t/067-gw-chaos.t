# Chaos (issue 5): 2000 gwload clients over 4 workers receive a steady
# stream of REST messages while the node is reloaded twice and a worker is
# killed with SIGKILL.  Every client resumes (gwload's jittered backoff),
# none identifies again, and each gets every message exactly once with a
# gap-free s.  gwload does the checking (t/bin/chaos_run.sh).
use lib 't/lib';
use Test::Gateway;
use Test::Gateway::Fixture;

workers(4);
worker_connections(4096);
allow_error_log(qr/\[alert\] \d+#\d+: worker process \d+ exited on signal 9\b/);
add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(main_config => "worker_shutdown_timeout 10s;\n"
                                     . "worker_rlimit_nofile 8192;\n");
    $block->set_value(http_config => $Test::Gateway::Fixture::HTTP_CONFIG
                                     . "gateway_drain_window 2s;\n"
                                     . "gateway_resume_buffer 512;\n"
                                     . "gateway_resume_timeout 30s;\n");
});
gateway_fixture();
run_tests();

__DATA__

=== TEST 1: 2000 clients, 10 messages/s; two reloads and a SIGKILL: every client resumes within 5 s, 0 lost, 0 repeated, 0 re-identified
--- config
listen 127.0.0.1:$TEST_NGINX_BACKEND_PORT reuseport;
location = /gateway { gateway; }
location /api/ { gateway_rest; }
location /admin/ { gateway_admin; client_max_body_size 64m; }
--- client
t/bin/chaos_run.sh 2000 10
--- client_timeout: 90
--- no_error_log
[error]
