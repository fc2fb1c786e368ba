package Test::Gateway::WSScript;

# Interpreter for the `--- ws_script` section: a line-oriented WebSocket
# conversation. The grammar is documented in t/README.md. The whole script is
# one test assertion; a failure stops the script and names the line.

use strict;
use warnings;

use JSON::PP ();
use Time::HiRes qw(time sleep);

use Test::Gateway::WS qw(encode_frame describe_frame op_code op_name);
use Test::Gateway::Util qw(printable hexstr json_subset_mismatch json_path_get
                           parse_duration);

sub new {
    my ($class, %ctx) = @_;
    # ctx: port, tls_port, timeout, server (hup/kill_worker), shell (cb),
    #      on_worker_killed (cb)
    return bless { %ctx, conns => {}, vars => {}, transcript => [] }, $class;
}

# Run the script. Returns (ok, diag).
sub run {
    my ($self, $script) = @_;
    my @lines = split /\n/, $script;
    my $ok = 1;
    my $diag = '';
    for my $i (0 .. $#lines) {
        my $text = $lines[$i];
        $text =~ s/^\s+|\s+$//g;
        next if $text eq '' || $text =~ /^#/;
        my $n = $i + 1;
        $self->{line} = $n;
        $self->_log("L$n: $text");
        my $err = eval {
            my $line = $self->_interpolate($text);
            $self->_log("      = $line") if $line ne $text;
            $self->_exec($line);
            undef;
        } // $@;
        if ($err) {
            chomp $err;
            $ok = 0;
            $diag = "ws_script line $n: `$text`\n"
                . join('', map { "  $_\n" } split /\n/, $err);
            my @t = @{ $self->{transcript} };
            @t = @t[-25 .. -1] if @t > 25;
            $diag .= "recent ws_script transcript:\n" . join('', map { "  $_\n" } @t);
            last;
        }
    }
    $_->disconnect for values %{ $self->{conns} };
    $self->{conns} = {};
    return ($ok, $diag);
}

sub transcript { @{ $_[0]{transcript} } }

sub _log { push @{ $_[0]{transcript} }, $_[1] }

# ${name} / ${name.path.to.field} from json_save; \${ is left alone.
sub _interpolate {
    my ($self, $text) = @_;
    my $var_re = qr/(?<!\\)\$\{(\w+)((?:\.[^.\}\s]+)*)\}/;
    $text =~ s{$var_re}{
        my ($name, $path) = ($1, $2);
        die "\${$name$path}: no saved value named '$name' (json_save NAME ... defines one)\n"
            unless exists $self->{vars}{$name};
        my @p = grep { length } split /\./, $path;
        my $v = eval { json_path_get($self->{vars}{$name}, @p) };
        die "\${$name$path}: $@" if $@;
        ref $v || JSON::PP::is_bool($v) || !defined $v
            ? JSON::PP->new->canonical->allow_nonref->encode($v) : $v;
    }ge;
    return $text;
}

#
# Tiny cursor parser over one line
#

sub _c { my $s = shift; return { s => $s } }

sub _skip_ws { $_[0]{s} =~ /\G\s+/gc; 1 }

sub _at_end {
    my ($c) = @_;
    _skip_ws($c);
    return (pos($c->{s}) // 0) >= length $c->{s};
}

sub _rest {
    my ($c) = @_;
    _skip_ws($c);
    $c->{s} =~ /\G(.*)\z/gcs;
    return $1 // '';
}

sub _expect_end {
    my ($c) = @_;
    return if _at_end($c);
    my $p = pos($c->{s}) // 0;
    die "unexpected text at column " . ($p + 1) . ": " . substr($c->{s}, $p) . "\n";
}

sub _word {
    my ($c) = @_;
    _skip_ws($c);
    return $c->{s} =~ /\G(\S+)/gc ? $1 : undef;
}

sub _peek_re {
    my ($c, $re) = @_;
    my $p = pos($c->{s}) // 0;
    _skip_ws($c);
    my $ok = $c->{s} =~ /\G$re/gc;
    pos($c->{s}) = $p;
    return $ok;
}

sub _utf8_raw {
    my ($cp) = @_;
    return chr($cp) if $cp < 0x80;
    return pack('C2', 0xC0 | ($cp >> 6), 0x80 | ($cp & 0x3F)) if $cp < 0x800;
    return pack('C3', 0xE0 | ($cp >> 12), 0x80 | (($cp >> 6) & 0x3F), 0x80 | ($cp & 0x3F))
        if $cp < 0x10000;
    return pack('C4', 0xF0 | ($cp >> 18), 0x80 | (($cp >> 12) & 0x3F),
                0x80 | (($cp >> 6) & 0x3F), 0x80 | ($cp & 0x3F)) if $cp < 0x200000;
    die "code point $cp too large\n";
}

# A literal byte string: "..." | '...' | hex:... | rep:N:LITERAL, joined by +.
# Returns undef (and leaves pos) if no literal starts here.
sub _literal {
    my ($c) = @_;
    _skip_ws($c);
    my $v = _literal1($c);
    return undef unless defined $v;
    while ($c->{s} =~ /\G\s*\+\s*/gc) {
        my $w = _literal1($c);
        die "expected a literal after '+'\n" unless defined $w;
        $v .= $w;
    }
    return $v;
}

sub _literal1 {
    my ($c) = @_;
    my $s = \$c->{s};
    if ($$s =~ /\G"/gc) {
        my $out = '';
        while (1) {
            if ($$s =~ /\G([^"\\]+)/gc) { $out .= $1; next }
            if ($$s =~ /\G"/gc) { last }
            if ($$s =~ /\G\\x([0-9a-fA-F]{2})/gc) { $out .= chr hex $1; next }
            if ($$s =~ /\G\\u\{([0-9a-fA-F]+)\}/gc) { $out .= _utf8_raw(hex $1); next }
            if ($$s =~ /\G\\([nrt0])/gc) { $out .= { n => "\n", r => "\r", t => "\t", 0 => "\0" }->{$1}; next }
            if ($$s =~ /\G\\(.)/gc) { $out .= $1; next }
            die "unterminated string\n";
        }
        utf8::encode($out) if utf8::is_utf8($out);
        return $out;
    }
    if ($$s =~ /\G'((?:[^'\\]|\\.)*)'/gc) {
        (my $v = $1) =~ s/\\(['\\])/$1/g;
        utf8::encode($v) if utf8::is_utf8($v);
        return $v;
    }
    if ($$s =~ /\Ghex:([0-9a-fA-F]*)/gc) {
        my $h = $1;
        die "odd number of hex digits in hex:$h\n" if length($h) % 2;
        return pack('H*', $h);
    }
    if ($$s =~ /\Grep:(\d+):/gc) {
        my $n = $1;
        my $v = _literal1($c);
        die "expected a literal after rep:$n:\n" unless defined $v;
        return $v x $n;
    }
    return undef;
}

# Payload matcher for expectations: any | len=N | /re/flags | literal.
sub _spec {
    my ($c) = @_;
    _skip_ws($c);
    return { any => 1 } if $c->{s} =~ /\Gany(?=\s|\z)/gc;
    return { len => $1 } if $c->{s} =~ /\Glen=(\d+)(?=\s|\z)/gc;
    if ($c->{s} =~ m{\G/((?:[^/\\]|\\.)*)/([msixpn]*)(?=\s|\z)}gc) {
        my ($re, $fl) = ($1, $2);
        my $qr = eval "qr/\$re/$fl" or die "bad regex /$re/: $@";
        return { re => $qr, src => "/$re/$fl" };
    }
    my $v = _literal($c);
    return defined $v ? { bytes => $v } : undef;
}

sub _spec_mismatch {
    my ($spec, $payload) = @_;
    return undef if !$spec || $spec->{any};
    if (defined $spec->{len}) {
        return undef if length $payload == $spec->{len};
        return sprintf('payload length %d, expected %d', length $payload, $spec->{len});
    }
    if ($spec->{re}) {
        return undef if $payload =~ $spec->{re};
        return "payload does not match $spec->{src}";
    }
    return undef if $payload eq $spec->{bytes};
    my $i = 0;
    $i++ while $i < length $payload && $i < length $spec->{bytes}
        && substr($payload, $i, 1) eq substr($spec->{bytes}, $i, 1);
    return sprintf('payload differs: expected %d bytes, got %d; first difference at byte offset %d',
                   length $spec->{bytes}, length $payload, $i);
}

sub _show_bytes {
    my ($b) = @_;
    return hexstr($b, 48) if $b =~ /[^\x09\x0a\x0d\x20-\x7e]/ && length $b <= 48;
    return printable($b, 160) . sprintf(' (%d bytes)', length $b);
}

sub _spec_text {
    my ($spec) = @_;
    return 'any payload' if !$spec || $spec->{any};
    return "payload of length $spec->{len}" if defined $spec->{len};
    return "payload matching $spec->{src}" if $spec->{re};
    return _show_bytes($spec->{bytes});
}

# key=value pairs; payload= and key= take literals/specs.
sub _kvs {
    my ($c, $expect) = @_;
    my %kv;
    while (1) {
        _skip_ws($c);
        last unless $c->{s} =~ /\G(\w+)=/gc;
        my $k = $1;
        if ($k eq 'payload') {
            my $v = $expect ? _spec($c) : _literal($c);
            die "bad payload= value\n" unless defined $v;
            $kv{$k} = $v;
        } elsif ($k eq 'key') {
            my $v = _literal($c);
            die "bad key= value (use hex:01020304)\n" unless defined $v;
            $kv{$k} = $v;
        } else {
            $c->{s} =~ /\G(\S+)/gc or die "missing value for $k=\n";
            $kv{$k} = $1;
        }
    }
    return \%kv;
}

sub _rsv_from {
    my ($kv) = @_;
    my $rsv = $kv->{rsv} // 0;
    $rsv |= 4 if $kv->{rsv1};
    $rsv |= 2 if $kv->{rsv2};
    $rsv |= 1 if $kv->{rsv3};
    return $rsv;
}

#
# Execution
#

sub _conn {
    my ($self, $name) = @_;
    my $c = $self->{conns}{$name};
    die "no open connection " . ($name eq '' ? '(default)' : "'$name'") . "\n" unless $c;
    return $c;
}

sub _exec {
    my ($self, $line) = @_;
    if ($line =~ /^(\w*)>\s*(.*)$/s) {
        return $self->_send($1, $2);
    }
    if ($line =~ /^(\w*)<\s*(.*)$/s) {
        return $self->_recv($1, $2);
    }
    my ($cmd, $rest) = $line =~ /^(\S+)\s*(.*)$/s;
    if ($cmd eq 'open') {
        return $self->_open($rest);
    }
    if ($cmd eq 'sleep') {
        sleep parse_duration($rest);
        return;
    }
    if ($cmd eq 'shell') {
        die "shell needs a command\n" unless length $rest;
        my ($st, $out) = $self->{shell}->($rest);
        my $how = $st == -1 ? 'killed on timeout'
            : $st & 127 ? 'killed by signal ' . ($st & 127)
            : 'exit status ' . ($st >> 8);
        $self->_log("      shell: $how");
        die "command failed ($how); output:\n$out" if $st != 0;
        return;
    }
    if ($cmd eq 'hup') {
        die "hup takes no arguments\n" if length $rest;
        die "hup needs a running nginx\n" unless $self->{server};
        my $err = $self->{server}->hup_workers($self->{timeout} * 2);
        die "$err\n" if $err;
        return;
    }
    if ($cmd eq 'kill_worker') {
        die "kill_worker takes no arguments\n" if length $rest;
        die "kill_worker needs a running nginx\n" unless $self->{server};
        my ($pid, $err) = $self->{server}->kill_one_worker($self->{timeout} * 2);
        $self->{on_worker_killed}->($pid) if $pid && $self->{on_worker_killed};
        die "$err\n" if $err;
        $self->_log("      killed worker $pid");
        return;
    }
    die "unknown command '$cmd'\n";
}

sub _open {
    my ($self, $rest) = @_;
    my $c = _c($rest);
    my $name = '';
    if ($rest =~ /^(\w[\w.-]*)\s+\//) {
        $name = _word($c);
    }
    my $path = _word($c);
    die "open needs a path starting with /\n" unless defined $path && $path =~ m{^/};
    my ($tls, $status) = (0, 101);
    while (1) {
        if (_peek_re($c, qr/tls(?=\s|\z)/)) { _word($c); $tls = 1; next }
        if (_peek_re($c, qr/status=\d{3}(?=\s|\z)/)) { ($status) = _word($c) =~ /(\d+)/; next }
        last;
    }
    my $htext = _rest($c);
    my @headers;
    if (length $htext) {
        my @items = $htext =~ /\\r\\n/
            ? split(/\s*\\r\\n\s*/, $htext)
            : split(/\s+(?=![A-Za-z0-9-]+(?:\s|\z)|[A-Za-z0-9-]+:(?:\s|\z))/, $htext);
        for my $it (grep { length } @items) {
            if ($it =~ /^!([A-Za-z0-9-]+)$/) { push @headers, ["!$1", undef]; next }
            $it =~ /^([A-Za-z0-9-]+):\s*(.*?)\s*$/s or die "bad header '$it' (want Name: value)\n";
            push @headers, [$1, $2];
        }
    }
    die "connection " . ($name eq '' ? '(default)' : "'$name'") . " is already open\n"
        if $self->{conns}{$name};
    my $port = $tls ? $self->{tls_port} : $self->{port};
    my $conn = Test::Gateway::WS->open_conn(port => $port, tls => $tls, name => $name,
                                            timeout => $self->{timeout});
    my $err = $conn->handshake(path => $path, headers => \@headers,
                               expect_status => $status,
                               deadline => time + $self->{timeout});
    if ($err) {
        $conn->disconnect;
        die "$err\n";
    }
    $self->{conns}{$name} = $conn;
    $self->_log("      $conn->{status} response");
}

sub _send {
    my ($self, $name, $rest) = @_;
    my $conn = $self->_conn($name);
    my $c = _c($rest);
    my ($chop, $delay) = (0, 0.001);
    while (1) {
        _skip_ws($c);
        if ($c->{s} =~ /\Gchop=(\d+)(?=\s)/gc) { $chop = $1; next }
        if ($c->{s} =~ /\Gdelay=([\d.]+m?s?)(?=\s)/gc) { $delay = parse_duration($1); next }
        last;
    }
    my $kind = _word($c) // die "missing frame kind after '>'\n";
    my $bytes;
    if ($kind =~ /^(text|binary|ping|pong)$/) {
        my $p = _literal($c) // '';
        my $kv = _kvs($c, 0);
        _expect_end($c);
        $bytes = encode_frame(op => op_code($kind), payload => $p, %{ _frame_fields($kv) });
    } elsif ($kind eq 'close') {
        my $p = '';
        if (_peek_re($c, qr/\d+(?=\s|\z)/)) {
            my $code = _word($c);
            $p = pack('n', $code) . (_literal($c) // '');
        }
        my $kv = _kvs($c, 0);
        _expect_end($c);
        $bytes = encode_frame(op => 8, payload => $p, %{ _frame_fields($kv) });
    } elsif ($kind eq 'frame') {
        my $kv = _kvs($c, 0);
        _expect_end($c);
        my $f = _frame_fields($kv);
        $f->{op} = exists $kv->{op} ? op_code($kv->{op}) : 1;
        $f->{payload} = $kv->{payload} // '';
        $bytes = encode_frame(%$f);
    } elsif ($kind eq 'raw') {
        $bytes = _literal($c);
        die "raw needs a literal (hex:... or \"...\")\n" unless defined $bytes;
        _expect_end($c);
    } elsif ($kind eq 'json') {
        my $j = _rest($c);
        utf8::encode($j) if utf8::is_utf8($j);
        $bytes = encode_frame(op => 1, payload => $j);
    } elsif ($kind eq 'shutdown') {
        _expect_end($c);
        $conn->shutdown_write;
        return;
    } elsif ($kind eq 'disconnect' || $kind eq 'reset') {
        _expect_end($c);
        $kind eq 'reset' ? $conn->reset_conn : $conn->disconnect;
        delete $self->{conns}{$name};
        return;
    } else {
        die "unknown frame kind '$kind' after '>'\n";
    }
    my $err = $conn->write_bytes($bytes, $chop, $delay);
    $self->_log(sprintf('      sent %d bytes%s', length $bytes, $err ? " ($err; ignored)" : ''));
}

sub _frame_fields {
    my ($kv) = @_;
    my %f;
    for my $k (keys %$kv) {
        die "unknown field '$k='\n"
            unless $k =~ /^(op|fin|rsv|rsv1|rsv2|rsv3|mask|key|len|lenfmt|payload)$/;
    }
    $f{fin} = $kv->{fin} if exists $kv->{fin};
    $f{rsv} = _rsv_from($kv);
    $f{mask} = $kv->{mask} if exists $kv->{mask};
    $f{key} = $kv->{key} if exists $kv->{key};
    $f{len} = $kv->{len} if exists $kv->{len};
    if (exists $kv->{lenfmt}) {
        die "lenfmt must be 7, 16 or 64\n" unless $kv->{lenfmt} =~ /^(7|16|64)$/;
        $f{lenfmt} = $kv->{lenfmt};
    }
    return \%f;
}

sub _next {
    my ($self, $conn, $what) = @_;
    my $t0 = time;
    my $f = $conn->next_frame($t0 + $self->{timeout});
    die sprintf("timed out after %gs waiting for %s; nothing arrived%s\n", $self->{timeout}, $what,
                length $conn->{buf} ? ' except an incomplete frame: ' . hexstr($conn->{buf}, 32) : '')
        unless $f;
    $self->_log('      got ' . describe_frame($f));
    return $f;
}

sub _recv {
    my ($self, $name, $rest) = @_;
    my $conn = $self->_conn($name);
    my $c = _c($rest);
    my $kind = _word($c) // die "missing expectation after '<'\n";

    if ($kind eq 'eof') {
        _expect_end($c);
        my $f = $self->_next($conn, 'EOF');
        die "expected EOF, got " . describe_frame($f) . "\n" unless $f->{eof};
        die "expected a clean EOF, got " . describe_frame($f) . "\n" if length($f->{partial} // '');
        return;
    }
    if ($kind eq 'nothing') {
        my $secs = parse_duration(_rest($c), 0.5);
        die "expected nothing, but an unread frame is already buffered: " . hexstr($conn->{buf}, 32) . "\n"
            if length $conn->{buf};
        die "expected nothing, but the connection is already closed\n" if $conn->{eof};
        my $deadline = time + $secs;
        while (time < $deadline) {
            last unless $conn->fill($deadline);
            if ($conn->{eof} || length $conn->{buf}) {
                my $f = $conn->next_frame(time + 0.2);
                die "expected nothing for ${secs}s, got "
                    . ($f ? describe_frame($f) : 'a partial frame ' . hexstr($conn->{buf}, 32)) . "\n";
            }
        }
        return;
    }
    if ($kind eq 'header') {
        my $h = _rest($c);
        if ($h =~ /^!([A-Za-z0-9-]+)$/) {
            my @v = $conn->header_values($1);
            die "expected no $1 header in the handshake response, got '" . join(', ', @v) . "'\n" if @v;
            return;
        }
        $h =~ /^([A-Za-z0-9-]+):\s*(.*?)$/ or die "bad header expectation (want Name: value, Name: /re/ or !Name)\n";
        my ($hn, $hv) = ($1, $2);
        my @v = $conn->header_values($hn);
        die "missing $hn header in the handshake response:\n$conn->{response_head}" unless @v;
        my $got = join(', ', @v);
        if ($hv =~ m{^/(.*)/([msix]*)$}) {
            my $re = eval "qr/\$1/$2" or die "bad regex: $@";
            die "$hn: '$got' does not match $hv\n" unless $got =~ $re;
        } else {
            die "$hn: expected '$hv', got '$got'\n" unless $got eq $hv || grep { $_ eq $hv } @v;
        }
        return;
    }
    if ($kind eq 'json' || $kind eq 'json_save') {
        my $save;
        if ($kind eq 'json_save') {
            $save = _word($c);
            die "json_save needs a name\n" unless defined $save && $save =~ /^\w+$/;
        }
        my $jt = _rest($c);
        my $exp = eval { JSON::PP->new->allow_nonref->decode($jt) };
        die "invalid JSON in the expectation: $@" if $@;
        my $f = $self->_next($conn, "a JSON text frame");
        die "expected a JSON text frame, got " . describe_frame($f) . "\n"
            if $f->{eof} || $f->{op} != 1 || !$f->{fin} || $f->{rsv} || $f->{mask};
        my $act = eval { JSON::PP->new->allow_nonref->utf8->decode($f->{payload}) };
        die "text frame is not valid JSON ($@): " . printable($f->{payload}) . "\n" if $@;
        my $m = json_subset_mismatch(JSON::PP->new->allow_nonref->decode($jt), $act);
        die "JSON mismatch $m\n  expected (subset): $jt\n  got: " . printable($f->{payload}, 400) . "\n"
            if defined $m;
        $self->{vars}{$save} = $act if defined $save;
        return;
    }

    my %exp = (fin => 1, rsv => 0, mask => 0);
    my $desc;
    if ($kind =~ /^(text|binary|ping|pong)$/) {
        $exp{op} = op_code($kind);
        $exp{spec} = _spec($c) // { bytes => '' };
        _expect_end($c);
        $desc = "$kind frame with " . _spec_text($exp{spec});
    } elsif ($kind eq 'close') {
        $exp{op} = 8;
        if (_peek_re($c, qr/any(?=\s|\z)/)) {
            _word($c);
            $exp{spec} = { any => 1 };
            $desc = 'a close frame';
        } elsif (_peek_re($c, qr/\d+(?:,\d+)*(?=\s|\z)/)) {
            my @codes = split /,/, _word($c);
            $exp{codes} = \@codes;
            $exp{reason} = _spec($c);
            $desc = 'close frame with code ' . join(' or ', @codes)
                . ($exp{reason} ? ' and reason ' . _spec_text($exp{reason}) : '');
        } else {
            $exp{spec} = { bytes => '' };
            $desc = 'close frame with an empty payload';
        }
        _expect_end($c);
    } elsif ($kind eq 'frame') {
        my $kv = _kvs($c, 1);
        _expect_end($c);
        for my $k (keys %$kv) {
            die "unknown field '$k=' for < frame\n" unless $k =~ /^(op|fin|rsv|rsv1|rsv2|rsv3|mask|len|payload)$/;
        }
        $exp{op} = op_code($kv->{op}) if exists $kv->{op};
        $exp{fin} = $kv->{fin} if exists $kv->{fin};
        $exp{mask} = $kv->{mask} if exists $kv->{mask};
        $exp{rsv} = _rsv_from($kv);
        $exp{spec} = $kv->{payload} if $kv->{payload};
        $exp{spec} = { len => $kv->{len} } if exists $kv->{len} && !$kv->{payload};
        $desc = 'frame ' . join(' ', map { "$_=$kv->{$_}" } grep { $_ ne 'payload' } sort keys %$kv)
            . ($exp{spec} ? ' payload ' . _spec_text($exp{spec}) : '');
    } else {
        die "unknown expectation '$kind' after '<'\n";
    }

    my $f = $self->_next($conn, $desc);
    my @why;
    if ($f->{eof}) {
        @why = ('the connection was closed');
    } else {
        push @why, 'opcode ' . op_name($f->{op}) . ', expected ' . op_name($exp{op})
            if defined $exp{op} && $f->{op} != $exp{op};
        push @why, "fin=$f->{fin}, expected fin=$exp{fin}" if $f->{fin} != $exp{fin};
        push @why, "rsv=$f->{rsv}, expected rsv=$exp{rsv}" if $f->{rsv} != $exp{rsv};
        push @why, ($f->{mask} ? 'the frame is masked (a server must not mask)' : 'the frame is not masked')
            if $f->{mask} != $exp{mask};
        if (!@why && $exp{codes}) {
            my $p = $f->{payload};
            if (length $p < 2) {
                push @why, 'close frame has no status code (payload ' . hexstr($p) . ')';
            } else {
                my $code = unpack('n', $p);
                push @why, "close code $code, expected " . join(' or ', @{ $exp{codes} })
                    unless grep { $_ == $code } @{ $exp{codes} };
                my $m = $exp{reason} ? _spec_mismatch($exp{reason}, substr($p, 2)) : undef;
                push @why, "close reason: $m" if $m;
            }
        } elsif (!@why) {
            my $m = _spec_mismatch($exp{spec}, $f->{payload});
            push @why, $m if $m;
        }
    }
    die "expected $desc\n  got " . describe_frame($f) . "\n  " . join("\n  ", @why) . "\n" if @why;
}

1;
