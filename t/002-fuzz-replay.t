# Replays the committed fuzz corpora (fuzz/corpus/<target>, seeds and past
# crash inputs) through the fuzz targets, built by `make fuzz-replay` with
# gcc and the sanitizers; a crash, leak or sanitizer report fails.
use strict;
use warnings;
use FindBin;
use Test::More;

my $repo = "$FindBin::Bin/..";
my $build = $ENV{BUILD} || "$repo/build";

opendir(my $dh, "$repo/fuzz/corpus") or die "fuzz/corpus: $!";
my @targets = sort grep { !/^\./ } readdir $dh;
closedir $dh;

for my $target (@targets) {
    my $bin = "$build/test/fuzz_${target}_replay";

    SKIP: {
        skip "$bin is not built (make fuzz-replay)", 1 unless -x $bin;

        my $out = `$bin $repo/fuzz/corpus/$target 2>&1`;
        my $rc = $? >> 8;
        ok($rc == 0 && $out =~ /(\d+) inputs replayed/ && $1 > 0,
           "fuzz corpus $target replays cleanly")
            or diag($out);
    }
}

done_testing();
