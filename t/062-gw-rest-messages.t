# REST publishes (shared/PROTOCOL.md 1.16, docs/API.md): POST
# /api/v10/channels/{id}/messages and /typing.  What is accepted, at the
# limits, as answered and as dispatched; every refused request with its
# exact status and body, and that none of them reaches a session; a
# client that stops reading is closed once its backlog passes
# gateway_send_queue while the others get everything.  Scenarios in
# t/bin/fanout_rest.py.
use lib 't/lib';
use Test::Gateway;
use Test::Gateway::Fixture;

our $CONFIG = <<'CONF';
location = /gateway { gateway; }
location /api/ { gateway_rest; }
location /admin/ { gateway_admin; }
CONF

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => $CONFIG) unless defined $block->config;
    $block->set_value(client_timeout => 60)
        unless defined $block->client_timeout;
});
gateway_fixture();
workers(2);
run_tests();

__DATA__

=== TEST 1: accepted messages and typing, at the limits: the answer and every session's dispatch
--- client
/usr/bin/python3 t/bin/fanout_rest.py accepted
--- no_error_log
[error]



=== TEST 2: a nonce may have 25 characters of any size
--- client
/usr/bin/python3 t/bin/fanout_rest.py nonce_chars
--- no_error_log
[error]



=== TEST 3: refused requests: exact status and body, and no dispatch to anyone
--- client
/usr/bin/python3 t/bin/fanout_rest.py refused
--- no_error_log
[error]



=== TEST 4: GET on the messages route is 405 (as the harness sends it)
--- request
GET /api/v10/channels/1/messages
--- error_code: 405
--- response_headers
Content-Type: application/json
--- response_body: {"code":0,"message":"405: Method Not Allowed"}



=== TEST 5: a message without a token is 401
--- request
POST /api/v10/channels/1/messages
{"content":"hi"}
--- more_headers
Content-Type: application/json
--- error_code: 401
--- response_body: {"code":0,"message":"401: Unauthorized"}



=== TEST 6: a client that stops reading is closed and its session detached; the other session gets every message
--- config
# accepted sockets inherit the small send buffer: the backlog builds fast
listen 127.0.0.1:$TEST_NGINX_BACKEND_PORT sndbuf=8k;
location = /gateway { gateway; gateway_send_queue 16k; }
location /api/ { gateway_rest; }
location /admin/ { gateway_admin; }
--- client
/usr/bin/python3 t/bin/fanout_rest.py slow
--- error_log
client reads too slowly
--- no_error_log
[error]
