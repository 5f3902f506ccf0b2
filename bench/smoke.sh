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
# The churn estimator: a CPU twice as slow as the other divides out.
"${PYTHON:-/usr/bin/python3}" - <<'PY'
import sys
sys.path.insert(0, "bench")
import run
s = {"default": [1.05 * 1.7, 1.05 * 0.85, 1.04, None], "none@default": [0.85, 1.7, 1.0, 1.0], "none": []}
got = run.swapped_ratios(s, "default")
assert len(got) == 1 and abs(got[0] - 1.05) < 1e-9, got
assert run.swapped_ratios({"default": [1.1], "none": [1.0]}, "default") == [1.1 / 1.0]
# aiohttp rounds: each mode's wrk starts first as often as the others'
# over as many repetitions of two rounds as there are modes.
modes = ["none", "control", "default", "native=0"]
firsts = [run.start_order(modes, rep + rnd)[0] for rep in range(4) for rnd in range(2)]
assert all(firsts.count(m) == 2 for m in modes), firsts
assert sorted(run.start_order(modes, 5)) == sorted(modes)
# aiohttp stops repeating once every median held still over two
# repetitions and the A/A control is near 1; a ratio with no samples waits
# for none.
still = {"control": [1.0, 1.002, 0.999], "default": [0.97, 0.99, 0.973], "native=0": [None, 0.98, None]}
assert run.medians_still(still)
assert not run.medians_still(dict(still, default=[0.97, 0.99, 0.976]))
assert not run.medians_still(dict(still, control=[1.0, 1.002, 1.011]))
assert run.medians_still({"control": [1.0], "default": [0.9]})
# The lag rows' A/A noise: none for runs alike, some for runs apart, the
# same each time, from the no-library runs alone.
assert run.aa_noise([1.5] * 11) == 0 and run.aa_noise([1.5]) is None
spread = [0.8, 1.1, 1.3, 1.6, 1.9, 2.2, 2.6, 3.1, 4.0, 7.5, 12.0]
assert 0.3 < run.aa_noise(spread) == run.aa_noise(spread) < 5, run.aa_noise(spread)
# Loop lag: a sleep that overlaps a sentinel's stall is the machine's, one
# outside the span the sentinels watched is the program's.
watched = ([(10.0, 10.004)], (5.0, 20.0))
out = {"max_ms": 3.0, "span": [9.0, 12.0],
       "slow": [[10.001, 10.005], [11.0, 11.0015], [1.0, 1.003]]}
worst, excused, beside = run.excuse_stalls(out, watched)
assert abs(worst - 2.0) < 1e-6 and (excused, beside) == (1, 1), (worst, excused, beside)
out = {"max_ms": 2.0, "span": [9.0, 12.0], "slow": [[10.001, 10.004]]}
assert run.excuse_stalls(out, watched) == (run.SLOW_S * 1e3, 1, 1)
# A duet's samples come from the batches both children ran at the same time:
# the library's last batch, alone on a machine that got faster, is not one.
outs = [{"batches": [[0, 1, 100], [1, 2, 100]], "fastest_batch_ns_per_task": 100},
        {"batches": [[0, 1, 130], [1, 2, 110], [2, 3, 90]], "fastest_batch_ns_per_task": 90}]
run.fastest_while_both_ran(outs)
assert [o["fastest_batch_ns_per_task"] for o in outs] == [100, 110], outs
# A duet's child trades CPUs with every thread it has (the collector's too).
import os, subprocess, time
if run.PIN:
    child = subprocess.Popen([sys.executable, "-c", "import sys, threading; "
                              "threading.Thread(target=sys.stdin.read).start(); sys.stdin.read()"],
                             stdin=subprocess.PIPE)
    task = "/proc/%d/task" % child.pid
    def cpus_of_threads():
        got = []
        for tid in os.listdir(task):
            with open("%s/%s/status" % (task, tid)) as f:
                got += [l.split()[1] for l in f if l.startswith("Cpus_allowed_list")]
        return got
    deadline = time.monotonic() + 30
    while len(os.listdir(task)) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    cpu = sorted(os.sched_getaffinity(0))[1]
    run.pin_process(child.pid, cpu)
    got = cpus_of_threads()
    child.communicate(b"")
    assert len(got) == 2 and got == [str(cpu)] * 2, got
# Requests per CPU-second: the CPU of every thread of the server, not its
# main thread's alone (a thread's counts go with it: the servers' stay).
import threading
spun, done = threading.Event(), threading.Event()
def spin(seconds):
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass
    spun.set()
    done.wait()
before = run.process_cpu_s(os.getpid())
spinner = threading.Thread(target=spin, args=(0.2,))
spinner.start()
spun.wait()
after = run.process_cpu_s(os.getpid())
done.set()
spinner.join()
assert after - before >= 0.2, (before, after)
assert run.process_cpu_s(2 ** 22 + 1) is None
# Callgrind: 3.10 is counted in 8 layouts, 3.13 in 4, the cell their median.
import callgrind, types
assert [callgrind.layouts(types.SimpleNamespace(version=v))
        for v in [(3, 10, 13), (3, 11, 7), (3, 13, 18), (3, 14, 0)]] == [8, 1, 4, 1]
# The simulated caches are ones valgrind can simulate (sets a power of two).
for size, ways, line in callgrind.CACHE_GEOMETRY:
    sets = size // (ways * line)
    assert sets * ways * line == size and sets & (sets - 1) == 0, callgrind.CACHE_GEOMETRY
base, lib = [{"main": 100}, {"main": 200}, {"main": 150}], [{"main": 110}, {"main": 260}, {"main": 152}]
assert callgrind.extra(base, lib) == (10, [2, 10, 60])
# Only layout 0 simulates the caches: the misses' median is of the layouts
# that have them.
assert [callgrind.simulates(l) for l in range(3)] == [True, False, False]
assert callgrind.extra([{"d1": 5.0}, {"d1": None}], [{"d1": 7.5}, {"d1": None}], "d1") == (2.5, [2.5])
# The runs' cache: the library's by its contents and mode, not rerun.
import os, shutil, tempfile
d = tempfile.mkdtemp()
lib_a = os.path.join(d, "lib.so")
open(lib_a, "wb").write(b"one")
it = types.SimpleNamespace(path="/py", version_str="3.11.2")
runs = []
callgrind.measure = lambda interp, lib, mode, *a: runs.append(mode) or {
    "per_task": len(runs), "rows": {}, "d1_rows": {}, "l2_rows": {}}
cache = os.path.join(d, "cg.json")
for mode in ["none", "default", "none", "default", "native=0"]:
    callgrind.cached_measure(cache, it, lib_a, mode, "deep", (1, 2), True)
assert runs == ["none", "default", "native=0"], runs
open(lib_a, "wb").write(b"two")
got = [callgrind.cached_measure(cache, it, lib_a, m, "deep", (1, 2), True)["per_task"]
       for m in ["none", "default"]]
assert got == [1, 4] and runs[-1] == "default", (got, runs)
# The same build copied elsewhere (the bench measures a copy in a new
# temporary directory each run) is not measured again.
lib_b = os.path.join(d, "copy", "lib.so")
os.mkdir(os.path.dirname(lib_b))
shutil.copy2(lib_a, lib_b)
assert callgrind.cached_measure(cache, it, lib_b, "default", "deep", (1, 2), True)["per_task"] == 4
assert len(runs) == 4, runs
shutil.rmtree(d)
# Its function table: five counts ("." is none), recursion levels merged,
# the library's inlined code by its file.
table = """Ir                   D1mr           D1mw        DLmr        DLmw         file:function
--------------------------------------------------------------------------------
1,362,573,257 (100.0%) 9 (100.0%) 9 (100.0%) 9 (100.0%) 9 (100.0%)  PROGRAM TOTALS
426,954,472 (31.33%) 1,000 ( 1.77%) 20 ( 2.23%) 3 ( 0.01%) . ???:_PyEval_EvalFrameDefault'2 [/usr/bin/python3.11]
 74,742,519 ( 5.49%)   100 ( 0.66%)  .         .          2 ( 0.74%) ???:_PyEval_EvalFrameDefault [/usr/bin/python3.11]
  9,197,806 ( 0.66%) 620,518 ( 4.16%) . 1,500 ( 0.04%) . ROOT/shim/cpython/frames.c:tl_capture_stack
     10,000 ( 0.01%) 1 . . . ./shim/hooks/capture.c:tl_capture_stack
      7,000 ( 0.01%) 1 . . . ./Python/ceval.c:_PyEval_EvalFrameDefault
-- Auto-annotated source: x.c
  1 (1.0%) 1 1 1 1 ???:after [x]
""".replace("ROOT", callgrind.ROOT)
got = callgrind.parse_annotate(table, "libtaskleak.so")
assert got == {("_PyEval_EvalFrameDefault", "python3.11"): [501696991, 1120, 5],
               ("tl_capture_stack", "libtaskleak.so"): [9207806, 620519, 1500],
               ("_PyEval_EvalFrameDefault", "?"): [7000, 1, 0]}, got
PY
out=$(mktemp)
trap 'rm -f "$out"' EXIT
if "${PYTHON:-/usr/bin/python3}" bench/run.py --lib "$LIB" --quick "$@" >"$out" 2>&1; then
    echo "bench smoke: PASS (every workload ran on every interpreter found)"
else
    cat "$out"
    echo "bench smoke: FAIL"
    exit 1
fi
