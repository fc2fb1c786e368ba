package Test::Gateway;

# Data-driven nginx tests in the openresty Test::Nginx format, written from
# scratch on Debian's Test::Base. See t/README.md for the sections, the
# ws_script grammar and the environment variables.
#
# Note: this package inherits from Test::Base but does NOT `use Test::Base
# -Base` (Spiffy's source filter would add `my $self = shift` to every sub).

use strict;
use warnings;

use Test::Base ();
our @ISA = ('Test::Base');

use Cwd qw(abs_path);
use File::Basename qw(basename dirname);
use File::Path qw(remove_tree make_path);
use POSIX ();
use Fcntl ();
use Time::HiRes qw(time sleep);
use Test::Builder;
use Test::More ();

use Test::Gateway::Util qw(expand_env free_port wait_port parse_duration proc_alive
                           read_file_from file_size tail_text printable run_shell);
use Test::Gateway::Server;
use IO::Select;
use IO::Socket::INET;
use Test::Gateway::HTTP;
use Test::Gateway::WSScript;

our @EXPORT = qw(
    run_tests repeat_each workers master_on master_off worker_connections
    log_level no_shuffle use_hup allow_error_log add_block_preprocessor
    env_to_nginx server_root server_port server_port_tls repo_root
);

our $REPO = abs_path(dirname(abs_path(__FILE__)) . '/../../..');

my $VALGRIND = $ENV{TEST_NGINX_USE_VALGRIND} ? 1 : 0;
my %S = (
    repeat => 1,
    workers => 1,
    master => undef,
    worker_connections => 1024,
    log_level => $ENV{TEST_NGINX_LOG_LEVEL} || 'info',
    hup => $ENV{TEST_NGINX_USE_HUP} ? 1 : 0,
    allow => [],
    pre => [],
    env => [],
);

my $DEFAULT_TIMEOUT = $VALGRIND ? 30 : 10;
my $LOG_SETTLE = $VALGRIND ? 0.5 : 0.05;
my $BAD_LOG_RE = qr/\[(?:alert|emerg)\]|AddressSanitizer|LeakSanitizer|ThreadSanitizer|UndefinedBehaviorSanitizer|runtime error:/;
my $VG_ERR_RE = qr/Invalid (?:read|write|free)|uninitialised|definitely lost(?: in loss record|: [1-9])|Conditional jump|Mismatched free|Syscall param|Source and destination overlap|Process terminating|Jump to the invalid address/;

# Per-file server root and ports, chosen when the module loads so that
# `eval` sections and BEGIN code can already use them.
my $T_NAME = basename($0);
$T_NAME =~ s/\.t$//;
$T_NAME = 'noname' unless $T_NAME =~ /^[\w.-]+$/;
$ENV{TEST_NGINX_SERVROOT} ||= "$REPO/t/servroot-$T_NAME";
$ENV{TEST_NGINX_SERVROOT} = Cwd::getcwd() . "/$ENV{TEST_NGINX_SERVROOT}"
    unless $ENV{TEST_NGINX_SERVROOT} =~ m{^/};
$ENV{TEST_NGINX_SERVROOT} =~ s{/+$}{};
$ENV{TEST_NGINX_PORT} ||= free_port();
$ENV{TEST_NGINX_TLS_PORT} ||= free_port();
$ENV{TEST_NGINX_BACKEND_PORT} ||= free_port();
$ENV{TEST_NGINX_REPO} = $REPO;
$ENV{TEST_NGINX_BINARY} ||= '/usr/sbin/nginx';

my ($SRV, @DAEMONS, %LOGPOS, %VGPOS, $CLIENT_SEQ, $ROOT_LOCK);
my @KILLED_ALLOW;

#
# Settings (exported)
#

sub repeat_each { $S{repeat} = shift if @_; $S{repeat} }
sub workers { $S{workers} = shift if @_; $S{workers} }
sub master_on { $S{master} = 1 }
sub master_off { $S{master} = 0 }
sub worker_connections { $S{worker_connections} = shift if @_; $S{worker_connections} }
sub log_level { $S{log_level} = shift if @_; $S{log_level} }
sub no_shuffle { 1 }
sub use_hup { $S{hup} = 1 }
sub allow_error_log { push @{ $S{allow} }, map { ref $_ ? $_ : qr/\Q$_\E/ } @_ }
sub add_block_preprocessor { push @{ $S{pre} }, @_ }
sub env_to_nginx { push @{ $S{env} }, @_ }
sub server_root { $ENV{TEST_NGINX_SERVROOT} }
sub server_port { $ENV{TEST_NGINX_PORT} }
sub server_port_tls { $ENV{TEST_NGINX_TLS_PORT} }
sub repo_root { $REPO }

#
# Block helpers
#

sub _has { exists $_[0]->{ $_[1] } }

sub _str {
    my ($b, $n) = @_;
    return undef unless exists $b->{$n};
    my @v = @{ $b->{$n} };
    return $v[0] if @v == 1;
    return join '', map { $_ // '' } @v;
}

sub _list {
    my ($b, $n) = @_;
    return () unless exists $b->{$n};
    my @v = @{ $b->{$n} };
    @v = @{ $v[0] } if @v == 1 && ref $v[0] eq 'ARRAY';
    return @v;
}

sub _eval_error {
    my ($b) = @_;
    # Test::Base's eval filter returns $@ as the value when the code dies.
    my $map = $b->{_section_map} ? $b->{_section_map}[0] : {};
    for my $n (keys %$map) {
        my $f = $map->{$n}{filters} // '';
        next unless $f =~ /\beval\b/;
        for my $v (@{ $b->{$n} || [] }) {
            return "section '$n' eval failed: $v"
                if defined $v && !ref $v && $v =~ /at \(eval \d+\) line \d+/;
        }
    }
    return undef;
}

sub _log_patterns {
    my ($b, $n) = @_;
    my @p;
    for my $v (_list($b, $n)) {
        next unless defined $v;
        if (ref $v eq 'Regexp') { push @p, $v; next }
        push @p, grep { /\S/ } map { s/^\s+|\s+$//gr } split /\n/, expand_env($v, $n);
    }
    return @p;
}

sub _pat_text { ref $_[0] ? "$_[0]" : printable($_[0], 100) }

sub _tb { Test::Builder->new }

# Test::Builder level that makes failures point at the run_tests() call in
# the .t file instead of at a line of this module.
sub _level {
    my $d = 1;
    while (my @c = caller($d)) {
        return $d + 1 if $c[3] eq 'Test::Gateway::run_tests';
        $d++;
    }
    return 1;
}

#
# Main loop
#

sub run_tests {
    my $tb = _tb();
    my $bin = $ENV{TEST_NGINX_BINARY};
    unless (-x $bin) {
        Test::More::plan(skip_all => "nginx binary $bin is not executable");
        return;
    }
    Test::More::plan('no_plan') unless $tb->has_plan;

    my @mods = defined $ENV{TEST_NGINX_LOAD_MODULES}
        ? split(' ', $ENV{TEST_NGINX_LOAD_MODULES})
        : grep { -f } map { "$REPO/build/modules/$_.so" } qw(ngx_gateway_module ngx_voice_signal_module);
    $S{modules} = [map { m{^/} ? $_ : abs_path($_) // "$REPO/$_" } @mods];

    $SIG{PIPE} = 'IGNORE';
    $SIG{INT} = $SIG{TERM} = sub { _cleanup(1); POSIX::_exit(130) };

    # Two concurrent runs of the same file would share (and wipe) one server
    # root; refuse the second one with a clear message.
    my $root = $ENV{TEST_NGINX_SERVROOT};
    open $ROOT_LOCK, '>', "$root.lock" or die "$root.lock: $!\n";
    unless (flock $ROOT_LOCK, Fcntl::LOCK_EX() | Fcntl::LOCK_NB()) {
        Test::More::BAIL_OUT("server root $root is in use by another run of this file "
            . "(set TEST_NGINX_SERVROOT to run it twice at once)");
    }

    $SRV = Test::Gateway::Server->new(
        root => $ENV{TEST_NGINX_SERVROOT}, binary => $bin, repo => $REPO,
        port => $ENV{TEST_NGINX_PORT}, tls_port => $ENV{TEST_NGINX_TLS_PORT},
        valgrind => $VALGRIND, suppress => "$REPO/t/valgrind.suppress",
    );
    $SRV->setup;
    %LOGPOS = ();
    %VGPOS = ();

    my @blocks = Test::Base::blocks();
    for my $block (@blocks) {
        $_->($block) for @{ $S{pre} };
        for my $rep (1 .. $S{repeat}) {
            _run_block($block, $rep);
        }
    }
    _finish();
}

sub _block_conf {
    my ($block) = @_;
    my $script = _str($block, 'ws_script') // '';
    my $needs_master = $script =~ /^\s*(?:hup|kill_worker)\s*$/m;
    my $master = $S{master} // ($S{workers} > 1 || $S{hup} || $needs_master ? 1 : 0);
    $master = 1 if $S{hup} || $needs_master;
    $SRV->{master} = $master;
    $SRV->{nworkers} = $master ? $S{workers} : 1;
    return $SRV->build_conf(
        master => $master,
        workers => $S{workers},
        worker_connections => $S{worker_connections},
        log_level => _str($block, 'log_level') // $S{log_level},
        load_modules => $S{modules},
        env => $S{env},
        main_config => expand_env(_str($block, 'main_config'), 'main_config'),
        http_config => expand_env(_str($block, 'http_config'), 'http_config'),
        config => expand_env(_str($block, 'config'), 'config'),
        hup => $S{hup},
    );
}

sub _run_block {
    my ($block, $rep) = @_;
    my $tb = _tb();
    my $name = $block->name;
    $name .= " (repeat $rep)" if $S{repeat} > 1;
    my $n0 = $tb->current_test;
    my $must_die = _has($block, 'must_die');
    local $Test::Builder::Level = _level();

    my $ok = eval {
        if (my $e = _eval_error($block)) { die "$e\n" }
        _write_user_files($block);
        _start_daemons($block);
        _start_tcp_listener($block);
        my $conf = _block_conf($block);
        if ($must_die) {
            _run_must_die($block, $name, $conf);
            return 1;
        }
        if (my $err = _ensure_nginx($conf)) {
            Test::More::fail("$name - nginx started");
            Test::More::diag($err);
            return 1;
        }
        my $log_pos = file_size($SRV->error_log_path);
        my $timeout = parse_duration(_str($block, 'timeout'), $DEFAULT_TIMEOUT);
        if (_has($block, 'request') || _has($block, 'raw_request')) {
            _run_http($block, $name, $timeout);
        }
        if (_has($block, 'ws_script')) {
            _run_ws($block, $name, $timeout);
        }
        if (_has($block, 'client')) {
            _run_client($block, $name);
        }
        _check_tcp_query($block, $name, $timeout) if _has($block, 'tcp_listen');
        my $wait = parse_duration(_str($block, 'wait'), 0);
        sleep $wait if $wait;
        sleep $LOG_SETTLE;
        _check_logs($block, $name, sub { read_file_from($SRV->error_log_path, $log_pos) }, 1);
        1;
    };
    unless ($ok) {
        my $e = $@ || 'unknown error';
        Test::More::fail("$name - block ran without a harness error");
        Test::More::diag($e);
    }
    _stop_daemons();
    if ($must_die) {
        _skip_log_scan();
    } else {
        _scan_bad_logs("$name - no [alert], [emerg] or sanitizer lines in logs", 0);
        if (!$SRV->running && $SRV->{conf_expected_running}) {
            Test::More::fail("$name - nginx is still running after the block");
            Test::More::diag("nginx (pid " . ($SRV->{last_pid} // '?') . ") died during the block; error.log tail:\n"
                . tail_text(read_file_from($SRV->error_log_path, 0), 30));
            $SRV->{conf_expected_running} = 0;
        }
    }
    _scan_valgrind("$name - no valgrind errors", 0) if $VALGRIND;
    Test::More::pass("$name - nginx started") if $tb->current_test == $n0;
}

sub _ensure_nginx {
    my ($conf) = @_;
    my $version = sprintf('%08x%08x', int(rand 2**32), int(rand 2**32));
    my $err;
    if ($SRV->running && defined $SRV->{conf} && $SRV->{conf} eq $conf) {
        return undef;
    }
    if ($SRV->running && $S{hup}) {
        $err = $SRV->reload($conf, $version);
    } else {
        _note_stop($SRV->stop) if $SRV->running;
        $err = $SRV->start($conf, $version);
    }
    $SRV->{conf_expected_running} = $err ? 0 : 1;
    $SRV->{last_pid} = $SRV->{pid};
    return $err;
}

sub _note_stop { Test::More::diag($_) for @_ }

sub _run_must_die {
    my ($block, $name, $conf) = @_;
    local $Test::Builder::Level = _level();
    _note_stop($SRV->stop) if $SRV->running;
    $SRV->{conf_expected_running} = 0;
    my $err = $SRV->start($conf, 'must_die');
    if (!defined $err) {
        Test::More::fail("$name - nginx must fail to start (must_die)");
        Test::More::diag("nginx started although the block has --- must_die");
        _note_stop($SRV->stop);
        return;
    }
    Test::More::pass("$name - nginx failed to start (must_die)");
    _check_logs($block, $name, sub { $err }, 0);
}

# error_log / no_error_log against the text returned by $get (polled for up
# to a few seconds while an error_log pattern is still missing).
sub _check_logs {
    my ($block, $name, $get, $poll) = @_;
    local $Test::Builder::Level = _level();
    my @want = _log_patterns($block, 'error_log');
    my @deny = _log_patterns($block, 'no_error_log');
    return unless @want || @deny;
    my $text = $get->();
    if (@want && $poll) {
        my $deadline = time + ($VALGRIND ? 20 : 3);
        while (time < $deadline && grep { !_log_has($text, $_) } @want) {
            sleep 0.05;
            $text = $get->();
        }
    }
    for my $p (@want) {
        my $ok = Test::More::ok(_log_has($text, $p), "$name - pattern " . _pat_text($p) . " should match a line in error.log");
        Test::More::diag("error.log written during this block:\n" . tail_text($text, 40)) unless $ok;
    }
    for my $p (@deny) {
        my @hits = grep { _log_has($_, $p) } split /\n/, $text;
        my $ok = Test::More::ok(!@hits, "$name - pattern " . _pat_text($p) . " should not match any line in error.log");
        Test::More::diag("matching lines:\n" . join("\n", @hits[0 .. ($#hits > 9 ? 9 : $#hits)])) unless $ok;
    }
}

sub _log_has {
    my ($text, $p) = @_;
    return ref $p ? $text =~ $p : index($text, $p) >= 0;
}

#
# HTTP
#

sub _run_http {
    my ($block, $name, $timeout) = @_;
    local $Test::Builder::Level = _level();
    my (@chunks, $head);
    if (_has($block, 'raw_request')) {
        @chunks = map { expand_env($_, 'raw_request') } _list($block, 'raw_request');
    } else {
        my $req = expand_env(_str($block, 'request'), 'request');
        $req =~ s/^\s+//;
        my ($first, $body) = split /\n/, $req, 2;
        $first =~ s/\s+$//;
        my ($method, $uri, $proto) = split ' ', $first;
        die "bad request line '$first'\n" unless defined $uri;
        $proto //= 'HTTP/1.1';
        $head = $method eq 'HEAD';
        $body =~ s/\n\z// if defined $body;
        my @h = (['Host', 'localhost'], ['Connection', 'close']);
        for my $l (split /\n/, expand_env(_str($block, 'more_headers') // '', 'more_headers')) {
            next unless $l =~ /\S/;
            $l =~ /^\s*([^:\s]+)\s*:\s?(.*?)\s*$/ or die "bad more_headers line '$l'\n";
            my ($hn, $hv) = ($1, $2);
            @h = grep { lc $_->[0] ne lc $hn || $_->[2] } @h;
            push @h, [$hn, $hv, 1];
        }
        if (defined $body && length $body && !grep { lc $_->[0] eq 'content-length' || lc $_->[0] eq 'transfer-encoding' } @h) {
            push @h, ['Content-Length', length $body];
        }
        push @chunks, "$method $uri $proto\r\n" . join('', map { "$_->[0]: $_->[1]\r\n" } @h)
            . "\r\n" . ($body // '');
    }
    my $res = Test::Gateway::HTTP::request(
        port => _has($block, 'tls') ? $ENV{TEST_NGINX_TLS_PORT} : $ENV{TEST_NGINX_PORT},
        tls => _has($block, 'tls'), chunks => \@chunks, timeout => $timeout, head => $head,
        delay => parse_duration(_str($block, 'raw_request_middle_delay'), 0.05),
        idle => $VALGRIND ? 3 : 0.5,
    );
    if ($res->{error} || $res->{read_error} || ($res->{timed_out} && !_has($block, 'abort'))) {
        Test::More::fail("$name - response read");
        Test::More::diag(($res->{error} || $res->{read_error} || "timed out after ${timeout}s reading the response")
            . "; received: " . printable($res->{raw}, 400));
    }
    return if _has($block, 'ignore_response');
    if (_has($block, 'error_code_like')) {
        my $re = _regex(_str($block, 'error_code_like'));
        Test::More::like($res->{status} // '', $re, "$name - status code ok");
    } else {
        my $want = _str($block, 'error_code') // 200;
        $want =~ s/^\s+|\s+$//g;
        my $ok = Test::More::is($res->{status} // '', $want, "$name - status code ok");
        Test::More::diag("raw response: " . printable($res->{raw}, 300)) if !$ok && !defined $res->{status};
    }
    for my $l (split /\n/, expand_env(_str($block, 'response_headers') // '', 'response_headers')) {
        next unless $l =~ /\S/;
        if ($l =~ /^\s*!\s*([^:\s]+)\s*$/) {
            my $v = $res->{headers}{lc $1};
            Test::More::ok(!$v, "$name - header $1 absent")
                or Test::More::diag("got $1: " . join(', ', @$v));
            next;
        }
        $l =~ /^\s*([^:\s]+)\s*:\s?(.*?)\s*$/ or die "bad response_headers line '$l'\n";
        my ($hn, $hv) = ($1, $2);
        my @v = @{ $res->{headers}{lc $hn} || [] };
        my $got = @v ? join(', ', @v) : undef;
        $got = $hv if grep { $_ eq $hv } @v;
        Test::More::is($got, $hv, "$name - header $hn ok");
    }
    for my $l (split /\n/, expand_env(_str($block, 'response_headers_like') // '', 'response_headers_like')) {
        next unless $l =~ /\S/;
        $l =~ /^\s*([^:\s]+)\s*:\s?(.*?)\s*$/ or die "bad response_headers_like line '$l'\n";
        my ($hn, $re) = ($1, $2);
        my @v = @{ $res->{headers}{lc $hn} || [] };
        Test::More::like(@v ? join(', ', @v) : '', qr/$re/, "$name - header $hn like ok");
    }
    if (_has($block, 'response_body')) {
        my $want = _str($block, 'response_body') // '';
        $want = expand_env($want, 'response_body');
        Test::Base::is($res->{body}, $want, "$name - response_body - response is expected");
    }
    if (_has($block, 'response_body_like')) {
        Test::More::like($res->{body}, _regex(_str($block, 'response_body_like')),
                         "$name - response_body_like - response is expected");
    }
}

sub _regex {
    my ($v) = @_;
    return $v if ref $v eq 'Regexp';
    chomp $v;
    $v =~ s/^\s+|\s+$//g;
    return qr/$v/s;
}

#
# ws_script, client, daemon
#

sub _run_ws {
    my ($block, $name, $timeout) = @_;
    local $Test::Builder::Level = _level();
    my $script = expand_env(_str($block, 'ws_script'), 'ws_script');
    my $ws = Test::Gateway::WSScript->new(
        port => $ENV{TEST_NGINX_PORT}, tls_port => $ENV{TEST_NGINX_TLS_PORT},
        timeout => $timeout, server => $SRV,
        shell => sub { _shell($_[0], $timeout * 3, 'ws-shell') },
        on_worker_killed => sub {
            my $pid = shift;
            push @KILLED_ALLOW, qr/worker process $pid exited on signal 9\b/;
        },
    );
    my ($ok, $diag) = $ws->run($script);
    Test::More::ok($ok, "$name - ws_script");
    Test::More::diag($diag) unless $ok;
    Test::More::note(join("\n", $ws->transcript)) if $ENV{TEST_NGINX_VERBOSE};
}

sub _shell {
    my ($cmd, $timeout, $tag) = @_;
    my $out = sprintf('%s/logs/%s-%d.out', $SRV->root, $tag, ++$CLIENT_SEQ);
    return run_shell(command => $cmd, dir => $REPO, timeout => $timeout, outfile => $out);
}

sub _run_client {
    my ($block, $name) = @_;
    local $Test::Builder::Level = _level();
    my $cmd = expand_env(_str($block, 'client'), 'client');
    my $timeout = parse_duration(_str($block, 'client_timeout'), 300);
    my ($st, $out) = _shell($cmd, $timeout, 'client');
    my $ok = Test::More::ok($st == 0, "$name - client");
    if (!$ok) {
        Test::More::diag('client ' . ($st == -1 ? "killed after ${timeout}s" : 'exited with status ' . ($st >> 8)
            . ($st & 127 ? ' (signal ' . ($st & 127) . ')' : '')) . "; output:\n" . tail_text($out, 200));
    } elsif ($ENV{TEST_NGINX_VERBOSE}) {
        Test::More::note($out);
    }
}

sub _start_daemons {
    my ($block) = @_;
    return unless _has($block, 'daemon');
    my $cmd = expand_env(_str($block, 'daemon'), 'daemon');
    my $out = $SRV->root . '/logs/daemon.out';
    my $pid = fork // die "fork: $!\n";
    if (!$pid) {
        POSIX::setpgid(0, 0);
        chdir $REPO;
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $out or POSIX::_exit(127);
        open STDERR, '>&', \*STDOUT;
        { exec '/bin/sh', '-c', $cmd };
        POSIX::_exit(127);
    }
    POSIX::setpgid($pid, $pid);
    push @DAEMONS, $pid;
    if (my $port = expand_env(_str($block, 'daemon_port'), 'daemon_port')) {
        $port =~ s/^\s+|\s+$//g;
        my $alive = sub { waitpid($pid, POSIX::WNOHANG()) != $pid };
        die "daemon did not listen on $port within 10s: $cmd\n" . tail_text(read_file_from($out, 0), 20)
            unless wait_port($port, 10, $alive);
    }
}

# --- tcp_listen: a one-connection mock upstream (TCP port or unix socket
# path). It accepts one connection, reads the query (tcp_query_len bytes, or
# as many bytes as tcp_query has, or one read when neither is given), sends tcp_reply (a list from `eval` is sent in chunks,
# tcp_reply_delay apart) and closes unless tcp_no_close is present.
sub _start_tcp_listener {
    my ($block) = @_;
    return unless _has($block, 'tcp_listen');
    my $where = expand_env(_str($block, 'tcp_listen'), 'tcp_listen');
    $where =~ s/^\s+|\s+$//g;
    my $timeout = parse_duration(_str($block, 'timeout'), $DEFAULT_TIMEOUT);
    my $q = _str($block, 'tcp_query');
    my $want = _str($block, 'tcp_query_len') // (defined $q ? length $q : undef);
    my @reply = _has($block, 'tcp_reply') ? _list($block, 'tcp_reply') : ();
    my $delay = parse_duration(_str($block, 'tcp_reply_delay'), 0);
    my $no_close = _has($block, 'tcp_no_close');
    my $qfile = $SRV->root . '/logs/tcp_query.bin';
    unlink $qfile;
    my $l;
    if ($where =~ m{^(?:unix:)?(/.*)$}) {
        my $path = $1;
        require IO::Socket::UNIX;
        unlink $path;
        $l = IO::Socket::UNIX->new(Local => $path, Listen => 16, Type => Socket::SOCK_STREAM())
            or die "tcp_listen: cannot listen on $path: $!\n";
    } elsif ($where =~ /^\d+$/) {
        $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $where, Listen => 16,
                                   ReuseAddr => 1, Proto => 'tcp')
            or die "tcp_listen: cannot listen on 127.0.0.1:$where: $!\n";
    } else {
        die "tcp_listen: want a port number or a unix socket path, got '$where'\n";
    }
    my $pid = fork // die "fork: $!\n";
    if (!$pid) {
        POSIX::setpgid(0, 0);
        local $SIG{ALRM} = sub { POSIX::_exit(0) };
        alarm($timeout * 3 + 5) unless $no_close;
        my $c = $l->accept or POSIX::_exit(0);
        binmode $c;
        my $got = '';
        my $sel = IO::Select->new($c);
        my $deadline = time + $timeout;
        while (!defined $want || length $got < $want) {
            last unless $sel->can_read($deadline - time > 0 ? $deadline - time : 0);
            my $n = sysread($c, my $buf, defined $want ? $want - length $got : 65536);
            last unless $n;
            $got .= $buf;
            last unless defined $want;    # no length known: the first read
        }
        if (open my $fh, '>:raw', $qfile) { print $fh $got; close $fh }
        for my $i (0 .. $#reply) {
            sleep $delay if $delay && $i;
            syswrite $c, $reply[$i] // '';
        }
        if ($no_close) { sleep 1 while 1 }
        close $c;
        POSIX::_exit(0);
    }
    POSIX::setpgid($pid, $pid);
    close $l;
    push @DAEMONS, $pid;
}

sub _check_tcp_query {
    my ($block, $name, $timeout) = @_;
    local $Test::Builder::Level = _level();
    return unless _has($block, 'tcp_query');
    my $qfile = $SRV->root . '/logs/tcp_query.bin';
    my $deadline = time + $timeout;
    sleep 0.02 while !-e $qfile && time < $deadline;
    sleep 0.02;
    my $got = -e $qfile ? read_file_from($qfile, 0) : undef;
    Test::Base::is($got, _str($block, 'tcp_query'), "$name - tcp_query ok");
}

sub _stop_daemons {
    Test::Gateway::Util::kill_group($_, 2) for @DAEMONS;
    @DAEMONS = ();
}

sub _write_user_files {
    my ($block) = @_;
    return unless _has($block, 'user_files');
    my $text = _str($block, 'user_files');
    for my $part (split /^>>> /m, $text) {
        next unless $part =~ /\S/;
        my ($fname, $content) = split /\n/, $part, 2;
        $fname =~ s/\s+$//;
        die "bad user_files name '$fname'\n" if $fname =~ m{(^|/)\.\.(/|$)} || $fname =~ m{^/};
        my $path = $SRV->root . "/html/$fname";
        make_path(dirname($path));
        open my $fh, '>:raw', $path or die "$path: $!\n";
        print $fh $content // '';
        close $fh;
    }
}

#
# Log scans
#

sub _bad_log_files { ($SRV->error_log_path, $SRV->stderr_path) }

sub _skip_log_scan {
    $LOGPOS{$_} = file_size($_) for _bad_log_files();
}

sub _scan_bad_logs {
    my ($test_name, $always) = @_;
    local $Test::Builder::Level = _level();
    my @bad;
    for my $f (_bad_log_files()) {
        my $pos = $LOGPOS{$f} // 0;
        my $text = read_file_from($f, $pos);
        $LOGPOS{$f} = $pos + length $text;
        for my $l (split /\n/, $text) {
            next unless $l =~ $BAD_LOG_RE;
            next if grep { $l =~ $_ } @{ $S{allow} }, @KILLED_ALLOW;
            push @bad, basename($f) . ": $l";
        }
    }
    if (@bad || $always) {
        Test::More::ok(!@bad, $test_name)
            or Test::More::diag("unexpected lines (whitelist with allow_error_log(qr/.../)):\n"
                . join("\n", @bad[0 .. ($#bad > 19 ? 19 : $#bad)]));
    }
}

sub _scan_valgrind {
    my ($test_name, $always) = @_;
    local $Test::Builder::Level = _level();
    my @errs;
    for my $f (sort glob($SRV->root . '/logs/valgrind.*.log')) {
        my $pos = $VGPOS{$f} // 0;
        my $text = read_file_from($f, $pos);
        $VGPOS{$f} = $pos + length $text;
        next unless $text =~ $VG_ERR_RE;
        my @l = split /\n/, $text;
        @l = @l[0 .. 79] if @l > 80;
        push @errs, basename($f) . ":\n" . join("\n", @l);
    }
    if (@errs || $always) {
        Test::More::ok(!@errs, $test_name) or Test::More::diag(join("\n\n", @errs));
    }
}

sub _finish {
    _stop_daemons();
    _note_stop($SRV->stop) if $SRV->running;
    _scan_bad_logs("no [alert], [emerg] or sanitizer lines in error.log", 1);
    _scan_valgrind("no valgrind errors", 1) if $VALGRIND;
    my $root = $SRV->root;
    if (!_tb()->is_passing) {
        Test::More::diag("server root kept for debugging: $root");
    } elsif (!$ENV{TEST_NGINX_NO_CLEAN}) {
        remove_tree($root);
        unlink "$root.lock";
    }
    $SRV = undef;
}

sub _cleanup {
    my ($fast) = @_;
    _stop_daemons();
    if ($SRV && $SRV->running) {
        $SRV->{stop_timeout} = 3 if $fast;
        $SRV->stop;
    }
}

END {
    # A .t that died half-way must not leave nginx or daemons behind.
    my $st = $?;
    _cleanup(1) if $SRV || @DAEMONS;
    $? = $st;
}

1;
