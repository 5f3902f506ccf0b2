#!/bin/bash
# SPDX-License-Identifier: MIT
# Build and run taskleak's libFuzzer harnesses for a bounded time each
# (`make fuzz [FUZZ_SECONDS=N]` runs it).
#
#   tests/fuzz/run.sh [SECONDS] [NAME...]
#
# SECONDS per fuzzer (default 20); 0 only replays the committed corpus (every
# regression input once, no fuzzing).  NAME limits the run to some of:
# options suppressions scopes output_expand.
#
# Each fuzzer $BUILD/fuzz/fuzz_NAME (BUILD from the environment, default
# build) is built by the Makefile's rules (make $BUILD/fuzz/fuzz_NAME, with
# FUZZ_CC, default clang, -fsanitize=fuzzer,address,undefined) from its
# harness tests/fuzz/fuzz_NAME.c and the core archive (FUZZ_AR),
# then started on tests/fuzz/corpus/NAME/ (read only: new inputs go to
# $BUILD/fuzz/work/NAME/).  A crash, a sanitizer report, a failed invariant, a
# timeout (-timeout, 10 s an input) or a leak fails the fuzzer: the input is
# saved under $BUILD/fuzz/artifacts/NAME/ and the log under
# $BUILD/fuzz/NAME.log.  Copy a crashing input into tests/fuzz/corpus/NAME/ to
# keep it as a regression test.
#
# Output: one PASS/FAIL line per fuzzer, then `N passed, M failed`.  Exit
# status 1 when any fuzzer failed (or could not be built).
set -u
cd "$(dirname "$0")/../.." || exit 2
ROOT=$PWD
SECS=${1:-20}
shift $(( $# > 0 ? 1 : 0 ))
case $SECS in
    '' | *[!0-9]*) echo "usage: tests/fuzz/run.sh [SECONDS] [NAME...]" >&2; exit 2 ;;
esac
CC=${FUZZ_CC:-clang}
BUILD=${BUILD:-build}
case $BUILD in
    /*) OUT=$BUILD/fuzz ;;
    *) OUT=$ROOT/$BUILD/fuzz ;;
esac
ALL="options suppressions scopes output_expand"   # the Makefile's FUZZERS
NAMES=${*:-$ALL}

max_len() {
    case $1 in
    suppressions) echo 16384 ;;   # lines longer than the library's 4 KiB buffer
    *) echo 8192 ;;
    esac
}

if ! command -v "$CC" >/dev/null; then
    echo "FAIL: $CC not found (Debian: apt-get install clang libclang-rt-14-dev)"
    echo "0 passed, 1 failed"
    exit 1
fi

mkdir -p "$OUT/tmp"
export TMPDIR=$OUT/tmp
# Leak checking stays on; symbolized reports in the logs.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0
failed=0
for name in $NAMES; do
    case " $ALL " in
        *" $name "*) ;;
        *) echo "FAIL $name: unknown fuzzer"; failed=$((failed + 1)); continue ;;
    esac
    bin=$OUT/fuzz_$name
    log=$OUT/$name.log
    if ! make --no-print-directory BUILD="$BUILD" FUZZ_CC="$CC" "$BUILD/fuzz/fuzz_$name" >"$log" 2>&1; then
        echo "FAIL $name: does not build (see $log)"
        failed=$((failed + 1))
        continue
    fi
    corpus=tests/fuzz/corpus/$name
    work=$OUT/work/$name
    artifacts=$OUT/artifacts/$name
    mkdir -p "$work" "$artifacts"
    if [ "$SECS" = 0 ]; then
        # Replay: every committed input once.
        args=(-runs=0 "$corpus")
    else
        args=(-max_total_time="$SECS" -max_len="$(max_len "$name")" "$work" "$corpus")
    fi
    "$bin" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "${args[@]}" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    if [ $rc -eq 0 ]; then
        echo "PASS $name (${runs:-?} runs, $(find "$corpus" -type f | wc -l) committed inputs)"
        passed=$((passed + 1))
    else
        what=$(grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|invariant failed|fuzz_[a-z_]+: ' "$log" | sed 's/^==[0-9]*==//')
        input=$(sed -n 's/.*Test unit written to //p' "$log" | tail -1)
        # A committed regression input?  Its content is the artifact's.
        if [ -n "$input" ] && [ -f "$input" ]; then
            for f in "$corpus"/*; do
                if cmp -s "$f" "$input"; then input="$f (committed regression)"; break; fi
            done
        fi
        echo "FAIL $name: ${what:-status $rc}${input:+; input: $input}; log: $log"
        failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
