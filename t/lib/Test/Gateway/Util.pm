package Test::Gateway::Util;

# Small helpers shared by the Test::Gateway harness: $TEST_NGINX_* expansion,
# process inspection through /proc, free-port picking, byte dumps and the
# recursive JSON subset match used by ws_script's `< json`.

use strict;
use warnings;

use Exporter 'import';
use IO::Socket::INET;
use Socket qw(IPPROTO_TCP TCP_NODELAY);
use Time::HiRes qw(time sleep);
use POSIX ();
use Fcntl ();
use JSON::PP ();

our @EXPORT_OK = qw(
    expand_env free_port wait_port connect_tcp parse_duration
    proc_alive proc_children proc_cmdline kill_and_wait proc_group kill_group
    printable hexstr tail_text read_file_from file_size
    json_subset_mismatch json_path_get
    run_shell
);

# Replace $TEST_NGINX_FOO and ${TEST_NGINX_FOO} with the environment value.
# An undefined variable is an error: a silent empty string would make a
# config or a client command do something else than what the test says.
sub expand_env {
    my ($text, $where) = @_;
    return $text unless defined $text;
    $text =~ s{\$(?:\{(TEST_NGINX_\w+)\}|(TEST_NGINX_\w+))}{
        my $n = defined $1 ? $1 : $2;
        defined $ENV{$n} ? $ENV{$n}
            : die "environment variable $n (used in "
                  . ($where // 'a section') . ") is not defined\n";
    }ge;
    return $text;
}

# A free port for a listener, chosen OUTSIDE the kernel's ephemeral range
# (ip_local_port_range): a port from that range can be taken at any moment
# as the source port of some outgoing connection (nginx to a backend, a
# client to nginx), and then a restart of our listener fails with
# EADDRINUSE. Concurrent test files (prove -j) are kept apart by a flock on
# a per-port lock file, held until this process exits (the lock fd is
# close-on-exec, so nginx and clients do not inherit it).
my @PORT_LOCKS;

sub free_port {
    my ($elo, $ehi) = (32768, 60999);
    if (open my $fh, '<', '/proc/sys/net/ipv4/ip_local_port_range') {
        my $l = <$fh> // '';
        ($elo, $ehi) = ($1, $2) if $l =~ /(\d+)\s+(\d+)/;
        close $fh;
    }
    my ($lo, $hi) = $elo > 12000 ? (10000, $elo - 1) : ($ehi + 1, 65000);
    my $dir = ($ENV{TMPDIR} || '/tmp') . '/test-gateway-ports';
    mkdir $dir;
    for (1 .. 500) {
        my $p = $lo + int rand($hi - $lo + 1);
        open my $lk, '>', "$dir/$p.lock" or next;
        unless (flock $lk, Fcntl::LOCK_EX() | Fcntl::LOCK_NB()) { close $lk; next }
        my $s = IO::Socket::INET->new(
            LocalAddr => '127.0.0.1', LocalPort => $p, Proto => 'tcp',
            Listen => 1, ReuseAddr => 1,
        );
        unless ($s) { close $lk; next }
        close $s;
        push @PORT_LOCKS, $lk;
        return $p;
    }
    # Fallback: any port the kernel gives us.
    my $s = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp',
        Listen => 1, ReuseAddr => 1,
    ) or die "cannot bind a free port: $!\n";
    my $p = $s->sockport;
    close $s;
    return $p;
}

sub connect_tcp {
    my ($port, $timeout, $host) = @_;
    my $s = IO::Socket::INET->new(
        PeerAddr => $host // '127.0.0.1', PeerPort => $port,
        Proto => 'tcp', Timeout => $timeout // 2,
    ) or return;
    setsockopt($s, IPPROTO_TCP, TCP_NODELAY, 1);
    binmode $s;
    return $s;
}

# Wait until a TCP port (or a unix socket path) accepts connections.
# $alive, when given, is called between tries; returning false aborts early.
sub wait_port {
    my ($port, $timeout, $alive) = @_;
    my $deadline = time + $timeout;
    while (1) {
        my $s;
        if ($port =~ m{^/} || $port =~ /^unix:/) {
            (my $path = $port) =~ s/^unix://;
            require IO::Socket::UNIX;
            $s = IO::Socket::UNIX->new(Peer => $path, Type => Socket::SOCK_STREAM());
        } else {
            $s = connect_tcp($port, 1);
        }
        if ($s) { close $s; return 1 }
        return 0 if $alive && !$alive->();
        return 0 if time > $deadline;
        sleep 0.02;
    }
}

# "10", "0.5", "500ms", "2s" -> seconds.
sub parse_duration {
    my ($v, $default) = @_;
    return $default unless defined $v && length $v;
    $v =~ s/^\s+|\s+$//g;
    return $1 / 1000 if $v =~ /^(\d+(?:\.\d+)?)ms$/;
    return $1 if $v =~ /^(\d+(?:\.\d+)?)s?$/;
    die "invalid duration '$v'\n";
}

sub _stat {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/stat" or return;
    my $l = <$fh>;
    close $fh;
    return unless defined $l;
    # "pid (comm) S ppid ..."; comm may contain spaces and parentheses.
    my $r = rindex($l, ')');
    return if $r < 0;
    my @f = split ' ', substr($l, $r + 2);
    return { state => $f[0], ppid => $f[1], pgrp => $f[2], start => $f[19] };
}

# Alive = exists and is not a zombie (nothing may reap a daemonized nginx in
# a container whose init does not wait for orphans).
sub proc_alive {
    my ($pid) = @_;
    return 0 unless $pid && $pid =~ /^\d+$/;
    my $st = _stat($pid) or return 0;
    return $st->{state} !~ /^[ZX]/;
}

sub proc_cmdline {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/cmdline" or return '';
    local $/;
    my $c = <$fh> // '';
    close $fh;
    $c =~ s/\0+$//;
    $c =~ s/\0/ /g;
    return $c;
}

# Live children of $ppid: list of { pid, cmd, start (clock ticks since boot) }.
sub proc_children {
    my ($ppid) = @_;
    my @r;
    opendir my $d, '/proc' or return;
    for my $pid (sort { $a <=> $b } grep /^\d+$/, readdir $d) {
        my $st = _stat($pid) or next;
        next unless $st->{ppid} == $ppid && $st->{state} !~ /^[ZX]/;
        push @r, { pid => $pid, cmd => proc_cmdline($pid), start => $st->{start} };
    }
    closedir $d;
    return @r;
}

# Live processes of process group $pgid.
sub proc_group {
    my ($pgid) = @_;
    my @r;
    opendir my $d, '/proc' or return;
    for my $pid (grep /^\d+$/, readdir $d) {
        my $st = _stat($pid) or next;
        push @r, $pid if $st->{pgrp} == $pgid && $st->{state} !~ /^[ZX]/;
    }
    closedir $d;
    return @r;
}

# Stop a whole process group: TERM, wait up to $grace seconds, KILL, and
# wait until no member is left (a dying member may still hold a listening
# socket, so "signal sent" is not "gone"). Reaps $pgid if it is our child.
sub kill_group {
    my ($pgid, $grace) = @_;
    kill 'TERM', -$pgid;
    my $deadline = time + ($grace // 2);
    while (time < $deadline) {
        waitpid($pgid, POSIX::WNOHANG());
        return 1 unless proc_group($pgid);
        sleep 0.01;
    }
    kill 'KILL', -$pgid;
    $deadline = time + 5;
    while (time < $deadline) {
        waitpid($pgid, POSIX::WNOHANG());
        return 1 unless proc_group($pgid);
        sleep 0.01;
    }
    return 0;
}

# Send $sig, reap if it is our child, wait until gone. Returns 1 if gone.
sub kill_and_wait {
    my ($pid, $sig, $timeout) = @_;
    return 1 unless proc_alive($pid);
    kill $sig, $pid;
    my $deadline = time + $timeout;
    while (time < $deadline) {
        waitpid($pid, POSIX::WNOHANG());
        return 1 unless proc_alive($pid);
        sleep 0.02;
    }
    waitpid($pid, POSIX::WNOHANG());
    return !proc_alive($pid);
}

# A byte string as a readable Perl-ish literal, cut at $max bytes.
sub printable {
    my ($s, $max) = @_;
    return 'undef' unless defined $s;
    $max //= 200;
    my $cut = length($s) > $max;
    my $t = $cut ? substr($s, 0, $max) : $s;
    $t =~ s/([\\"])/\\$1/g;
    $t =~ s/\n/\\n/g;
    $t =~ s/\r/\\r/g;
    $t =~ s/\t/\\t/g;
    $t =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord $1)/ge;
    return qq{"$t"} . ($cut ? sprintf('...(%d bytes)', length $s) : '');
}

sub hexstr {
    my ($s, $max) = @_;
    $max //= 64;
    my $cut = length($s) > $max;
    my $h = unpack('H*', $cut ? substr($s, 0, $max) : $s);
    return "hex:$h" . ($cut ? sprintf('...(%d bytes)', length $s) : '');
}

sub tail_text {
    my ($text, $lines) = @_;
    $lines //= 30;
    my @l = split /\n/, $text // '';
    @l = @l[-$lines .. -1] if @l > $lines;
    return join("\n", @l) . (@l ? "\n" : '');
}

sub file_size { my $s = -s $_[0]; return $s // 0 }

sub read_file_from {
    my ($path, $pos) = @_;
    open my $fh, '<:raw', $path or return '';
    seek $fh, $pos // 0, 0;
    local $/;
    my $d = <$fh> // '';
    close $fh;
    return $d;
}

# Recursive subset match. Returns undef on match, or "at PATH: why".
# Expected objects: every key must exist in actual and match; arrays: same
# length, elementwise; a string "/re/" (length >= 2) is a Perl regex matched
# against the actual scalar; numbers compare numerically; booleans as
# booleans; null only matches null.
sub json_subset_mismatch {
    my ($exp, $act, $path) = @_;
    $path //= '$';
    my $enc = JSON::PP->new->canonical->allow_nonref;
    my $show = sub { my $v = shift; my $j = eval { $enc->encode($v) } // "$v"; length $j > 200 ? substr($j, 0, 200) . '...' : $j };
    if (ref $exp eq 'HASH') {
        return "at $path: expected an object, got " . $show->($act) unless ref $act eq 'HASH';
        for my $k (sort keys %$exp) {
            return "at $path: key \"$k\" missing (have: " . join(',', sort keys %$act) . ")"
                unless exists $act->{$k};
            my $m = json_subset_mismatch($exp->{$k}, $act->{$k}, "$path.$k");
            return $m if defined $m;
        }
        return undef;
    }
    if (ref $exp eq 'ARRAY') {
        return "at $path: expected an array, got " . $show->($act) unless ref $act eq 'ARRAY';
        return sprintf("at %s: expected %d array elements, got %d: %s", $path, scalar @$exp, scalar @$act, $show->($act))
            unless @$exp == @$act;
        for my $i (0 .. $#$exp) {
            my $m = json_subset_mismatch($exp->[$i], $act->[$i], "$path\[$i]");
            return $m if defined $m;
        }
        return undef;
    }
    if (JSON::PP::is_bool($exp)) {
        return "at $path: expected " . ($exp ? 'true' : 'false') . ", got " . $show->($act)
            unless JSON::PP::is_bool($act) && (!!$exp == !!$act);
        return undef;
    }
    if (!defined $exp) {
        return "at $path: expected null, got " . $show->($act) if defined $act;
        return undef;
    }
    # Decide number-ness before anything stringifies the values (that sets
    # the string flag and would make numbers look like strings).
    my $exp_num = _is_json_number($exp);
    my $act_num = _is_json_number($act);
    return "at $path: expected " . $show->($exp) . ", got " . $show->($act)
        if !defined $act || ref $act || JSON::PP::is_bool($act);
    if (!$exp_num && $exp =~ m{\A/(.*)/\z}s) {
        my $re = $1;
        return "at $path: " . $show->($act) . " does not match /$re/" unless "$act" =~ /$re/;
        return undef;
    }
    if ($exp_num) {
        return "at $path: expected number $exp, got " . ($act_num ? '' : 'string ') . $show->($act)
            unless $act_num && $exp == $act;
        return undef;
    }
    return "at $path: expected string " . $show->($exp) . ", got " . ($act_num ? 'number ' : '') . $show->($act)
        unless !$act_num && $exp eq $act;
    return undef;
}

# True if JSON::PP decoded this scalar from a JSON number.
sub _is_json_number {
    my ($v) = @_;
    return 0 if !defined $v || ref $v;
    my $b = B::svref_2object(\$v);
    my $f = $b->FLAGS;
    return ($f & (B::SVp_IOK() | B::SVp_NOK())) && !($f & B::SVp_POK()) ? 1 : 0;
}
require B;

# ${name.a.b.0.c} lookup in a saved decoded JSON value.
sub json_path_get {
    my ($root, @path) = @_;
    my $v = $root;
    for my $k (@path) {
        if (ref $v eq 'HASH') {
            die "no key \"$k\"\n" unless exists $v->{$k};
            $v = $v->{$k};
        } elsif (ref $v eq 'ARRAY') {
            die "\"$k\" is not an array index\n" unless $k =~ /^-?\d+$/;
            die "index $k out of range\n" if $k >= @$v || -$k > @$v;
            $v = $v->[$k];
        } else {
            die "cannot descend into a scalar with \"$k\"\n";
        }
    }
    return $v;
}

# Run a shell command in its own process group, cwd $dir, output merged
# into $outfile; kill the group after $timeout. Returns (exit status or -1 on
# timeout, output text).
sub run_shell {
    my (%a) = @_;
    my $out = $a{outfile};
    my $pid = fork // die "fork: $!\n";
    if (!$pid) {
        POSIX::setpgid(0, 0);
        chdir $a{dir} if defined $a{dir};
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $out or POSIX::_exit(127);
        open STDERR, '>&', \*STDOUT;
        { exec '/bin/sh', '-c', $a{command} };
        POSIX::_exit(127);
    }
    POSIX::setpgid($pid, $pid);
    my $deadline = time + $a{timeout};
    my $status;
    while (1) {
        my $r = waitpid($pid, POSIX::WNOHANG());
        if ($r == $pid) { $status = $?; last }
        if (time > $deadline) {
            kill_group($pid, 2);
            waitpid($pid, 0);
            $status = -1;
            last;
        }
        sleep 0.01;
    }
    # Leftover background children of the command must not outlive it.
    kill_group($pid, 0.5) if proc_group($pid);
    my $text = read_file_from($out, 0);
    return ($status, $text);
}

1;
