package Test::Gateway::SelfTest;

# Nested harness runs for t/000-harness.t (run from the repo root):
#
#   perl t/lib/Test/Gateway/SelfTest.pm [CASE...]
#
# Each case writes a small .t file to a temporary directory, runs it with
# perl in a clean TEST_NGINX_* environment (its own ports and server root),
# and checks the exit status and TAP/diagnostic output against regexes.
# This covers what one .t file cannot: HUP mode, restarts, and that wrong
# expectations FAIL with a useful message. Exit status 0 iff all cases pass.

use strict;
use warnings;

use File::Temp qw(tempdir);
use File::Path qw(remove_tree);
use Time::HiRes qw(time);

my $ECHO = <<'_E_';
--- daemon: perl t/lib/Test/Gateway/EchoServer.pm $TEST_NGINX_BACKEND_PORT
--- daemon_port: $TEST_NGINX_BACKEND_PORT
--- config
location /echo {
    proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT;
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection "upgrade";
}
_E_

my @CASES = (
    {
        name => 'hup',
        env => { TEST_NGINX_USE_HUP => 1 },
        exit => 0,
        t => <<'_T_',
use lib 't/lib';
use Test::Gateway;
workers(2);
run_tests();
__DATA__

=== TEST 1: first config
--- config
location = /v { return 200 "one\n"; }
--- request
GET /v
--- response_body
one
--- client
cp $TEST_NGINX_SERVROOT/logs/nginx.pid $TEST_NGINX_SERVROOT/logs/pid.first

=== TEST 2: second config, switched by HUP (same master)
--- config
location = /v { return 200 "two\n"; }
--- request
GET /v
--- response_body
two
--- client
cmp $TEST_NGINX_SERVROOT/logs/nginx.pid $TEST_NGINX_SERVROOT/logs/pid.first

=== TEST 3: the generated /ver location answers the config version
--- config
location = /v { return 200 "three\n"; }
--- request
GET /ver
--- response_body_like: ^[0-9a-f]{16}$
_T_
        want => [
            qr/^ok \d+ - TEST 1: first config - response_body/m,
            qr/^ok \d+ - TEST 2: second config, switched by HUP \(same master\) - client$/m,
            qr/^ok \d+ - TEST 3: .* - response_body_like/m,
        ],
        deny => [qr/^not ok/m],
    },
    {
        name => 'restart',
        exit => 0,
        t => <<'_T_',
use lib 't/lib';
use Test::Gateway;
run_tests();
__DATA__

=== TEST 1: first config
--- config
location = /v { return 200 "one\n"; }
--- client
cp $TEST_NGINX_SERVROOT/logs/nginx.pid $TEST_NGINX_SERVROOT/logs/pid.first

=== TEST 2: identical config reuses the running nginx
--- config
location = /v { return 200 "one\n"; }
--- client
cmp $TEST_NGINX_SERVROOT/logs/nginx.pid $TEST_NGINX_SERVROOT/logs/pid.first

=== TEST 3: a changed config restarts nginx (new pid)
--- config
location = /v { return 200 "two\n"; }
--- request
GET /v
--- response_body
two
--- client
! cmp -s $TEST_NGINX_SERVROOT/logs/nginx.pid $TEST_NGINX_SERVROOT/logs/pid.first
_T_
        want => [qr/^ok \d+ - TEST 3: .* - client$/m, qr/^1\.\.6$/m],
        deny => [qr/^not ok/m],
    },
    {
        name => 'repeat',
        exit => 0,
        t => <<'_T_',
use lib 't/lib';
use Test::Gateway;
repeat_each(2);
run_tests();
__DATA__

=== TEST 1: repeated
--- config
location = /v { return 200 "one\n"; }
--- request
GET /v
--- response_body
one
_T_
        want => [qr/^ok 1 - TEST 1: repeated \(repeat 1\) - status code ok$/m,
                 qr/^ok 4 - TEST 1: repeated \(repeat 2\) - response_body/m],
        deny => [qr/^not ok/m],
    },
    {
        name => 'select',
        exit => 0,
        t => <<'_T_',
use lib 't/lib';
use Test::Gateway;
run_tests();
__DATA__

=== TEST 1: skipped
--- SKIP
--- config
--- client
false

=== TEST 2: runs
--- config
--- client
true

=== TEST 3: last one
--- LAST
--- config
--- client
true

=== TEST 4: after LAST
--- config
--- client
false
_T_
        want => [qr/^ok 1 - TEST 2: runs - client$/m, qr/^ok 2 - TEST 3: last one - client$/m],
        deny => [qr/^not ok/m, qr/TEST [14]/],
    },
    {
        name => 'settings',
        exit => 0,
        t => <<'_T_',
use lib 't/lib';
use Test::Gateway;
env_to_nginx('GW_SELFTEST=1');
worker_connections(77);
log_level('debug');
workers(2);
run_tests();
__DATA__

=== TEST 1: settings reach nginx.conf
--- config
--- client
f=$TEST_NGINX_SERVROOT/conf/nginx.conf
grep -q '^env GW_SELFTEST=1;$' $f && grep -q 'worker_connections 77;' $f && grep -q 'error_log logs/error.log debug;' $f && grep -q 'worker_processes 2;' $f && grep -q 'master_process on;' $f

=== TEST 2: a per-block log_level section
--- config
--- log_level: warn
--- client
grep -q 'error_log logs/error.log warn;' $TEST_NGINX_SERVROOT/conf/nginx.conf
_T_
        want => [qr/^ok 1 - TEST 1: .* - client$/m, qr/^ok 2 - TEST 2: .* - client$/m],
        deny => [qr/^not ok/m],
    },
    {
        name => 'failures',
        exit => 'nonzero',
        t => <<'_T_',
use lib 't/lib';
use Test::Gateway;
master_on();
run_tests();
__DATA__

=== TEST 1: wrong body
--- config
location = /t { add_header X-Foo bar; return 200 "hello\n"; }
--- request
GET /t
--- response_body
goodbye

=== TEST 2: wrong status and header
--- config
location = /t { add_header X-Foo bar; return 200 "hello\n"; }
--- request
GET /t
--- error_code: 404
--- response_headers
X-Foo: nope
!X-Foo

=== TEST 3: wrong ws frame
@@ECHO@@--- ws_script
open /echo
> text "hello"
< text "nope"

=== TEST 4: ws timeout
@@ECHO@@--- timeout: 0.5
--- ws_script
open /echo
< text "never"

=== TEST 5: wrong JSON field
@@ECHO@@--- ws_script
open /echo
> json {"op":1,"d":{"a":2}}
< json {"d":{"a":3}}

=== TEST 6: wrong close code
@@ECHO@@--- ws_script
open /echo
> close 1000
< close 1001

=== TEST 7: nothing expected, something arrives
@@ECHO@@--- ws_script
open /echo
> text "x"
< nothing 0.3

=== TEST 8: script syntax error
@@ECHO@@--- ws_script
open /echo
> txet "x"

=== TEST 9: client fails
--- config
--- client
echo some client output; exit 3

=== TEST 10: missing error_log line
--- config
location = /t { return 200 "hello\n"; }
--- request
GET /t
--- error_log
no such line anywhere

=== TEST 11: no_error_log violated
--- config
--- request
GET /nonexistent
--- error_code: 404
--- no_error_log
[error]

=== TEST 12: must_die but nginx starts
--- config
--- must_die

=== TEST 13: eval error in a section
--- config
--- raw_request eval
"unterminated

=== TEST 14: undefined variable
--- config
location = /t { return 200 "$TEST_NGINX_UNDEFINED_XYZ"; }
--- request
GET /t

=== TEST 15: an [alert] in error.log (worker killed behind the harness's back)
--- config
--- client
perl -e 'for (glob "/proc/[0-9]*/stat") { open my $f, "<", $_ or next; my $l = <$f>; my @x = split " ", substr($l, rindex($l, ")") + 2); if ($x[1] == $ARGV[0]) { kill 9, (split m{/}, $_)[2]; sleep 1; exit 0 } } exit 1' $(cat $TEST_NGINX_SERVROOT/logs/nginx.pid)

=== TEST 16: wrong tcp_query
--- config
location = /up { proxy_pass http://127.0.0.1:$TEST_NGINX_BACKEND_PORT/x; }
--- tcp_listen: $TEST_NGINX_BACKEND_PORT
--- tcp_query eval
"GET /y HTTP/1.0\r\n"
--- tcp_reply eval
"HTTP/1.0 200 OK\r\n\r\nup\n"
--- request
GET /up

=== TEST 17: a good block after all that
--- config
location = /t { return 200 "hello\n"; }
--- request
GET /t
--- response_body
hello
_T_
        want => [
            qr/^not ok \d+ - TEST 1: wrong body - response_body - response is expected$/m,
            qr/got: 'hello\n#\s*'\n#\s+expected: 'goodbye/m,
            qr/^not ok \d+ - TEST 2: wrong status and header - status code ok$/m,
            qr/got: '200'\n#\s+expected: '404'/m,
            qr/^not ok \d+ - TEST 2: .* - header X-Foo ok$/m,
            qr/^not ok \d+ - TEST 2: .* - header X-Foo absent$/m,
            qr/^not ok \d+ - TEST 3: wrong ws frame - ws_script$/m,
            qr/ws_script line 3: `< text "nope"`\n#\s+expected text frame with "nope" \(4 bytes\)\n#\s+got text "hello"/m,
            qr/ws_script line 2: `< text "never"`\n#\s+timed out after 0.5s waiting for text frame/m,
            qr/ws_script line 3: `< json \{"d":\{"a":3\}\}`\n#\s+JSON mismatch at \$\.d\.a: expected number 3, got 2/m,
            qr/close code 1000, expected 1001/,
            qr/expected nothing for 0.3s, got text "x"/,
            qr/ws_script line 2: `> txet "x"`\n#\s+unknown frame kind 'txet'/m,
            qr/^not ok \d+ - TEST 9: client fails - client$/m,
            qr/client exited with status 3; output:\n#\s+some client output/m,
            qr/^not ok \d+ - TEST 10: .* - pattern "no such line anywhere" should match a line in error.log$/m,
            qr/^not ok \d+ - TEST 11: .* - pattern "\[error\]" should not match any line in error.log$/m,
            qr/matching lines:\n#.*\[error\].*nonexistent/m,
            qr/^not ok \d+ - TEST 12: .* - nginx must fail to start \(must_die\)$/m,
            qr/^not ok \d+ - TEST 13: .* - block ran without a harness error$/m,
            qr/section 'raw_request' eval failed/,
            qr/environment variable TEST_NGINX_UNDEFINED_XYZ \(used in config\) is not defined/,
            qr/^not ok \d+ - TEST 15: .* - no \[alert\], \[emerg\] or sanitizer lines in logs$/m,
            qr/exited on signal 9/,
            qr/^not ok \d+ - TEST 16: wrong tcp_query - tcp_query ok$/m,
            qr/got: 'GET \/x HTTP\/1.0\r?\n#\s*'\n#\s+expected: 'GET \/y/m,
            qr/^ok \d+ - TEST 17: a good block after all that - response_body - response is expected$/m,
            qr/server root kept for debugging: /,
        ],
        deny => [qr/^not ok \d+ - TEST 17/m, qr/^not ok \d+ - no \[alert\]/m],
    },
);

sub run_case {
    my ($case, $dir) = @_;
    my $file = "$dir/selftest-$case->{name}-$$.t";
    open my $fh, '>', $file or die "$file: $!";
    (my $t = $case->{t}) =~ s/\@\@ECHO\@\@/$ECHO/g;
    print $fh $t;
    close $fh;
    local %ENV = %ENV;
    delete $ENV{$_} for qw(TEST_NGINX_PORT TEST_NGINX_TLS_PORT TEST_NGINX_BACKEND_PORT
                           TEST_NGINX_SERVROOT TEST_NGINX_USE_HUP TEST_NGINX_USE_VALGRIND
                           TEST_NGINX_NO_CLEAN TEST_NGINX_VERBOSE HARNESS_ACTIVE);
    %ENV = (%ENV, %{ $case->{env} || {} });
    my $t0 = time;
    my $out = `perl '$file' 2>&1`;
    my $st = $? >> 8;
    my @bad;
    push @bad, "exit status $st, expected 0" if $case->{exit} eq '0' && $st != 0;
    push @bad, "exit status 0, expected non-zero" if $case->{exit} eq 'nonzero' && $st == 0;
    for my $re (@{ $case->{want} }) {
        push @bad, "output does not match $re" unless $out =~ $re;
    }
    for my $re (@{ $case->{deny} || [] }) {
        push @bad, "output matches $re" if $out =~ $re;
    }
    (my $base = $file) =~ s{.*/}{};
    $base =~ s/\.t$//;
    if (@bad) {
        push @bad, "nested server root kept: t/servroot-$base";
    } else {
        remove_tree("t/servroot-$base");
        unlink "t/servroot-$base.lock";
    }
    printf "%s case %s (%.1fs)\n", @bad ? 'FAIL' : 'ok', $case->{name}, time - $t0;
    if (@bad) {
        print "  $_\n" for @bad;
        print "  --- output of the nested run ---\n";
        print map { "  | $_\n" } split /\n/, $out;
    }
    return !@bad;
}

sub main {
    my @want = @_;
    my $dir = tempdir('gw-selftest-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    my $fails = 0;
    for my $case (@CASES) {
        next if @want && !grep { $_ eq $case->{name} } @want;
        run_case($case, $dir) or $fails++;
    }
    exit($fails ? 1 : 0);
}

main(@ARGV) unless caller;

1;
