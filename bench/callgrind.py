#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Instructions per task, counted by valgrind's callgrind (the load of a
shared machine does not change them much; two runs of one build: most
cells within 30 Ir/task, sid-3.13's cancel churn 305 apart, cause not yet
known).

    python3 bench/callgrind.py --lib build/libtaskleak.so [--python PATH]...
                               [--kind deep,cancel] [--mode default,native=0]
                               [--split N] [--tasks 10000,30000]

For each interpreter, workload (bench/workloads.py churn deep|cancel) and
mode, the workload runs twice under callgrind, with --tasks 10000 and 30000;
instructions per task = (Ir of the large run - Ir of the small run) / (tasks
created in the large run - in the small one), which leaves out start-up,
imports and exit.  The library's cost per task is that figure with the library
minus the same without it.  With --split N, the N functions whose cost per
task grew most with the library (any object: the library's own, and what it
calls in libc and CPython), from callgrind_annotate.

The runs of layout 0 (see layouts()) also simulate the data caches
(CACHES): the misses per task the library adds are what instructions do
not show.  A wall ratio is about twice
the instruction ratio, and an ablation (sid-3.14, deep churn) put the task
table's two look-ups at about 3 % of the wall for well under 1 % of the
instructions: the table's functions take 2.2 (debian-3.11) to 3.1 (sid-3.14)
simulated L2 misses per task, since a whole batch of other tasks ran since a
slot was last touched.  The simulation makes a run about 1.5 times as
long, so the other layouts, which only give instructions, go without it.

Every run gets a clean environment (env -i: PATH, PYTHONHASHSEED=0, so that
two runs of the same program count the same), and the runs without the
library get its two variables under other names of the same length: the
environment's size moves the interpreter's memory layout and with it hash
collisions in CPython's caches (pyenv 3.10, deep churn: 744 Ir/task).  On 3.10 the count
is the median over 8 memory layouts (see layouts()).  The
program's thread is counted apart (--separate-threads), and so are the
library's collector and helper threads.  The sid chroot's interpreters run
under the chroot's own valgrind (installed with apt-get in the chroot when
missing and we are root, one installer at a time).  Standard library only; bench/run.py uses it for
its callgrind rows.
"""

import argparse
import fcntl
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))
import common  # noqa: E402

WORKLOADS_PY = os.path.join(HERE, "workloads.py")
TASKS = (10000, 30000)
BATCH = 1000
KINDS = ("deep", "cancel")
MODES = ("default", "native=0")


def machine_caches():
    """This machine's L1i, L1d and per-core L2 as (size, ways, line), from
    glibc's reading of the CPU (getconf), for the simulation: valgrind's last
    level is the L2 here, and a miss in it goes to a shared L3 or to memory.
    A level getconf does not give, or that valgrind cannot simulate (sets not
    a power of two), is Zen 2/3's (32 KiB 8-way, 32 KiB 8-way, 512 KiB 8-way).
    A simulated L2 of half the real one counted misses that a request of
    aiohttp does not take here (sid-3.14, the library's: +79 per request in
    512 KiB; in the real 1 MiB, 10.8 with it and 17.7 without)."""
    out = []
    for name, default in (("LEVEL1_ICACHE", (32768, 8, 64)), ("LEVEL1_DCACHE", (32768, 8, 64)),
                          ("LEVEL2_CACHE", (524288, 8, 64))):
        try:
            got = tuple(int(subprocess.run(["getconf", "%s_%s" % (name, what)], capture_output=True,
                                           text=True, timeout=10).stdout.strip() or 0)
                        for what in ("SIZE", "ASSOC", "LINESIZE"))
        except (OSError, ValueError, subprocess.SubprocessError):
            got = (0, 0, 0)
        size, ways, line = got
        sets = size // (ways * line) if ways > 0 and line > 0 else 0
        ok = sets > 0 and sets & (sets - 1) == 0 and sets * ways * line == size
        out.append(got if ok else default)
    return out


CACHE_GEOMETRY = machine_caches()
CACHES = ["--cache-sim=yes"] + ["--%s=%d,%d,%d" % ((opt,) + g)
                                for opt, g in zip(("I1", "D1", "LL"), CACHE_GEOMETRY)]


def cache_label():
    """The simulated data caches, for the document: "L1d 48 KiB, L2 1 MiB"."""
    def size(n):
        return "%d MiB" % (n >> 20) if n >= 1 << 20 and not n % (1 << 20) else "%d KiB" % (n >> 10)
    return "L1d %s, L2 %s" % (size(CACHE_GEOMETRY[1][0]), size(CACHE_GEOMETRY[2][0]))


def layouts(interp):
    """How many memory layouts INTERP is counted in (TL_LAYOUT=0..N-1: the
    program maps that many pages more before its imports, so that the
    interpreter's arenas land elsewhere).  3.10's type cache hashes an
    attribute name's address (bits 3 to 14), and without 3.11's
    specialisation every attribute look-up goes through it: where the
    arenas land in 32 KiB moves deep churn by up to 1,400 Ir/task either
    way, with or without the library (no library: 58,190 in 7 layouts of 8,
    58,806 in one; native=0: +827 to +876 in 5, +1,646 to +2,269 in 3).
    The 8 layouts are the 8 pages of 32 KiB.  3.13 is counted in 4: sid's
    3.13.18 gave cancel churn +2,086 Ir/task in layout 0 and +2,402 to
    +2,427 in layouts 1-3 (the library's own functions the same in both; the
    300 in four of CPython's).  Elsewhere the layout moved the count by less
    than 50 Ir/task."""
    return {(3, 10): 8, (3, 13): 4}.get(tuple(interp.version[:2]), 1)


def extra(base, lib, which="main"):
    """(median, [each]) of what the library adds per task (WHICH: "main"
    Ir, "d1" or "l2" misses), layout by layout: BASE and LIB are lists of
    measure() results, one per layout (misses: only the simulated ones)."""
    each = sorted(b[which] - a[which] for a, b in zip(base, lib)
                  if a[which] is not None and b[which] is not None)
    return statistics.median(each), each


def tasks_run(n, batch=BATCH):
    """Tasks a `workloads.py churn --tasks N` run creates: the warm-up too."""
    return n + max(batch, n // 20)


def sid_root():
    return os.environ.get("TASKLEAK_SID_ROOT") or "/var/cache/taskleak/sid"


def valgrind_argv(interp):
    """The argv prefix that runs valgrind for INTERP, or None (and why)."""
    if interp.sid:
        root = sid_root()
        valgrind = os.path.join(root, "usr/bin/valgrind")
        if not os.path.exists(valgrind):
            if os.geteuid() != 0:
                return None, "no valgrind in the sid chroot (chroot %s apt-get install valgrind)" % root
            # bench/run.py's first two runs get here at once: a second
            # apt-get would fail on dpkg's lock.
            with open(os.path.join(root, "var/lib/dpkg/taskleak-valgrind.lock"), "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                if not os.path.exists(valgrind):
                    subprocess.run(["chroot", root, "sh", "-c",
                                    "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if not os.path.exists(valgrind):
                return None, "valgrind would not install in the sid chroot"
        return ["chroot", root, "env"], None
    if not shutil.which("valgrind"):
        return None, "no valgrind (apt-get install valgrind)"
    return ["env"], None


# The environment's size moves the interpreter's memory layout, and with it
# hash collisions in CPython's caches (pyenv 3.10, deep churn: two
# variables more or less change the no-library count by 744 Ir/task).
# Without the library, its variables are there under names of the same
# length, and TL_PAD brings every run's environment to ENV_SIZE bytes,
# whatever the paths and options; TL_LAYOUT picks the layout (layouts()).
PADDED = {"LD_PRELOAD": "XX_PRELOAD", "TASKLEAK_OPTIONS": "XXSKLEAK_OPTIONS"}
ENV_SIZE = 1024


def run_one(interp, lib, options, kind, n, out_file, cwd, active=True, layout=0):
    """(Ir of all threads, {event: count} of the program's thread) of one
    callgrind run, or raises RuntimeError.  OUT_FILE-01 is the program's
    thread.  Not ACTIVE: the library's variables are there under other
    names.  Only layout 0 simulates the caches (simulates())."""
    prefix, why = valgrind_argv(interp)
    if prefix is None:
        raise RuntimeError(why)
    env = {"PYTHONHASHSEED": "0", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "TL_LAYOUT": str(layout)}
    for name, value in (("LD_PRELOAD", lib), ("TASKLEAK_OPTIONS", options)):
        env[name if active else PADDED[name]] = value
    size = sum(len(k) + len(v) + 2 for k, v in env.items()) + len("TL_PAD") + 2
    env["TL_PAD"] = "x" * max(0, ENV_SIZE - size)
    argv = prefix + ["-i"] + ["%s=%s" % kv for kv in sorted(env.items())] + [
        "valgrind", "--tool=callgrind", "--separate-threads=yes", "--callgrind-out-file=" + out_file
    ] + (CACHES if simulates(layout) else []) + [
        interp.argv0, WORKLOADS_PY, "churn", kind, "--tasks", str(n), "--batch", str(BATCH)]
    if interp.sid:
        # chroot's cwd is /: the program's relative report path needs ours.
        argv = prefix[:2] + ["sh", "-c", 'cd "$0" && exec env "$@"', cwd] + argv[3:]
    p = subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=1800, env=common.env())
    m = re.search(r"Collected : (\d+)", p.stderr)
    if p.returncode != 0 or not m:
        raise RuntimeError("callgrind run failed (exit %d): %s" % (p.returncode, p.stderr.strip()[-400:]))
    events, main = [], None
    try:
        with open(out_file + "-01") as f:
            for line in f:
                if line.startswith("events:"):
                    events = line.split()[1:]
                elif line.startswith("totals:"):
                    main = dict(zip(events, (int(x) for x in line.split()[1:])))
    except OSError:
        pass
    want = {"Ir"} | ({"D1mr", "D1mw", "DLmr", "DLmw"} if simulates(layout) else set())
    if not main or not want <= set(main):
        raise RuntimeError("callgrind wrote no totals of %s for the program's thread (%s-01)"
                           % (", ".join(sorted(want)), out_file))
    return int(m.group(1)), main


def simulates(layout):
    """Whether the runs of LAYOUT simulate the caches: layout 0's only."""
    return layout == 0


def data_misses(events, prefix):
    """Reads and writes that missed: PREFIX "D1" (L1d) or "DL" (valgrind's
    last level, the simulated L2), or None when the run did not simulate
    them."""
    if prefix + "mr" not in events:
        return None
    return events[prefix + "mr"] + events[prefix + "mw"]


def annotate(cg_file, lib_name):
    """parse_annotate() of callgrind_annotate's table for CG_FILE."""
    # From /: file names stay whole (it shortens those under its directory).
    p = subprocess.run(["callgrind_annotate", "--threshold=100", "--auto=no",
                        "--show=Ir,D1mr,D1mw,DLmr,DLmw", cg_file], cwd="/",
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, universal_newlines=True)
    return parse_annotate(p.stdout, lib_name)


def parse_annotate(text, lib_name):
    """{(function, object basename): [self Ir, L1d, L2 data misses]} of
    callgrind_annotate --show=Ir,D1mr,D1mw,DLmr,DLmw (LIB_NAME: the
    library's file name)."""
    return {k: [ir, d1r + d1w, l2r + l2w]
            for k, (ir, d1r, d1w, l2r, l2w) in parse_counts(text, lib_name, 5).items()}


# The library's source folders, as its debug information names them (from
# the checkout's root: the Makefile's -ffile-prefix-map).  Debian's Pythons
# name theirs from their root too ("./Python/ceval.c").
LIBRARY_DIRS = ("shim", "collector")


def is_library_file(path, root=ROOT):
    """Whether PATH, as callgrind_annotate names a source file, is the
    library's: under this checkout, or from its root (a reproducible build)."""
    if path.startswith(root + os.sep):
        return True
    parts = os.path.normpath(path).split(os.sep)
    return not os.path.isabs(path) and parts[0] in LIBRARY_DIRS


def parse_counts(text, lib_name, n, root=ROOT):
    """{(function, object basename): [its N self counts]} of the function
    table of callgrind_annotate --show with N events, recursion levels
    merged, the library's inlined code by its file (is_library_file)."""
    rows = {}
    count = r"([\d,]+|\.)(?:\s+\(\s*[\d.]+%\))?\s+"   # "." is none
    for line in text.splitlines():
        if line.startswith("-- ") or "=>" in line:
            break   # the function table is over
        m = re.match(r"\s*" + count * n + r"(.*?)\s*$", line)
        if not m or m.group(n + 1) == "PROGRAM TOTALS":
            continue
        counts = [int(g.replace(",", "")) if g != "." else 0 for g in m.group(*range(1, n + 1))]
        # "file:function [object]"; code inlined from another file has no
        # [object]: the library's when its file is one of this checkout's.
        m2 = re.match(r"(.*?):(.*?)(?: \[(.*)\])?$", m.group(n + 1))
        if not m2:
            continue
        fn = re.sub(r"'\d+$", "", m2.group(2))   # recursion levels: one function
        obj = m2.group(3)
        if fn.startswith("0x"):
            obj = "?"   # a stripped object's address: annotate may name another object
        if obj is None:
            obj = lib_name if is_library_file(m2.group(1), root) else "?"
        row = rows.setdefault((fn, os.path.basename(obj)), [0] * n)
        for i, c in enumerate(counts):
            row[i] += c
    return rows


def measure(interp, lib, mode, kind, tasks=TASKS, split=False, layout=0):
    """{"per_task": Ir per task, "main": the same on the program's thread
    only, "d1"/"l2": its data misses per task in the simulated L1d and L2
    (CACHES; None in a layout that does not simulate them), with SPLIT
    (layout 0) "rows"/"d1_rows"/"l2_rows": {(fn, obj): Ir/L1d/L2 misses per
    task, that thread}} for MODE ("none": LIB is not loaded, its variables are padded).
    The other threads are the library's collector (a report a second,
    stretched some 50 times under valgrind)."""
    if split and not simulates(layout):
        raise ValueError("the split by function needs the simulated caches (layout 0)")
    ir, main, rows = [], [], []
    for n in tasks:
        # A path of one length whoever calls (it is the working directory,
        # and in the options and valgrind's arguments: all move the layout).
        d = common.mkdtemp("taskleak-cg-run.")
        opts = "report_path=%s/tl.%%p.json" % d + (":native=0" if mode == "native=0" else "")
        out = os.path.join(d, "out.cg")
        total, mine = run_one(interp, lib, opts, kind, n, out, d, mode != "none", layout)
        ir.append(total)
        main.append(mine)
        if mode != "none" and not common.report_paths(d):
            raise RuntimeError("%s %s %s: the library wrote no report (inactive?)"
                               % (interp.label, kind, mode))
        rows.append(annotate(out + "-01", os.path.basename(lib or "")) if split else {})
        shutil.rmtree(d, ignore_errors=True)
    dn = tasks_run(tasks[1]) - tasks_run(tasks[0])
    keys = set(rows[0]) | set(rows[1])

    def per(i):
        return {k: (rows[1].get(k, [0] * 3)[i] - rows[0].get(k, [0] * 3)[i]) / dn for k in keys}

    def per_main(f):
        a, b = f(main[0]), f(main[1])
        return None if a is None else (b - a) / dn

    return {"per_task": (ir[1] - ir[0]) / dn, "main": per_main(lambda e: e["Ir"]),
            "d1": per_main(lambda e: data_misses(e, "D1")),
            "l2": per_main(lambda e: data_misses(e, "DL")),
            "rows": per(0), "d1_rows": per(1), "l2_rows": per(2)}


def split_lines(base, lib, top, lib_name):
    """Lines: where the library's instructions and data misses per task go
    (LIB_NAME: the library's file name, as callgrind names its object)."""
    def grew(which):
        return {k: lib[which].get(k, 0) - base[which].get(k, 0)
                for k in set(lib[which]) | set(base[which])}
    ir, d1, l2 = grew("rows"), grew("d1_rows"), grew("l2_rows")
    own = sorted(((v, k) for k, v in ir.items() if k[1] == lib_name), reverse=True)
    other = sorted(((v, k) for k, v in ir.items() if k[1] != lib_name), reverse=True)
    lines = ["  the program's thread: %+.0f Ir, %+.1f L1d and %+.2f L2 data misses per task"
             % (lib["main"] - base["main"], lib["d1"] - base["d1"], lib["l2"] - base["l2"]),
             "  the library's own functions: %.0f Ir, %.1f L1d and %.2f L2 misses per task"
             % (sum(v for v, _ in own), sum(d1[k] for _, k in own), sum(l2[k] for _, k in own)),
             "         Ir     L1d       L2"]
    lines += ["    %7.0f  %6.1f  %7.2f  %s" % (v, d1[k], l2[k], k[0])
              for v, k in own[:top] if abs(v) >= 0.5]
    lines += ["  other objects' functions whose cost grew most (libc, CPython):"]
    lines += ["    %7.0f  %6.1f  %7.2f  %s [%s]" % (v, d1[k], l2[k], k[0], k[1])
              for v, k in other[:top] if v >= 0.5]
    # The library's footprint evicts the program's lines: its misses grow
    # where its instructions do not.
    evicted = sorted(((d1[k], k) for k in d1 if k[1] != lib_name), reverse=True)
    lines += ["  other objects' functions whose L1d misses grew most:"]
    lines += ["    %7.0f  %6.1f  %7.2f  %s [%s]" % (ir.get(k, 0), v, l2.get(k, 0), k[0], k[1])
              for v, k in evicted[:top // 2] if v >= 0.5]
    return lines


def cached_measure(path, interp, lib, mode, kind, tasks, split, layout=0):
    """measure(), remembered in PATH (a JSON file) by interpreter, workload,
    layout and the workloads' source (the environment's size is ENV_SIZE),
    and with the library by mode, the library's contents and this file's
    (not its path: bench/run.py measures a copy in a new temporary directory
    each time): one run of a build stands for it (runs of one build differ,
    see above).  An
    interpreter rebuilt under the same path and version needs a new FILE."""
    with open(WORKLOADS_PY, "rb") as f:
        key = "9|%s|%s|%s|%s|%s|%d|%d|%s|%s" % (interp.path, interp.version_str, kind, tasks, split,
                                              layout, ENV_SIZE,
                                              hashlib.sha256(f.read()).hexdigest()[:12],
                                              " ".join(CACHES) if simulates(layout) else "no-sim")
    if mode != "none":  # and by this file: it turns a mode into the library's options
        digests = []
        for name in (lib, os.path.abspath(__file__)):
            with open(name, "rb") as f:
                digests.append(hashlib.sha256(f.read()).hexdigest())
        key += "|%s|%s" % (mode, "|".join(digests))
    rows = ("rows", "d1_rows", "l2_rows")
    got = load_cache(path).get(key)
    if got:
        return dict(got, **{r: {tuple(k.split("\t")): v for k, v in got[r].items()}
                            for r in rows})
    got = measure(interp, lib, mode, kind, tasks, split, layout)
    with CACHE_LOCK:  # bench/run.py measures in threads: add to what is there now
        cache = load_cache(path)
        cache[key] = dict(got, **{r: {"\t".join(k): v for k, v in got[r].items()}
                                  for r in rows})
        with open(path + ".tmp", "w") as f:
            json.dump(cache, f)
        os.replace(path + ".tmp", path)
    return got


CACHE_LOCK = threading.Lock()


def load_cache(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lib", required=True)
    ap.add_argument("--python", action="append", default=[])
    ap.add_argument("--kind", default=",".join(KINDS))
    ap.add_argument("--mode", default="default")
    ap.add_argument("--split", type=int, default=0, metavar="N")
    ap.add_argument("--tasks", default="%d,%d" % TASKS)
    ap.add_argument("--base-cache", metavar="FILE",
                    help="remember the runs without the library in FILE")
    a = ap.parse_args()
    lib = os.path.abspath(a.lib)
    tasks = tuple(int(x) for x in a.tasks.split(","))
    interps = [common.interpreter(p) for p in a.python] or [common.interpreter(common.SYSTEM_PYTHON)]
    for interp in interps:
        for kind in a.kind.split(","):
            base = []
            for layout in range(layouts(interp)):
                if a.base_cache:
                    base.append(cached_measure(a.base_cache, interp, lib, "none", kind, tasks,
                                               a.split > 0 and simulates(layout), layout))
                else:
                    base.append(measure(interp, lib, "none", kind, tasks,
                                        a.split > 0 and simulates(layout), layout))
            print("%s %s churn: no library %.0f Ir/task" % (interp.label, kind, base[0]["per_task"]))
            for mode in a.mode.split(","):
                got = [measure(interp, lib, mode, kind, tasks, a.split > 0 and simulates(layout),
                               layout)
                       for layout in range(len(base))]
                x, _ = extra(base, got, "per_task")
                mine, each = extra(base, got)
                print("%s %s churn, %s: +%.0f Ir/task (+%.1f%%); the program's thread +%.0f%s;"
                      " its L2 data misses %+.2f/task (no library %.2f)"
                      % (interp.label, kind, mode, x, 100.0 * x / base[0]["per_task"], mine,
                         " (median of %d layouts: %s)" % (len(each), ", ".join(
                             "%.0f" % v for v in each)) if len(each) > 1 else "",
                         extra(base, got, "l2")[0], base[0]["l2"]))
                if a.split:
                    print("\n".join(split_lines(base[0], got[0], a.split, os.path.basename(lib))))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
