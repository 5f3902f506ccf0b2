#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""End-to-end tests of libtaskleak.so: real CPython programs, preloaded library.

    python3 tests/e2e/run.py [--lib PATH] [-k PATTERN]... [--python LABEL|PATH]...
    make e2e K=stuck PY=sid-3.14            (the same: one scenario, one interpreter)

Every scenario in tests/e2e/scenarios/*.py runs under every interpreter
tests/common.py finds (/usr/bin/python3, which must exist, each pyenv CPython
and the Debian sid chroot's of the supported versions; their debug builds only
with --debug-builds), twice:
with LD_PRELOAD=<lib> and without it.  The run with the library must write the
report the scenario's header directives describe; both runs must print the same
stdout, exit with the same status and print the same stderr except the
library's `taskleak: N leaks (...); report: PATH` lines (one per leaking
process that reaches its exit report).  The options are every runner's
(tests/common.py): `--lib` defaults to build/libtaskleak.so; `--python
LABEL|PATH` (repeatable; a label as `python3 tests/pythons.py` prints it)
replaces the interpreter discovery; `-k PATTERN` (repeatable) keeps the checks
whose name contains one of the patterns.

Header directives (leading comment block of a scenario):
  # expect: KIND coro=QUALNAME [key=value...]
        one expected leak (selected by kind, coro and name; every entry selected
        must satisfy the other keys): state result_type result_repr
        exception_type exception_message cancels (count) message, scope and
        forwarded_from (of the first cancel; `null` for None; forwarded_from
        names the coro of another reported task) resolved (state or null)
        main_thread=yes|no create= cancel= await= (LABEL of a marker, or none)
  # expect-none                  report written, no leaks at all, stderr empty
  # expect-no-report             no report file at all, stderr empty
  # expect-count: KIND=N ...     stats.leaks[KIND] (default: one per expect line);
                                 any leak no expect line selects is a failure
  # expect-distinct: task.thread_id   the field differs between all entries
  # min-python: 3.11   # max-python: 3.12   # requires-module: uvloop
  # options: k=v:k=v   merged into TASKLEAK_OPTIONS (report_path=<tmp>/r.%p.json
                       and interval=0 are preset; the scenario's keys win)
  # suppress: LINE     a line of a suppressions file the runner writes and passes
  # env: NAME=VALUE ...   # args: -X dev   # exit: N (default 0)
  # lib-exit: N (status with the library, when an option such as exitcode changes it)
  # timeout: SECONDS (default 60)
Line markers, at the end of a line (several may follow one `#`): `# <- create[:LABEL]` (the line creating the
task: some frame of created.python_stack must be there), `# <- cancel[:LABEL]`
(the line calling cancel(): in the first cancel's python_stack) and
`# <- await[:LABEL]` (where a pending task is suspended: in `awaiting`).
Unlabelled markers apply to every expected leak, labelled ones to the expect
lines naming them.  Besides those attributes, expect/live lines take
`await_chain=L1,L2` (the frames of `awaiting` in the scenario file, innermost
first, are exactly at the markers L1, L2...; and the chain ends in no
awaitable the walk cannot enter, unless `opaque=TYPE` says which: a
substring of awaiting_opaque.type) and `id=N` (task.id).

The last report on disk, other processes' reports and reports seen mid-run:
  # reason: periodic|signal|shutdown   reason of the last report on disk (default exit;
                               a process killed by os._exit/SIGKILL leaves its
                               last periodic report; no summary line then)
  # children: N                the program forks N children and appends each
                               child's pid to $TASKLEAK_E2E_DIR/children; each
                               must leave its own report r.<child>.json (pid,
                               ppid = the parent) and no other file may appear
  # child-expect: KIND ...     like expect, for every child's report
  # child-expect-none          every child's report has no leaks
  # child-incomplete: allowed  a child's report may have `incomplete` set
  # observe: LABEL REASON      the program saved a report it read from its own
                               report file (tests/e2e/scenarios/_e2e.py) as
                               $TASKLEAK_E2E_DIR/LABEL.json: it must have REASON
                               and pass every report check, with
  # expect-observed: LABEL KIND ...   its leaks (exactly these, like expect)

Interactive scenarios (`# step:` lines, run in order while the program runs;
stdin is a pipe, stdout is read as it comes):
  # step: wait-line TEXT       wait for the stdout line TEXT (both runs)
  # step: signal NAME          send the signal to the program (both runs)
  # step: close-stdin          close the program's stdin (both runs)
  # step: snapshot N           with the library only: N times, send dump_signal
                               and wait for a new report with reason "signal"
                               (latency from kill() to the file's rename, seen
                               through inotify, must be <= 1 s; the median is
                               printed); every snapshot must pass the report
                               checks and the `live:` lines
  # step: storm N              with the library only: N dump signals as fast as
                               possible; the program must survive, the report
                               must be a whole snapshot afterwards, and the
                               writes must stay few (<= max(5, N/10), counted
                               through inotify, the last within 1 s of the
                               storm's end)
  # live: coro=QUALNAME [attrs] [awaited_by=CORO|none]   a task of every
                               snapshot's live_tasks (attrs as for expect)
  # live-count: N              exactly N live tasks in every snapshot
  # snapshot-incomplete: expected   snapshots must say `incomplete` (the GIL
                               could not be taken)
Threads and the shutdown watchdog:
  # step: shutdown-report      with the library only: wait for a report with
                               reason "shutdown" (shutdown_timeout + 6 s at most
                               after the previous step)
  # expect-shutdown: cause=CAUSE [signal=SIGTERM] [blocker=TEXT]... [incomplete=yes]
                               exactly one report with reason "shutdown" was seen
                               while the program ran, and one stderr line
                               `taskleak: shutdown blocked for S s ...; report:
                               PATH` naming it and each TEXT; its shutdown object
                               has the cause and signal, blocked_for >=
                               shutdown_timeout (and it came no sooner than that
                               after the last `signal` step); it passes every
                               report check (`live:` lines too, `incomplete`
                               only with incomplete=yes); the exit report after
                               it has the same shutdown cause
  # expect-no-shutdown         none of that (the default: a shutdown report or
                               line that no expect-shutdown asks for fails)
  # expect-thread: ATTRS       a thread in every snapshot's and shutdown report's
                               threads, selected by name=, else job= (the job's
                               function), else stack=LABEL (its python_stack has
                               a frame at a `# <- thread:LABEL` marker), else
                               main=yes|no; each selected one has the given
                               main= daemon= exit_waits= (yes|no|null), why=
                               (non-daemon|default-executor|executor|none), job=
                               and stack=
  # build-helper: FILE.c       a C file beside the scenario, built once per run
                               (cc -shared) into $TASKLEAK_E2E_BUILT/FILE.so for
                               both runs; the scenario is a SKIP without cc
The rest of the run (status, stdout, stderr, final report) is checked as for
any scenario.  Files in tests/e2e/scenarios whose name starts with `_` are
helpers, not scenarios.  Every run gets $TASKLEAK_E2E_DIR, a directory of its
own outside the report directory (children pids, observed reports).

Every report, whatever its reason, must also hold these: a stuck_after_cancel
entry appears no sooner than `grace` after the first cancel (and `resolved`
after that); a snapshot (reason signal or shutdown) lists exactly
stats.tasks_live live tasks, each pending, each awaited_by null or another live
task's id, and its threads: the main thread first and once, none twice, none
without a stack or a name (taskleak's own), exit_waits exactly when there is a
why, a job exactly for a pool's worker running one; a report that says
`incomplete` may have frames whose function, file and line are null, and
null task names (reading either needs the GIL).

Besides the scenarios, sh, perl, make and a C program compiled on the fly run
with LD_PRELOAD=<lib> LD_BIND_NOW=1: same output as without, empty stderr, no
file written in their working directory.  And per interpreter,
task-object-footprint: the C Task type is 48 bytes larger with the library
(its in-object record), rounded up to whole cache lines of a task, a
subclass and an instance too, its other layout fields unchanged
(tests/e2e/lib/footprint.py).

Output: one PASS/FAIL/SKIP line per check (indented notes under it: snapshot
latencies, storm counts), the signal->snapshot latency over the whole run, then
`N passed, M failed, K skipped`; exit status 1 when anything failed.  Python
standard library only (3.8+).  This file is the front: the scenario language,
running, the report checks, the native and footprint checks are in tests/e2e/lib/.
"""

import argparse
import concurrent.futures
import glob
import os
import statistics
import sys

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, HERE)
from lib import reports  # noqa: E402  (the runner's parts: tests/e2e/lib)
from lib.evaluate import LATENCIES, evaluate, fmt_ms  # noqa: E402
from lib.reports import EXPLAINED  # noqa: E402
from lib.footprint import footprint_checks  # noqa: E402
from lib.native import native_checks  # noqa: E402
from lib.scenario import Scenario  # noqa: E402
import common  # noqa: E402  (tests/common.py, put on sys.path by lib)
from common import Failure, say, selected  # noqa: E402

SCENARIOS = os.path.join(HERE, "scenarios")


# --------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.runner_args(ap)
    ap.add_argument("--preload-first", action="append", default=[], metavar="PATH",
                    help="library to preload before it (a sanitizer runtime); repeatable")
    ap.add_argument("--debug-builds", action="store_true",
                    help="also the CPython debug builds discovery finds (slow)")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="parallel runs (2)")
    args = ap.parse_args()

    lib = os.path.abspath(args.lib)
    if not os.path.isfile(lib):
        say("FAIL setup: %s does not exist (run make first)" % lib)
        say("0 passed, 1 failed, 0 skipped")
        return 1
    # LD_PRELOAD takes a space-separated list: sanitizer runtimes go first.
    lib = " ".join([os.path.abspath(p) for p in args.preload_first] + [lib])

    passed = failed = skipped = 0
    try:
        interps, skip_lines = common.discover(include_debug=args.debug_builds,
                                              explicit=args.python)
    except common.PythonsError as e:
        say("FAIL setup: %s" % e)
        say("0 passed, 1 failed, 0 skipped")
        return 1
    # A sanitizer runtime outside the checkout and /tmp does not exist inside
    # the sid chroot (nor does the libasan an ASan build links).
    absent = [p for p in args.preload_first if not common.visible_in_sid(p)]
    if absent:
        skip_lines += ["SKIP %s: %s is outside the checkout and /tmp, so not in the sid "
                       "chroot" % (it.label, absent[0]) for it in interps if it.sid]
        interps = [it for it in interps if not it.sid]
    for line in skip_lines:
        say(line)
        skipped += 1
    if reports.jsonschema is None:
        say("SKIP report schema: %s cannot import jsonschema (Debian: python3-jsonschema), "
            "so reports are not validated against docs/report.schema.json" % sys.executable)
        skipped += 1

    scenarios = [Scenario(p) for p in sorted(glob.glob(os.path.join(SCENARIOS, "*.py")))
                 if not os.path.basename(p).startswith("_")]
    scenarios += [sc.variant(name, directives) for sc in list(scenarios)
                  for name, directives in sc.variants]
    scenarios = [s for s in scenarios if selected(s.name, args.patterns)]

    jobs = []          # (label, callable returning (status, reason))
    for sc in scenarios:
        for it in interps:
            label = "%s [%s]" % (sc.name, it.label)
            jobs.append((label, (lambda sc=sc, it=it: one(sc, it, lib))))
    jobs += native_checks(lib, args.patterns)
    jobs += footprint_checks(interps, lib, args.patterns)

    def guarded(fn):
        try:
            r = fn()
            return r if len(r) == 3 else (r[0], r[1], [])
        except common.Skip as e:
            return "skip", str(e), []
        except Failure as e:
            return "fail", str(e), e.notes
        except Exception as e:          # a runner bug must not hide the others
            return "fail", "runner error: %s: %s" % (type(e).__name__, e), []

    # The interactive scenarios take longest: start them first, print in order.
    slow = {label for sc in scenarios if sc.steps or sc.children
            for label, _ in jobs if label.startswith(sc.name + " [")}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        submitted = {}
        for label, fn in sorted(jobs, key=lambda j: j[0] not in slow):
            submitted[label] = ex.submit(guarded, fn)
        for label, _ in jobs:
            status, reason, notes = submitted[label].result()
            if status == "pass":
                passed += 1
                say("PASS %s" % label)
            elif status == "skip":
                skipped += 1
                say("SKIP %s: %s" % (label, reason))
            else:
                failed += 1
                say("FAIL %s: %s" % (label, reason))
            for note in notes:
                say("     %s" % note)

    for held, what in ((False, ""), (True, " with the GIL held by C code")):
        runs = [xs for h, xs in LATENCIES if h == held]
        lats = sorted(x for xs in runs for x in xs)
        if lats:
            say("signal->snapshot latency%s (kill() to the report's rename), %d signals in "
                "%d runs: median %s, p90 %s, max %s" % (
                    what, len(lats), len(runs), fmt_ms(statistics.median(lats)),
                    fmt_ms(lats[min(len(lats) - 1, int(len(lats) * 0.9))]), fmt_ms(lats[-1])))
    say("hang explanations: %(tasks)d pending tasks in %(reports)d reports said what they "
        "wait for; %(never)d never-wakes and %(deadlocks)d deadlocks, each declared by its "
        "scenario" % EXPLAINED)
    say("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


def one(sc, it, lib):
    if sc.error:
        return "fail", sc.error
    if sc.min_python and it.version[:len(sc.min_python)] < sc.min_python:
        return "skip", "needs Python >= %s" % ".".join(map(str, sc.min_python))
    if sc.max_python and it.version[:len(sc.max_python)] > sc.max_python:
        return "skip", "needs Python <= %s" % ".".join(map(str, sc.max_python))
    for mod in sc.modules:
        if not it.can_import(mod):
            return "skip", "module %s cannot be imported by %s" % (mod, it.path)
    return "pass", None, evaluate(sc, it, lib)


if __name__ == "__main__":
    sys.exit(main())
