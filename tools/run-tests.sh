#!/bin/bash
# The test suite of `make test`: everything runs under prove, whose
# summary is the last thing printed.
#
#   TEST_JOBS   parallel test files (default 2)
set -uo pipefail

cd "$(dirname "$0")/.."

exec prove -j"${TEST_JOBS:-2}" -r t/
