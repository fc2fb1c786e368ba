package Test::Gateway::Server;

# One nginx instance per .t file: server root layout, nginx.conf generation,
# start (daemon, or in the foreground under valgrind), stop (QUIT, TERM,
# KILL), HUP reloads with a polled config version, worker kills.

use strict;
use warnings;

use File::Path qw(make_path remove_tree);
use IO::Select;
use POSIX ();
use Time::HiRes qw(time sleep);

use Test::Gateway::Util qw(proc_alive proc_children kill_and_wait wait_port
                           read_file_from file_size tail_text connect_tcp);

sub new {
    my ($class, %a) = @_;
    # root binary repo port tls_port valgrind suppress
    my $self = bless { %a }, $class;
    $self->{start_timeout} = $a{valgrind} ? 180 : 15;
    $self->{stop_timeout} = $a{valgrind} ? 180 : 15;
    return $self;
}

sub root { $_[0]{root} }
sub error_log_path { "$_[0]{root}/logs/error.log" }
sub stderr_path { "$_[0]{root}/logs/nginx.stderr" }
sub pid_path { "$_[0]{root}/logs/nginx.pid" }
sub running { my $s = shift; return $s->{pid} && proc_alive($s->{pid}) }
sub master_pid { $_[0]{pid} }

sub setup {
    my ($self) = @_;
    my $r = $self->{root};
    $self->kill_stale;
    remove_tree($r) if -e $r;
    make_path("$r/conf", "$r/logs", "$r/html", "$r/tmp");
    # Workers may run as another user if the conf says so; keep it writable.
    chmod 0777, "$r/tmp", "$r/logs";
    my $out = `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \\
        -keyout '$r/conf/test.key' -out '$r/conf/test.crt' -days 3650 \\
        -subj /CN=localhost 2>&1`;
    die "openssl could not create the test certificate:\n$out" if $?;
    open my $fh, '>', "$r/html/index.html" or die "$r/html/index.html: $!\n";
    print $fh "It works!\n";
    close $fh;
}

# A previous run that was killed hard may have left an nginx running on this
# server root; stop it so it does not hold files or ports.
sub kill_stale {
    my ($self) = @_;
    my $pf = $self->pid_path;
    return unless -f $pf;
    my $pid = read_file_from($pf, 0);
    $pid =~ s/\D//g;
    return unless $pid && proc_alive($pid);
    my $cmd = Test::Gateway::Util::proc_cmdline($pid);
    return unless index($cmd, "-p $self->{root}/") >= 0;
    kill_and_wait($pid, "KILL", 5);
}

# %p: master workers worker_connections log_level load_modules(array)
#     env(array) main_config http_config config hup
sub build_conf {
    my ($self, %p) = @_;
    my $r = $self->{root};
    my $c = '';
    $c .= 'daemon ' . ($self->{valgrind} ? 'off' : 'on') . ";\n";
    $c .= 'master_process ' . ($p{master} ? 'on' : 'off') . ";\n";
    $c .= "worker_processes $p{workers};\n";
    $c .= "pid logs/nginx.pid;\n";
    $c .= "error_log logs/error.log $p{log_level};\n";
    $c .= "user root;\n" if $> == 0;
    $c .= "load_module $_;\n" for @{ $p{load_modules} || [] };
    $c .= "env $_;\n" for @{ $p{env} || [] };
    $c .= "\n" . ($p{main_config} // '') . "\n";
    $c .= "events {\n    worker_connections $p{worker_connections};\n    accept_mutex off;\n}\n\n";
    $c .= "http {\n";
    $c .= "    access_log logs/access.log;\n";
    $c .= "    client_body_temp_path $r/tmp/client_body;\n";
    $c .= "    proxy_temp_path $r/tmp/proxy;\n";
    $c .= "    fastcgi_temp_path $r/tmp/fastcgi;\n";
    $c .= "    uwsgi_temp_path $r/tmp/uwsgi;\n";
    $c .= "    scgi_temp_path $r/tmp/scgi;\n";
    $c .= "    default_type text/plain;\n";
    $c .= "\n" . ($p{http_config} // '') . "\n";
    $c .= "    server {\n";
    $c .= "        listen 127.0.0.1:$self->{port};\n";
    $c .= "        listen 127.0.0.1:$self->{tls_port} ssl;\n";
    $c .= "        server_name localhost;\n";
    $c .= "        ssl_certificate $r/conf/test.crt;\n";
    $c .= "        ssl_certificate_key $r/conf/test.key;\n";
    $c .= "\n" . ($p{config} // '') . "\n";
    $c .= "        location = /ver { return 200 \"\@\@CONFIG_VERSION\@\@\"; }\n" if $p{hup};
    $c .= "    }\n}\n";
    return $c;
}

sub write_conf {
    my ($self, $conf, $version) = @_;
    my $text = $conf;
    $text =~ s/\@\@CONFIG_VERSION\@\@/$version/g if defined $version;
    my $f = "$self->{root}/conf/nginx.conf";
    open my $fh, '>', $f or die "$f: $!\n";
    print $fh $text;
    close $fh or die "$f: $!\n";
}

sub _cmd {
    my ($self) = @_;
    my @cmd = ($self->{binary}, '-p', "$self->{root}/", '-c', 'conf/nginx.conf',
               '-e', 'logs/error.log');
    if ($self->{valgrind}) {
        my @vg = ('valgrind', '-q', '--tool=memcheck', '--leak-check=full',
                  '--show-possibly-lost=no', '--errors-for-leak-kinds=definite',
                  '--num-callers=30', '--trace-children=no', '--gen-suppressions=all',
                  "--log-file=$self->{root}/logs/valgrind.%p.log");
        push @vg, "--suppressions=$self->{suppress}" if $self->{suppress} && -f $self->{suppress};
        push @vg, split ' ', ($ENV{TEST_NGINX_VALGRIND_OPTS} // '');
        unshift @cmd, @vg;
    }
    return @cmd;
}

sub _spawn {
    my ($self, @cmd) = @_;
    my $out = $self->stderr_path;
    my $pid = fork // die "fork: $!\n";
    if (!$pid) {
        chdir $self->{root};
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $out or POSIX::_exit(127);
        open STDERR, '>&', \*STDOUT;
        { exec @cmd };
        print STDERR "exec $cmd[0] failed: $!\n";
        POSIX::_exit(127);
    }
    return $pid;
}

# Start nginx with $conf. Returns undef on success or the failure text
# (nginx's stderr and error.log output of this start attempt).
sub start {
    my ($self, $conf, $version) = @_;
    die "nginx is already running\n" if $self->running;
    $self->write_conf($conf, $version);
    unlink $self->pid_path;
    my ($epos, $spos) = (file_size($self->error_log_path), file_size($self->stderr_path));
    my $out = sub {
        my $s = read_file_from($self->stderr_path, $spos);
        my $e = read_file_from($self->error_log_path, $epos);
        return "nginx stderr:\n$s" . "error.log:\n$e";
    };
    my $pid = $self->_spawn($self->_cmd);
    my $deadline = time + $self->{start_timeout};
    if ($self->{valgrind}) {
        # Foreground master under valgrind: our child is the master.
        $self->{child} = $pid;
        my $alive = sub { waitpid($pid, POSIX::WNOHANG()); proc_alive($pid) };
        if (!wait_port($self->{port}, $self->{start_timeout}, $alive)) {
            my $died = !$alive->();
            kill_and_wait($pid, 'KILL', 5) unless $died;
            delete $self->{child};
            return ($died ? "nginx exited during startup\n"
                          : "nginx did not accept on port $self->{port} within $self->{start_timeout}s\n")
                . $out->();
        }
        $self->{pid} = $pid;
    } else {
        my $st;
        while (1) {
            my $r = waitpid($pid, POSIX::WNOHANG());
            if ($r == $pid) { $st = $?; last }
            if (time > $deadline) {
                kill 'KILL', $pid;
                waitpid($pid, 0);
                return "nginx startup did not return within $self->{start_timeout}s\n" . $out->();
            }
            sleep 0.005;
        }
        return "nginx exited with status " . ($st >> 8) . ($st & 127 ? " (signal " . ($st & 127) . ")" : '')
            . "\n" . $out->() if $st;
        my $mpid;
        while (time < $deadline) {
            my $p = read_file_from($self->pid_path, 0);
            if ($p =~ /^(\d+)\s*$/ && proc_alive($1)) { $mpid = $1; last }
            sleep 0.005;
        }
        return "nginx did not write a live pid to logs/nginx.pid\n" . $out->() unless $mpid;
        $self->{pid} = $mpid;
        if (!wait_port($self->{port}, $deadline - time, sub { proc_alive($mpid) })) {
            my $died = !proc_alive($mpid);
            $self->stop;
            return ($died ? "nginx exited right after startup\n"
                          : "nginx did not accept on port $self->{port}\n") . $out->();
        }
    }
    $self->{conf} = $conf;
    $self->{version} = $version;
    return undef;
}

# Stop nginx: QUIT, then TERM, then KILL. Returns a list of notes when it
# had to escalate (the caller prints them as diagnostics).
sub stop {
    my ($self) = @_;
    my $pid = delete $self->{pid};
    my $child = delete $self->{child};
    delete $self->{conf};
    my @notes;
    if ($pid && proc_alive($pid)) {
        my @kids = map { $_->{pid} } proc_children($pid);
        if (!kill_and_wait($pid, 'QUIT', $self->{stop_timeout})) {
            push @notes, "nginx master $pid did not exit within $self->{stop_timeout}s of SIGQUIT; sent SIGTERM";
            if (!kill_and_wait($pid, 'TERM', 5)) {
                push @notes, "nginx master $pid ignored SIGTERM; sent SIGKILL";
                kill_and_wait($pid, 'KILL', 5);
            }
        }
        for my $k (@kids) {
            next unless proc_alive($k);
            push @notes, "nginx worker $k outlived its master; sent SIGKILL";
            kill_and_wait($k, 'KILL', 5);
        }
    }
    waitpid($child, 0) if $child;
    return @notes;
}

# HUP the master with a new conf and wait until /ver answers $version
# several times in a row. Returns undef or an error text.
sub reload {
    my ($self, $conf, $version) = @_;
    return "nginx is not running\n" unless $self->running;
    my $epos = file_size($self->error_log_path);
    $self->write_conf($conf, $version);
    kill 'HUP', $self->{pid};
    my $deadline = time + $self->{start_timeout};
    my $streak = 0;
    my $last = '';
    while (time < $deadline) {
        my $body = $self->_get('/ver', 2);
        $last = $body // '(no answer)';
        if (defined $body && $body eq $version) {
            if (++$streak >= 10) {
                $self->{conf} = $conf;
                $self->{version} = $version;
                return undef;
            }
        } else {
            $streak = 0;
        }
        sleep 0.01;
    }
    return "nginx did not switch to the new configuration after SIGHUP (GET /ver last answered "
        . "'$last', expected '$version')\nerror.log since the reload:\n"
        . tail_text(read_file_from($self->error_log_path, $epos), 40);
}

sub _get {
    my ($self, $uri, $timeout) = @_;
    my $s = connect_tcp($self->{port}, $timeout) or return undef;
    syswrite $s, "GET $uri HTTP/1.0\r\nHost: localhost\r\n\r\n";
    my $resp = '';
    my $deadline = time + $timeout;
    my $sel = IO::Select->new($s);
    while (time < $deadline) {
        last unless $sel->can_read($deadline - time);
        my $n = sysread($s, my $buf, 4096);
        last unless $n;
        $resp .= $buf;
    }
    close $s;
    return undef unless $resp =~ m{^HTTP/1\.\d 200 .*?\r\n\r\n(.*)\z}s;
    return $1;
}

# Current worker processes: children of the master, except cache processes
# and workers that are shutting down (their title says so; under valgrind
# titles do not change, so every child counts).
sub workers {
    my ($self) = @_;
    return () unless $self->running;
    return grep {
        $_->{cmd} !~ /cache (manager|loader)/ && $_->{cmd} !~ /shutting down/
    } proc_children($self->{pid});
}

sub _need_master {
    my ($self) = @_;
    return "nginx is not running" unless $self->running;
    return "needs master_process on (call master_on() or workers(N) with N > 1)"
        unless $self->{master};
    return undef;
}

# SIGHUP with an unchanged configuration; wait until a full set of new
# worker processes exists (in HUP mode also until /ver answers a new config
# version). Returns undef or an error.
sub hup_workers {
    my ($self, $timeout) = @_;
    if (my $e = $self->_need_master) { return "hup: $e" }
    my %old = map { $_->{pid} => 1 } proc_children($self->{pid});
    if (defined $self->{conf} && $self->{conf} =~ /\@\@CONFIG_VERSION\@\@/) {
        # HUP mode: a new config version, polled on /ver like a block switch.
        my $v = sprintf('%08x%08x', int(rand 2**32), int(rand 2**32));
        my $err = $self->reload($self->{conf}, $v);
        return "hup: $err" if $err;
    } else {
        kill 'HUP', $self->{pid};
    }
    my $deadline = time + $timeout;
    while (time < $deadline) {
        my @new = grep { !$old{ $_->{pid} } } $self->workers;
        if (@new >= $self->{nworkers}) {
            sleep($self->{valgrind} ? 2 : 0.1);
            return undef;
        }
        sleep 0.01;
    }
    return "hup: new worker processes did not appear within ${timeout}s";
}

# SIGKILL one worker and wait for the master to replace it.
# Returns (killed pid, error or undef).
sub kill_one_worker {
    my ($self, $timeout) = @_;
    if (my $e = $self->_need_master) { return (undef, "kill_worker: $e") }
    # The youngest child is a current-generation worker even under valgrind,
    # where process titles do not tell shutting-down workers apart.
    my @w = sort { $b->{start} <=> $a->{start} || $b->{pid} <=> $a->{pid} } $self->workers;
    return (undef, "kill_worker: no worker process found") unless @w;
    my %before = map { $_->{pid} => 1 } proc_children($self->{pid});
    my $victim = $w[0]{pid};
    kill 'KILL', $victim;
    my $deadline = time + $timeout;
    while (time < $deadline) {
        my @new = grep { !$before{ $_->{pid} } } $self->workers;
        if (@new && !proc_alive($victim)) {
            sleep($self->{valgrind} ? 2 : 0.05);
            return ($victim, undef);
        }
        sleep 0.01;
    }
    return ($victim, "kill_worker: the master did not respawn worker $victim within ${timeout}s");
}

1;
