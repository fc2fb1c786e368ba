# Unit tests of the pure WebSocket codec (t/unit/test_ws_codec.c), built
# with the address and undefined-behaviour sanitizers by `make unit`.
use strict;
use warnings;
use FindBin;

my $repo = "$FindBin::Bin/..";
my $build = $ENV{BUILD} || "$repo/build";
my $bin = "$build/test/test_ws_codec";

unless (-x $bin) {
    print "1..0 # SKIP $bin is not built (make unit)\n";
    exit 0;
}

exec $bin or die "exec $bin: $!";
