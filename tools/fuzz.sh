#!/bin/bash
# Coverage-guided fuzzing of the pure codecs with libFuzzer (clang).
#
#   tools/fuzz.sh SECONDS TARGET...      (make fuzz FUZZ_SECONDS=600)
#
# Each target starts from its committed seeds in fuzz/corpus/TARGET and
# grows a working corpus in build/fuzz/corpus/TARGET.  A crash leaves its
# input in build/fuzz/; add it to fuzz/corpus/TARGET/ (named crash-*) so
# that `make test` replays it from then on.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$repo/build}
seconds=$1
shift

nginx=$build/nginx
incs="-I$nginx/src/core -I$nginx/src/event -I$nginx/src/event/modules"
incs="$incs -I$nginx/src/os/unix -I$nginx/objs -I$repo/ngx_gateway_module"
codec="$repo/ngx_gateway_module/ngx_ws_frame.c"
codec="$codec $repo/ngx_gateway_module/ngx_ws_utf8.c"

mkdir -p "$build/fuzz"

for target in "$@"; do
    bin=$build/fuzz/fuzz_$target
    # shellcheck disable=SC2086
    clang -g -O1 -fsanitize=fuzzer,address,undefined \
        -fno-sanitize-recover=all $incs \
        -o "$bin" "$repo/fuzz/fuzz_$target.c" $codec

    corpus=$build/fuzz/corpus/$target
    mkdir -p "$corpus"

    echo "fuzz: $target for ${seconds}s"
    (cd "$build/fuzz" && "$bin" -max_total_time="$seconds" -max_len=70000 \
        -print_final_stats=1 "$corpus" "$repo/fuzz/corpus/$target")
done
