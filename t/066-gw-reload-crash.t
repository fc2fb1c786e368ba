# Reload and worker crash with clients under a steady stream of messages
# (shared/PROTOCOL.md 1.8): on SIGHUP the old workers send op 7 to each
# identified client at a random moment of gateway_drain_window, close with
# 1012, and the clients resume on the new workers (the zone survives);
# after a SIGKILL of a worker its sockets drop, its sessions are detached
# by another worker's sweep, and its clients resume elsewhere.  Nothing is
# lost, nothing comes twice, nobody identifies again.  The clients and the
# publisher are threads of t/bin/resume_reload.py; the test sends the
# signals itself.
use lib 't/lib';
use Test::Gateway;
use Test::Gateway::Fixture;

our $CONFIG = <<'CONF';
listen 127.0.0.1:$TEST_NGINX_BACKEND_PORT reuseport;
location = /gateway { gateway; }
location /api/ { gateway_rest; }
location /admin/ { gateway_admin; client_max_body_size 1m; }
CONF

workers(4);
allow_error_log(qr/\[alert\] \d+#\d+: worker process \d+ exited on signal 9\b/);
add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(main_config => "worker_shutdown_timeout 10s;\n");
    $block->set_value(http_config => $Test::Gateway::Fixture::HTTP_CONFIG
                                     . "gateway_drain_window 1s;\n");
    $block->set_value(config => $CONFIG);
    $block->set_value(client_timeout => 55);
    $block->set_value(no_error_log => "[error]\n");
});
gateway_fixture();
run_tests();

__DATA__

=== TEST 1: 50 clients, 40 messages/s: two reloads (op 7 over the 1 s drain window, resume) and a SIGKILL (resume within 5 s); every message exactly once, no re-Identify
--- client
/usr/bin/python3 t/bin/resume_reload.py reload



=== TEST 2: SIGKILL: the worker's sessions are shown detached within about a second; its clients resume later and get what was published meanwhile
--- client
/usr/bin/python3 t/bin/resume_reload.py crash
