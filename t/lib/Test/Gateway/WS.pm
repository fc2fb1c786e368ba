package Test::Gateway::WS;

# RFC 6455 framing written by hand (so invalid frames can be built byte for
# byte) and a small blocking client connection with deadline-based reads.
# Used by the ws_script interpreter (Test::Gateway::WSScript) and by the
# self-test echo backend (Test::Gateway::EchoServer).

use strict;
use warnings;

use Exporter 'import';
use Digest::SHA qw(sha1);
use MIME::Base64 qw(encode_base64);
use IO::Select;
use Socket qw(SOL_SOCKET SO_SNDTIMEO SO_LINGER);
use Time::HiRes qw(time sleep);
use Errno ();

use Test::Gateway::Util qw(connect_tcp printable hexstr);

our @EXPORT_OK = qw(
    encode_frame parse_frame describe_frame op_name op_code ws_accept
    random_bytes mask_bytes
);

my %OP = (cont => 0, continuation => 0, text => 1, binary => 2,
          close => 8, ping => 9, pong => 10);
my %OPNAME = (0 => 'cont', 1 => 'text', 2 => 'binary', 8 => 'close',
              9 => 'ping', 10 => 'pong');

sub op_code {
    my ($v) = @_;
    return $OP{lc $v} if exists $OP{lc $v};
    return hex($1) if $v =~ /^0x([0-9a-f]+)$/i;
    return $v + 0 if $v =~ /^\d+$/ && $v < 16;
    die "unknown opcode '$v'\n";
}

sub op_name { my ($o) = @_; return $OPNAME{$o} // "op=$o" }

sub ws_accept {
    my ($key) = @_;
    my $a = encode_base64(sha1($key . '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'), '');
    return $a;
}

sub random_bytes {
    my ($n) = @_;
    my $b = '';
    if (open my $fh, '<:raw', '/dev/urandom') {
        read $fh, $b, $n;
        close $fh;
    }
    $b .= chr(int rand 256) while length $b < $n;
    return $b;
}

sub mask_bytes {
    my ($payload, $key) = @_;
    return '' unless length $payload;
    my $k = substr($key x (int(length($payload) / 4) + 1), 0, length $payload);
    return "$payload" ^ $k;
}

# encode_frame(op => 1, payload => "x", fin => 1, rsv => 0, mask => 1,
#              key => "\x01\x02\x03\x04", len => N (lie), lenfmt => 7|16|64)
# rsv is the 3-bit value RSV1<<2 | RSV2<<1 | RSV3.
sub encode_frame {
    my (%f) = @_;
    my $payload = $f{payload} // '';
    utf8::downgrade($payload, 1) or utf8::encode($payload);
    my $fin = $f{fin} // 1;
    my $rsv = $f{rsv} // 0;
    my $op = $f{op} // 1;
    my $mask = $f{mask} // 1;
    my $len = $f{len} // length $payload;
    my $fmt = $f{lenfmt} || ($len < 126 ? 7 : $len < 65536 ? 16 : 64);
    die "len=$len does not fit the 7-bit length field\n" if $fmt == 7 && $len > 125;
    die "len=$len does not fit the 16-bit length field\n" if $fmt == 16 && $len > 65535;
    my $b0 = (($fin ? 1 : 0) << 7) | (($rsv & 7) << 4) | ($op & 15);
    my $b1 = ($mask ? 0x80 : 0) | ($fmt == 7 ? $len : $fmt == 16 ? 126 : 127);
    my $h = pack('CC', $b0, $b1);
    $h .= pack('n', $len) if $fmt == 16;
    $h .= pack('Q>', $len) if $fmt == 64;
    if ($mask) {
        my $key = $f{key} // random_bytes(4);
        die "mask key must be 4 bytes\n" unless length $key == 4;
        return $h . $key . mask_bytes($payload, $key);
    }
    return $h . $payload;
}

# Parse one frame from the front of $$buf. Returns undef if incomplete,
# else a hashref and removes the bytes. Masked payloads are unmasked.
sub parse_frame {
    my ($buf) = @_;
    return undef if length $$buf < 2;
    my ($b0, $b1) = unpack('CC', $$buf);
    my $len = $b1 & 0x7f;
    my $off = 2;
    if ($len == 126) {
        return undef if length $$buf < 4;
        $len = unpack('n', substr($$buf, 2, 2));
        $off = 4;
    } elsif ($len == 127) {
        return undef if length $$buf < 10;
        $len = unpack('Q>', substr($$buf, 2, 8));
        $off = 10;
    }
    my $masked = $b1 & 0x80 ? 1 : 0;
    my $key;
    if ($masked) {
        return undef if length $$buf < $off + 4;
        $key = substr($$buf, $off, 4);
        $off += 4;
    }
    return undef if length $$buf < $off + $len;
    my $payload = substr($$buf, $off, $len);
    substr($$buf, 0, $off + $len, '');
    $payload = mask_bytes($payload, $key) if $masked;
    return {
        fin => $b0 >> 7, rsv => ($b0 >> 4) & 7, op => $b0 & 15,
        mask => $masked, key => $key, len => $len, payload => $payload,
    };
}

sub describe_frame {
    my ($f) = @_;
    return 'EOF' . ($f->{err} ? " ($f->{err})" : '')
        . ($f->{partial} ? sprintf(' after %d bytes of an incomplete frame: %s', length $f->{partial}, hexstr($f->{partial}, 32)) : '')
        if $f->{eof};
    my $d = op_name($f->{op});
    $d .= " fin=$f->{fin}" unless $f->{fin} == 1;
    $d .= " rsv=$f->{rsv}" if $f->{rsv};
    $d .= " mask=1" if $f->{mask};
    my $p = $f->{payload};
    if ($f->{op} == 8 && length $p >= 2) {
        $d .= ' ' . unpack('n', $p);
        $d .= ' ' . printable(substr($p, 2), 80) if length $p > 2;
        return $d;
    }
    $d .= " len=" . length $p if length $p > 80;
    if ($f->{op} == 2 || $p =~ /[^\x09\x0a\x0d\x20-\x7e\x80-\xff]/ || (length $p && !utf8::decode(my $c = $p))) {
        $d .= ' ' . hexstr($p, 48);
    } else {
        $d .= ' ' . printable($p, 160);
    }
    return $d;
}

#
# Client connection
#

sub open_conn {
    my ($class, %a) = @_;
    my $sock;
    my $timeout = $a{timeout} // 10;
    if ($a{tls}) {
        require IO::Socket::SSL;
        $sock = IO::Socket::SSL->new(
            PeerAddr => '127.0.0.1', PeerPort => $a{port},
            SSL_verify_mode => 0, SSL_hostname => 'localhost',
            Timeout => $timeout,
        ) or die "TLS connect to port $a{port} failed: "
                 . (IO::Socket::SSL::errstr() || $!) . "\n";
        setsockopt($sock, Socket::IPPROTO_TCP(), Socket::TCP_NODELAY(), 1);
    } else {
        $sock = connect_tcp($a{port}, $timeout)
            or die "connect to 127.0.0.1:$a{port} failed: $!\n";
    }
    binmode $sock;
    # A peer that stops reading must not hang a write forever.
    my $st = int($timeout) || 1;
    setsockopt($sock, SOL_SOCKET, SO_SNDTIMEO, pack('l!l!', $st, 0));
    return bless { sock => $sock, buf => '', eof => 0, tls => $a{tls},
                   name => $a{name} // '' }, $class;
}

# Wait for data until $deadline; append to buf. Returns 1 on data or EOF,
# 0 on timeout.
sub fill {
    my ($self, $deadline) = @_;
    return 1 if $self->{eof};
    my $s = $self->{sock};
    my $ready = ($self->{tls} && $s->pending) ? 1 : 0;
    unless ($ready) {
        my $left = $deadline - time;
        $left = 0 if $left < 0;
        $ready = IO::Select->new($s)->can_read($left) ? 1 : 0;
    }
    return 0 unless $ready;
    my $n = sysread($s, my $chunk, 262144);
    if (!defined $n) {
        return 0 if $!{EAGAIN} || $!{EINTR}
            || ($self->{tls} && $IO::Socket::SSL::SSL_ERROR
                && $IO::Socket::SSL::SSL_ERROR == IO::Socket::SSL::SSL_WANT_READ());
        $self->{eof} = 1;
        $self->{err} = "$!";
        return 1;
    }
    if ($n == 0) {
        $self->{eof} = 1;
        return 1;
    }
    $self->{buf} .= $chunk;
    return 1;
}

# Next frame, {eof=>1,...} on EOF, undef on timeout.
sub next_frame {
    my ($self, $deadline) = @_;
    while (1) {
        my $f = parse_frame(\$self->{buf});
        return $f if $f;
        if ($self->{eof}) {
            return { eof => 1, err => $self->{err}, partial => $self->{buf} };
        }
        return undef unless $self->fill($deadline);
    }
}

# Write all bytes; chop into $chop-byte pieces with $delay seconds between.
# Returns undef on success, or the error text (write errors are reported,
# not fatal: the server may legitimately have closed the connection).
sub write_bytes {
    my ($self, $bytes, $chop, $delay) = @_;
    my $s = $self->{sock};
    my @pieces;
    if ($chop && $chop > 0) {
        for (my $i = 0; $i < length $bytes; $i += $chop) {
            push @pieces, substr($bytes, $i, $chop);
        }
    } else {
        @pieces = ($bytes);
    }
    my $first = 1;
    for my $p (@pieces) {
        sleep($delay // 0.001) if !$first && $chop;
        $first = 0;
        my $off = 0;
        while ($off < length $p) {
            my $n = syswrite($s, $p, length($p) - $off, $off);
            if (!defined $n) {
                next if $!{EINTR};
                return "write failed: " . ($! || 'unknown error');
            }
            $off += $n;
        }
    }
    return undef;
}

# Client side of the opening handshake. %a: path, headers (list of
# [name, value]), expect_status (default 101), deadline.
# Returns undef on success or an error string; the response is kept in
# $self->{status}, $self->{headers} (lowercased name => [values]),
# $self->{response_head}.
sub handshake {
    my ($self, %a) = @_;
    my $key = encode_base64(random_bytes(16), '');
    my @h = (
        [Host => 'localhost'],
        [Upgrade => 'websocket'],
        [Connection => 'Upgrade'],
        ['Sec-WebSocket-Key' => $key],
        ['Sec-WebSocket-Version' => '13'],
    );
    for my $uh (@{ $a{headers} || [] }) {
        my ($n, $v) = @$uh;
        if ($n =~ s/^!//) {
            @h = grep { lc $_->[0] ne lc $n } @h;
            next;
        }
        my ($slot) = grep { lc $_->[0] eq lc $n } @h;
        if ($slot && !$slot->[2]) {
            $slot->[1] = $v;
            $slot->[2] = 1;
        } else {
            push @h, [$n, $v, 1];
        }
        $key = $v if lc $n eq 'sec-websocket-key';
    }
    my $req = "GET $a{path} HTTP/1.1\r\n"
        . join('', map { "$_->[0]: $_->[1]\r\n" } @h) . "\r\n";
    my $err = $self->write_bytes($req);
    return "sending the handshake: $err" if $err;
    while ($self->{buf} !~ /\r\n\r\n/) {
        return "EOF before the handshake response was complete; got "
            . printable($self->{buf}) if $self->{eof};
        return "timeout waiting for the handshake response; got "
            . printable($self->{buf}) unless $self->fill($a{deadline});
    }
    my $i = index($self->{buf}, "\r\n\r\n");
    my $head = substr($self->{buf}, 0, $i + 4, '');
    $self->{response_head} = $head;
    my ($status_line, @lines) = split /\r\n/, $head;
    my ($status) = $status_line =~ m{^HTTP/1\.[01] (\d{3})};
    return "bad status line " . printable($status_line) unless defined $status;
    $self->{status} = $status;
    my %hd;
    for my $l (@lines) {
        next unless $l =~ /^([^:]+):\s*(.*?)\s*$/;
        push @{ $hd{lc $1} }, $2;
    }
    $self->{headers} = \%hd;
    my $want = $a{expect_status} // 101;
    return "expected status $want, got $status; response head:\n$head"
        unless $status == $want;
    return undef unless $status == 101;
    my $acc = join(',', @{ $hd{'sec-websocket-accept'} || [] });
    my $exp = ws_accept($key);
    return "bad Sec-WebSocket-Accept '$acc' (expected '$exp'); response head:\n$head"
        unless $acc eq $exp;
    return "missing 'Upgrade: websocket' in the 101 response:\n$head"
        unless grep { lc($_) eq 'websocket' } @{ $hd{upgrade} || [] };
    return "missing 'Connection: upgrade' in the 101 response:\n$head"
        unless grep { /\bupgrade\b/i } @{ $hd{connection} || [] };
    return undef;
}

sub header_values {
    my ($self, $name) = @_;
    return @{ $self->{headers}{lc $name} || [] };
}

sub shutdown_write {
    my ($self) = @_;
    shutdown($self->{sock}, 1);
}

sub reset_conn {
    my ($self) = @_;
    setsockopt($self->{sock}, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0));
    $self->disconnect;
}

sub disconnect {
    my ($self) = @_;
    return unless $self->{sock};
    if ($self->{tls}) {
        $self->{sock}->close(SSL_no_shutdown => 1, SSL_fast_shutdown => 1);
    } else {
        CORE::close($self->{sock});
    }
    delete $self->{sock};
}

1;
