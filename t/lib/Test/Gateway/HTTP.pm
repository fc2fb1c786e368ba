package Test::Gateway::HTTP;

# Send a request (bytes, or a list of chunks with a delay between them) over
# plain TCP or TLS, read until EOF or timeout, and parse the first response.

use strict;
use warnings;

use IO::Select;
use Time::HiRes qw(time sleep);

use Test::Gateway::Util qw(connect_tcp);

# %a: port, tls, chunks (array of byte strings), delay, timeout, head,
#     idle (seconds of silence that end the read after a 101)
# Returns { raw, status, status_line, headers => {lc => [values]},
#           body, timed_out, error }
sub request {
    my (%a) = @_;
    my $res = { raw => '', headers => {}, body => '' };
    my $deadline = time + $a{timeout};
    my $s;
    if ($a{tls}) {
        require IO::Socket::SSL;
        $s = IO::Socket::SSL->new(
            PeerAddr => '127.0.0.1', PeerPort => $a{port},
            SSL_verify_mode => 0, SSL_hostname => 'localhost',
            Timeout => $a{timeout},
        );
        unless ($s) {
            $res->{error} = "TLS connect to port $a{port} failed: "
                . (IO::Socket::SSL::errstr() || $!);
            return $res;
        }
    } else {
        $s = connect_tcp($a{port}, $a{timeout});
        unless ($s) {
            $res->{error} = "connect to 127.0.0.1:$a{port} failed: $!";
            return $res;
        }
    }
    binmode $s;
    my @chunks = @{ $a{chunks} };
    for my $i (0 .. $#chunks) {
        sleep($a{delay} // 0.05) if $i;
        my $d = $chunks[$i];
        my $off = 0;
        while ($off < length $d) {
            my $n = syswrite($s, $d, length($d) - $off, $off);
            if (!defined $n) {
                next if $!{EINTR};
                # The server may answer and close before reading it all.
                $res->{write_error} = "$!";
                last;
            }
            $off += $n;
        }
        last if $res->{write_error};
    }
    my $sel = IO::Select->new($s);
    my $idle_after;    # set once a 101 header is complete
    while (1) {
        my $left = $deadline - time;
        $left = $idle_after if defined $idle_after && $idle_after < $left;
        my $ready = ($a{tls} && $s->pending) || $sel->can_read(_max(0, $left));
        unless ($ready) {
            $res->{timed_out} = 1 unless defined $idle_after;
            last;
        }
        my $n = sysread($s, my $buf, 65536);
        if (!defined $n) {
            next if $!{EINTR} || $!{EAGAIN};
            $res->{read_error} = "$!" unless $!{ECONNRESET} && length $res->{raw};
            last;
        }
        last if $n == 0;
        $res->{raw} .= $buf;
        my $c = complete($res->{raw}, $a{head});
        last if $c eq 'done';
        $idle_after = $a{idle} // 0.5 if $c eq 'upgraded';
    }
    close $s;
    parse($res, $a{head});
    return $res;
}

sub _max { $_[0] > $_[1] ? $_[0] : $_[1] }

# Is the first response in $raw complete? '' (no), 'done', or 'upgraded'
# (a 101: what follows is a WebSocket stream; the caller reads on until EOF
# or until the connection has been idle for a moment).
sub complete {
    my ($raw, $head_only) = @_;
    my $i = index($raw, "\r\n\r\n");
    return '' if $i < 0;
    my $head = substr($raw, 0, $i);
    my ($st) = $head =~ m{^HTTP/\d\.\d\s+(\d{3})};
    return '' unless defined $st;
    return 'upgraded' if $st == 101;
    return 'done' if $head_only || $st == 204 || $st == 304 || $st < 200;
    my $rest = length($raw) - $i - 4;
    if ($head =~ /^Transfer-Encoding:[^\r\n]*\bchunked\b/mi) {
        my $body = substr($raw, $i + 4);
        while ($body =~ s/\A([0-9a-fA-F]+)[^\r\n]*\r\n//) {
            my $len = hex $1;
            return $body =~ /\A\r\n/ || $body =~ /\r\n\r\n/ ? 'done' : '' if $len == 0;
            return '' if length $body < $len + 2;
            substr($body, 0, $len + 2, '');
        }
        return '';
    }
    if ($head =~ /^Content-Length:\s*(\d+)\s*$/mi) {
        return $rest >= $1 ? 'done' : '';
    }
    return '';
}

sub parse {
    my ($res, $head_only) = @_;
    my $raw = $res->{raw};
    my $i = index($raw, "\r\n\r\n");
    return $res if $i < 0 || $raw !~ m{^HTTP/};
    my $head = substr($raw, 0, $i);
    my $rest = substr($raw, $i + 4);
    my ($sl, @lines) = split /\r\n/, $head;
    $res->{status_line} = $sl;
    ($res->{status}) = $sl =~ m{^HTTP/\d\.\d\s+(\d{3})};
    my @list;
    for my $l (@lines) {
        next unless $l =~ /^([^:\s]+)\s*:\s*(.*?)\s*$/;
        push @{ $res->{headers}{lc $1} }, $2;
        push @list, [$1, $2];
    }
    $res->{header_list} = \@list;
    my $st = $res->{status} // 0;
    if ($head_only || $st == 204 || $st == 304 || ($st >= 100 && $st < 200 && $st != 101)) {
        $res->{body} = '';
        return $res;
    }
    if (grep { /\bchunked\b/i } @{ $res->{headers}{'transfer-encoding'} || [] }) {
        my $body = '';
        my $ok = 0;
        while ($rest =~ s/\A([0-9a-fA-F]+)[^\r\n]*\r\n//) {
            my $len = hex $1;
            if ($len == 0) { $ok = 1; last }
            last if length $rest < $len;
            $body .= substr($rest, 0, $len, '');
            $rest =~ s/\A\r\n//;
        }
        $res->{body} = $body;
        $res->{bad_chunked} = 1 unless $ok;
        return $res;
    }
    my ($cl) = @{ $res->{headers}{'content-length'} || [] };
    if (defined $cl && $cl =~ /^\d+$/ && $st != 101) {
        $res->{body} = substr($rest, 0, $cl);
        $res->{short_body} = length($rest) < $cl;
        return $res;
    }
    $res->{body} = $rest;
    return $res;
}

1;
