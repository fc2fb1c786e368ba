package Test::Gateway::EchoServer;

# A tiny WebSocket echo backend for harness self-tests, run as a `--- daemon`:
#
#   perl t/lib/Test/Gateway/EchoServer.pm PORT
#
# One forked process per connection. A plain HTTP request (no Upgrade) gets
# "200 backend ok". After the handshake every data frame is echoed back as is
# (same opcode, FIN and RSV, unmasked), pings get pongs, a close frame is
# echoed and the TCP connection closed. Text messages starting with "cmd:"
# are commands instead of being echoed:
#   cmd:hex:HEX         write these raw bytes to the client
#   cmd:chop:HEX        write them one byte at a time, 5 ms apart
#   cmd:close           close the TCP connection without a close frame

use strict;
use warnings;

use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(sleep);

use FindBin ();
use lib "$FindBin::RealBin/../..";
use Test::Gateway::WS qw(encode_frame parse_frame ws_accept);

sub run {
    my ($port) = @_;
    die "usage: EchoServer.pm PORT\n" unless $port && $port =~ /^\d+$/;
    $SIG{CHLD} = 'IGNORE';
    $SIG{PIPE} = 'IGNORE';
    my $l = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1', LocalPort => $port, Listen => 128,
        ReuseAddr => 1, Proto => 'tcp',
    ) or die "echo backend: cannot listen on $port: $!\n";
    while (1) {
        my $c = $l->accept or next;
        my $pid = fork;
        if (defined $pid && $pid == 0) {
            close $l;
            eval { serve($c) };
            POSIX::_exit(0);
        }
        close $c;
    }
}

sub _read {
    my ($c, $buf) = @_;
    my $n = sysread($c, my $chunk, 65536);
    return 0 unless $n;
    $$buf .= $chunk;
    return 1;
}

sub serve {
    my ($c) = @_;
    binmode $c;
    my $buf = '';
    while ($buf !~ /\r\n\r\n/) {
        return unless _read($c, \$buf);
    }
    my $i = index($buf, "\r\n\r\n");
    my $head = substr($buf, 0, $i + 4, '');
    my ($key) = $head =~ /^Sec-WebSocket-Key:\s*(\S+)/mi;
    unless ($head =~ /^Upgrade:\s*websocket/mi && $key) {
        syswrite $c, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nConnection: close\r\n\r\nbackend ok\n";
        return;
    }
    my $proto = $head =~ /^Sec-WebSocket-Protocol:\s*([^,\s]+)/mi ? "Sec-WebSocket-Protocol: $1\r\n" : '';
    syswrite $c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        . "Connection: Upgrade\r\nSec-WebSocket-Accept: " . ws_accept($key) . "\r\n$proto\r\n";
    while (1) {
        while (my $f = parse_frame(\$buf)) {
            my $op = $f->{op};
            if ($op == 8) {
                syswrite $c, encode_frame(op => 8, payload => $f->{payload}, mask => 0);
                return;
            }
            if ($op == 9) {
                syswrite $c, encode_frame(op => 10, payload => $f->{payload}, mask => 0);
                next;
            }
            next if $op == 10;
            if ($op == 1 && $f->{fin} && $f->{payload} =~ /^cmd:(\w+):?(.*)$/s) {
                my ($cmd, $arg) = ($1, $2);
                return if $cmd eq 'close';
                my $bytes = pack('H*', $arg);
                if ($cmd eq 'chop') {
                    for my $b (split //, $bytes) {
                        syswrite $c, $b;
                        sleep 0.005;
                    }
                } else {
                    syswrite $c, $bytes;
                }
                next;
            }
            syswrite $c, encode_frame(op => $op, fin => $f->{fin}, rsv => $f->{rsv},
                                      payload => $f->{payload}, mask => 0);
        }
        return unless _read($c, \$buf);
    }
}

run(@ARGV) unless caller;

1;
