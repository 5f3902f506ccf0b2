#!/bin/sh
# SPDX-License-Identifier: MIT
# Bench smoke test: every workload once, tiny, on every interpreter found.
# Checks only that everything runs and that the library was active in each
# library run; the numbers mean nothing and no budget is checked.
#   bench/smoke.sh [LIB]          (LIB defaults to build/libtaskleak.so)
# Exit 0 when everything ran.  Extra arguments go to bench/run.py.
set -eu
cd "$(dirname "$0")/.."
LIB=${1:-build/libtaskleak.so}
[ $# -gt 0 ] && shift
out=$(mktemp)
trap 'rm -f "$out"' EXIT
if "${PYTHON:-/usr/bin/python3}" bench/run.py --lib "$LIB" --quick "$@" >"$out" 2>&1; then
    echo "bench smoke: PASS (every workload ran on every interpreter found)"
else
    cat "$out"
    echo "bench smoke: FAIL"
    exit 1
fi
