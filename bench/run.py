#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""taskleak benchmarks: the overhead of libtaskleak.so against no library.

    python3 bench/run.py [--lib PATH] [-k PATTERN]... [--python LABEL|PATH]...
                         [--quick] [--out docs/benchmarks.md] [--reps N] [--no-install]
                         [--cg-jobs N] [--cg-cache FILE]
    make bench K=deep PY=sid-3.14        (the same, from make)

-k keeps the workloads whose name (callgrind, shallow, deep, cancel, aiohttp,
memory, lag) contains a pattern; --python takes labels as `python3
tests/pythons.py` prints them, or paths.

Every workload runs in a fresh child interpreter per sample, under each mode:

  none      no library (the reference every ratio is taken to)
  default   LD_PRELOAD=<lib>, default options
  native=0  LD_PRELOAD=<lib>, TASKLEAK_OPTIONS=native=0
  debug     PYTHONASYNCIODEBUG=1, no library (churn workloads only)

Library modes always get `report_path=<temp dir>/tl.%p.json` and nothing else
(no `interval=0`: the defaults are what users get), and each run's report is
read back to check that the library was active (tasks_created, and
cancel_requests for cancel churn).  Samples alternate between modes within
each repetition, in the reverse order every other repetition (none, default,
native=0, debug; debug, native=0, default, none; ...), so that a drift of the
machine's speed weighs on every mode alike; a ratio is the median over
repetitions of that repetition's mode / none, and the Noise section gives the
range and the quartiles of those per-repetition ratios.  Churn samples also
measure the process's CPU time (all its threads), which a busy machine
disturbs less than the clock: the CPU-time rows have no budget.

Workloads (bench/workloads.py, bench/aiohttp_server.py):
  shallow churn   create + gather trivial tasks in batches of 1000; ns/task
  deep churn      the same, create_task called 20 Python frames deep
  cancel churn    create, start, cancel, drain (gather return_exceptions)
  aiohttp         hello-world server (Debian python3-aiohttp, so only an
                  interpreter that imports it) under wrk on 127.0.0.1, req/s,
                  default loop and uvloop; the server stops by itself.
                  Every mode's server at once on one CPU, a wrk each on
                  the other, all at the same time; req/s, and requests
                  per CPU-second of the server beside it.  A second
                  no-library server is the A/A control: after 9
                  repetitions, more (to 25) while the medians have not
                  held still: the control's over 1% from 1, or any
                  ratio's median moved over 0.5% in two repetitions
  memory          peak RSS (VmHWM) after 1M and 2M finished tasks; MiB over
                  no library at 1M, and the growth from 1M to 2M
  callgrind       instructions per task added by the library, deep and cancel
                  churn, default and native=0 (bench/callgrind.py: valgrind's
                  callgrind, a 10k- and a 30k-task run, PYTHONHASHSEED=0):
                  the program's thread (the hooks) against the budget, all
                  threads beside it (the collector's once-a-second report is
                  stretched some 50 times under valgrind, so that figure
                  moves with the load), and where the instructions go; the
                  runs of the first memory layout also simulate the data
                  caches (this machine's L1d and L2): the misses per task
                  the library adds.  Runs
                  before the timed workloads, --cg-jobs at a time (default 2);
                  --cg-cache FILE remembers the runs: those without the
                  library, and the library's by its sha256 and mode.  Not
                  in --quick (minutes per interpreter).

Interpreters (tests/common.py, which also names the columns): /usr/bin/python3,
the newest pyenv CPython of each supported minor and the Debian sid chroot's
(not their debug builds); a supported minor none of them has is a SKIP column.
`--python LABEL|PATH` (repeatable) replaces that list.

Prints the ratio table (marked against the budget of issue 20), then the
absolute numbers, on stdout; progress goes to stderr.  `--out FILE` also
writes the same document to FILE, keeping anything below the line
`<!-- notes: kept by bench/run.py -->` of an existing FILE.

--quick runs every workload once, tiny: a smoke test that only checks that
everything runs (its numbers mean nothing).  Exit status: 0 when every
sample ran and every library run was active, 1 otherwise; a budget miss never
fails the run (benchmarks are not tests).  Python standard library only.
"""

import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))
import common  # noqa: E402  (tests/common.py: interpreters, environment, reports)
import callgrind  # noqa: E402  (bench/callgrind.py: instructions per task)
from workloads import SLEEP_S, SLOW_S  # noqa: E402  (the lag workload's sleep and listing bar)

WORKLOADS_PY = os.path.join(HERE, "workloads.py")
SERVER_PY = os.path.join(HERE, "aiohttp_server.py")
NOTES_MARK = "<!-- notes: kept by bench/run.py -->"

MODES = ["none", "default", "native=0", "debug"]
LIB_MODES = ["default", "native=0"]
AIOHTTP_RATIOS = ["control"] + LIB_MODES  # each beside "none"
AIOHTTP_MODES = ["none"] + AIOHTTP_RATIOS
PER_CPU = "aiohttp per CPU-second"  # the results' key of those samples
AA_TOLERANCE = 0.01   # aiohttp: repeat (to wrk_reps_max) until the A/A control is this close to 1
STILL_TOLERANCE = 0.005  # ... and no ratio's median moved more than this over two repetitions
MODE_LABEL = {"none": "no library", "default": "default", "native=0": "`native=0`",
              "debug": "`PYTHONASYNCIODEBUG=1`", "control": "no library, A/A control"}
CHURN = ["shallow", "deep", "cancel"]
CHURN_LABEL = {"shallow": "shallow churn", "deep": "deep churn (20 frames)",
               "cancel": "cancel churn"}
LOOPS = ["asyncio", "uvloop"]
ALL_WORKLOADS = CHURN + ["aiohttp", "memory", "lag", "callgrind"]
LAG_SITES = [1000, 10000]
# wrk and the server each on a CPU of their own: on a 2-CPU machine they
# would otherwise take turns on both, and their contention is most of the
# noise of a requests/s ratio.
PIN = bool(shutil.which("taskset")) and len(os.sched_getaffinity(0)) >= 2
# Churn duets: the two children trade CPUs this often.  A vCPU of this kind
# of machine can run at 0.6 times the other's for a whole run (a duet's
# ratio of 0.63 or 1.73); trading within the run, each child's fastest batch
# (of 5-40 ms) comes from the faster CPU, as its partner's does.
SWAP_S = 0.1
LAG_BUDGET_MS = 1.0  # issue 11: within 1 ms of the lag without the library
# Loop lag: a sentinel's sleep this much late is a stall of its CPU.  The
# worst lag of a run is mostly such stalls (one vCPU at a time, 1-20 ms, in
# both modes alike: debian-3.11, 10k sites, the runs' maxima differ by
# 2.9 ms at the A/A p95, by 0.2 ms once the stalls the sentinels saw are
# excused).
STALL_S = 0.0005
# The collector gives the GIL back every 0.25 ms (shim/hooks/gil.c): its
# longest hold, a slice and the step that crossed it, stays under two.
HOLD_BUDGET_MS = 0.5

# Budget (issue 20).  churn: ratio <= limit; aiohttp: ratio >= limit;
# callgrind: instructions per task added, the program's thread, <= limit.
CHURN_BUDGET = {("deep", "default"): 1.05, ("deep", "native=0"): 1.05,
                ("cancel", "default"): 1.10, ("cancel", "native=0"): 1.10}
AIOHTTP_BUDGET = 0.98
IR_BUDGET = {"deep": 1000, "cancel": 2500}
CG_KINDS = ["deep", "cancel"]
MEM_BUDGET_MIB = 16.0
MEM_FLAT_MIB = 1.0   # growth 1M->2M may exceed no library's by at most this

FULL = {"reps": 8, "debug_reps": 3, "churn_tasks": {"shallow": 150000, "deep": 150000, "cancel": 100000},
        "debug_div": 20, "batch": 1000, "mem_tasks": 2000000, "mem_reps": 1,
        "wrk_seconds": 3, "wrk_reps": 9, "wrk_reps_max": 25, "wrk_rounds": 2, "lag_reps": 11,
        "lag_seconds": 2.3}
QUICK = {"reps": 1, "debug_reps": 1, "churn_tasks": {"shallow": 2000, "deep": 2000, "cancel": 2000},
         "debug_div": 10, "batch": 1000, "mem_tasks": 20000, "mem_reps": 1,
         "wrk_seconds": 1, "wrk_reps": 1, "wrk_reps_max": 1, "wrk_rounds": 1, "lag_reps": 1,
         "lag_seconds": 1.2}

OK, MISS = "\u2713", "\u2717"
MEM_MARKS = ["1M", "2M"]     # set from the configuration in main()
# Left out of every run's environment, besides the library and its options.
STRIP_ENV = ("PYTHONASYNCIODEBUG", "PYTHONDEVMODE", "PYTHONMALLOC", "PYTHONTRACEMALLOC",
             "PYTHONPROFILEIMPORTTIME")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def count_label(n):
    if n % 1000000 == 0:
        return "%dM" % (n // 1000000)
    if n % 1000 == 0:
        return "%dk" % (n // 1000)
    return str(n)


def median(xs):
    return statistics.median(xs) if xs else None


# ---------------------------------------------------------------- machine

def machine_info():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kib = int(f.readline().split()[1])
            mem = "%.0f GiB RAM" % (kib / 1048576.0)
    except (OSError, ValueError, IndexError):
        pass
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"nproc": nproc, "cpu": model, "mem": mem, "load": loadavg(),
            "kernel": "%s %s" % (platform.system(), platform.release())}


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def lib_info(lib):
    h = hashlib.sha256()
    with open(lib, "rb") as f:
        h.update(f.read())
    info = {"sha": h.hexdigest()[:12], "commit": None, "dirty": False}
    try:
        info["commit"] = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                                        capture_output=True, text=True, timeout=10).stdout.strip() or None
        st = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "shim", "collector",
                             "Makefile"], capture_output=True, text=True, timeout=10).stdout
        info["dirty"] = bool(st.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return info


# ---------------------------------------------------------------- interpreters

def pin_process(pid, cpu):
    """Every thread of PID onto CPU (a new thread takes its creator's CPUs)."""
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return
    for tid in tids:
        try:
            os.sched_setaffinity(int(tid), {cpu})
        except (OSError, ValueError):
            pass


class Interp:
    """A column: an interpreter of tests/common.py (py), or a SKIP column."""

    def __init__(self, label, py=None, skip=None):
        self.label, self.py, self.skip = label, py, skip
        self.path = py.path if py else None

    @property
    def has_aiohttp(self):
        return self.py.can_import("aiohttp")

    @property
    def has_uvloop(self):
        return self.py.can_import("uvloop")


def discover(explicit):
    if explicit:
        cols = []
        for p in explicit:
            try:
                found, notes = common.discover(explicit=[p])
            except common.PythonsError as e:
                cols.append(Interp(p, skip="SKIP (%s)" % e))
                continue
            cols += [Interp(it.label, it) for it in found]
            cols += [Interp(p, skip=note) for note in notes]
        return cols
    found, notes = common.discover()
    for note in notes:
        log("bench: %s" % note)
    newest = {}
    for it in found:
        if it.pyenv and (it.minor not in newest or it.version > newest[it.minor].version):
            newest[it.minor] = it
    cols = [Interp(it.label, it) for it in found if not it.pyenv or newest[it.minor] is it]
    have = {c.py.minor for c in cols}
    for minor in range(common.MINOR_MIN, common.MINOR_MAX + 1):
        if (3, minor) not in have:
            cols.append(Interp("python3.%d" % minor, skip="SKIP (absent)"))
    return cols


def ensure_debs(pkgs, allow_install):
    """Install missing Debian packages when root and allowed; return the missing ones."""
    def missing():
        out = []
        for p in pkgs:
            r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", p], capture_output=True, text=True)
            if "install ok installed" not in r.stdout:
                out.append(p)
        return out
    if not shutil.which("dpkg-query"):
        return []
    miss = missing()
    if miss and allow_install and os.geteuid() == 0:
        log("bench: installing %s" % " ".join(miss))
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], env=env, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "-qq"] + miss, env=env,
                       stdout=subprocess.DEVNULL)
        miss = missing()
    if miss:
        log("bench: missing Debian packages: %s (apt-get install -y %s)" % (" ".join(miss), " ".join(miss)))
    return miss


# ---------------------------------------------------------------- running

class Runner:
    def __init__(self, lib, tmp):
        self.lib, self.tmp, self.n = lib, tmp, 0
        self.errors = []
        self.hook_stats = {}     # interp label -> extra stats keys of one report

    def env(self, mode):
        self.n += 1
        rdir = os.path.join(self.tmp, "r%d" % self.n)
        os.mkdir(rdir)
        if mode in LIB_MODES:
            opts = [("report_path", "%s/tl.%%p.json" % rdir)]
            if mode == "native=0":
                opts.append(("native", 0))
            env = common.env(lib=self.lib, options=opts, drop=STRIP_ENV)
        elif mode == "debug":
            env = common.env(drop=STRIP_ENV, PYTHONASYNCIODEBUG="1")
        else:
            env = common.env(drop=STRIP_ENV)
        return env, rdir

    def check_report(self, what, mode, rdir, min_tasks, min_cancels=0, stderr=""):
        """Library modes: exactly one report, library active.  Returns stats or None."""
        files = common.report_paths(rdir)
        stats = None
        if mode in LIB_MODES:
            if not files:
                self.errors.append("%s [%s]: no report written: library inactive? %s"
                                   % (what, mode, stderr.strip()[-300:]))
            else:
                try:
                    stats = common.read_json(files[-1]).get("stats", {})
                except (OSError, ValueError) as e:
                    self.errors.append("%s [%s]: unreadable report: %s" % (what, mode, e))
                if stats is not None:
                    if stats.get("tasks_created", 0) < min_tasks:
                        self.errors.append("%s [%s]: report counts %s tasks, expected >= %d"
                                           % (what, mode, stats.get("tasks_created"), min_tasks))
                    if stats.get("cancel_requests", 0) < min_cancels:
                        self.errors.append("%s [%s]: report counts %s cancels, expected >= %d"
                                           % (what, mode, stats.get("cancel_requests"), min_cancels))
                    leaks = sum((stats.get("leaks") or {}).values())
                    if leaks:
                        self.errors.append("%s [%s]: report has %d leaks, expected none"
                                           % (what, mode, leaks))
        elif files:
            self.errors.append("%s [%s]: a report was written without the library" % (what, mode))
        shutil.rmtree(rdir, ignore_errors=True)
        return stats

    def child(self, interp, mode, args, what, min_tasks, min_cancels=0, timeout=300):
        return self.children(interp, [mode], args, what, min_tasks, min_cancels, timeout)[0]

    def children(self, interp, modes, args, what, min_tasks, min_cancels=0, timeout=300,
                 cpus=None):
        """One workload child per mode, all at once, the i-th on cpus[i] when
        given, and on the next of CPUS every SWAP_S; their results (None for a
        failed one), in order.  Their output is a line or two: the pipes are
        read once they have ended."""
        procs = []
        for i, mode in enumerate(modes):
            env, rdir = self.env(mode)
            pin = ["taskset", "-c", str(cpus[i])] if cpus else []
            procs.append((mode, rdir, subprocess.Popen(
                pin + [interp.path, WORKLOADS_PY] + args, env=env, cwd=rdir,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
        deadline = time.monotonic() + timeout
        if cpus:  # they trade CPUs until they end: each runs on both alike
            flip = 0
            while time.monotonic() < deadline and any(p.poll() is None for _, _, p in procs):
                time.sleep(SWAP_S)
                flip ^= 1
                for i, (_, _, proc) in enumerate(procs):
                    if proc.poll() is None:
                        pin_process(proc.pid, cpus[(i + flip) % len(cpus)])
        done = []
        for mode, rdir, proc in procs:
            try:
                out, err = proc.communicate(timeout=max(1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                self.errors.append("%s [%s]: timed out after %ss" % (what, mode, timeout))
                shutil.rmtree(rdir, ignore_errors=True)
                done.append(None)
                continue
            done.append(self.finish(subprocess.CompletedProcess(proc.args, proc.returncode, out, err),
                                    mode, rdir, what, min_tasks, min_cancels))
        return done

    def finish(self, p, mode, rdir, what, min_tasks, min_cancels):
        if p.returncode != 0:
            self.errors.append("%s [%s]: exit %d: %s" % (what, mode, p.returncode,
                                                         p.stderr.strip()[-500:]))
            shutil.rmtree(rdir, ignore_errors=True)
            return None
        try:
            res = json.loads(p.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            self.errors.append("%s [%s]: bad output %r" % (what, mode, p.stdout[-200:]))
            shutil.rmtree(rdir, ignore_errors=True)
            return None
        stats = self.check_report(what, mode, rdir, min_tasks, min_cancels, p.stderr)
        if stats is not None:
            res["stats"] = stats
        return res

    # -- aiohttp under wrk
    def wrk_rounds(self, interp, modes, loop, rounds, seconds, turn=0):
        """({mode: [req/s per round]}, {mode: [requests per CPU-second per
        round]}): a server per mode, all up at once on one CPU, and in each
        round a wrk per server on the other, all SECONDS at the same time.
        The servers share their CPU through every change of its speed, so
        that a round's ratio is of one time: run in turn, each a second,
        the ratios of one repetition spread 0.6-1.3, and together 0.93-1.07
        (sid-3.14).  Requests per CPU-second (every thread of the server)
        is the same without the scheduler's fairness between the servers;
        a library that made its server wait rather than work would show
        in req/s only.  TURN (the repetition's number) and the round's say
        whose wrk starts first."""
        what = "%s aiohttp/%s" % (interp.label, loop)
        cpus = sorted(os.sched_getaffinity(0))[:2] if PIN else []
        pin = (lambda i: ["taskset", "-c", str(cpus[i])]) if PIN else (lambda i: [])
        budget = (rounds + 1) * (seconds + 1) + 60  # the warm-up is a round
        servers = {}
        rps, per_cpu = ({m: [] for m in modes} for _ in range(2))
        try:
            for mode in modes:
                env, rdir = self.env(mode)
                servers[mode] = (rdir, subprocess.Popen(
                    pin(1) + [interp.path, SERVER_PY, "--loop", loop, "--max-seconds", str(budget)],
                    env=env, cwd=rdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
            ports = {}
            for mode, (_, srv) in servers.items():
                ready, _, _ = select.select([srv.stdout], [], [], 20)
                line = srv.stdout.readline() if ready else ""
                m = re.match(r"READY (\d+)", line)
                if not m:
                    self.errors.append("%s [%s]: server not ready: %r" % (what, mode, line))
                    return ({mode: [None] * rounds for mode in modes},) * 2
                ports[mode] = int(m.group(1))
            pids = {mode: srv.pid for mode, (_, srv) in servers.items()}
            self.wrk_together(pin(0), ports, pids, 1, what, modes)  # warm-up, untimed
            for rnd in range(rounds):
                got = self.wrk_together(pin(0), ports, pids, seconds, what,
                                        start_order(modes, turn + rnd))
                for mode in modes:
                    rps[mode].append(got[mode][0])
                    per_cpu[mode].append(got[mode][1])
        finally:
            for mode, (rdir, srv) in servers.items():
                self.stop_server(srv, rdir, what, mode, any(rps[mode]))
        return rps, per_cpu

    def wrk_together(self, pin, ports, pids, seconds, what, order):
        """{mode: (req/s, requests per CPU-second)} of one wrk per server,
        started in ORDER and run at the same time (None for a failed one)."""
        cpu0 = {m: process_cpu_s(pids[m]) for m in order}
        runs = {m: subprocess.Popen(pin + ["wrk", "-t1", "-c32", "-d%ds" % seconds, "--timeout", "2s",
                                           "http://127.0.0.1:%d/" % ports[m]],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for m in order}
        out = {}
        for m, w in runs.items():
            try:
                stdout, stderr = w.communicate(timeout=seconds + 30)
            except subprocess.TimeoutExpired:
                w.kill()
                w.communicate()
                self.errors.append("%s [%s]: wrk timed out" % (what, m))
                out[m] = (None, None)
                continue
            out[m] = self.wrk_result(w.returncode, stdout, stderr, what, m)
        for m in order:
            cpu1, reqs = process_cpu_s(pids[m]), out[m][1]
            cpu = cpu1 - cpu0[m] if cpu1 is not None and cpu0[m] is not None else 0
            out[m] = (out[m][0], reqs / cpu if reqs and cpu > 0 else None)
        return out

    def wrk_result(self, rc, stdout, stderr, what, mode):
        """(requests/s, requests) of one wrk run's output, or (None, None)."""
        rate = re.search(r"Requests/sec:\s*([\d.]+)", stdout)
        count = re.search(r"(\d+) requests in ", stdout)
        if rc != 0 or not rate or not count:
            self.errors.append("%s [%s]: wrk failed: %s %s" % (what, mode, stdout[-300:],
                                                              stderr[-300:]))
            return None, None
        if "Non-2xx" in stdout or "Socket errors" in stdout:
            self.errors.append("%s [%s]: wrk saw errors: %s" % (what, mode, stdout.strip()))
        return float(rate.group(1)), int(count.group(1))

    def stop_server(self, srv, rdir, what, mode, served):
        if srv.poll() is None:
            srv.send_signal(signal.SIGTERM)
        try:
            _, err = srv.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            srv.kill()
            _, err = srv.communicate()
            self.errors.append("%s [%s]: server did not stop on SIGTERM" % (what, mode))
        if srv.returncode not in (0, None) and served:
            self.errors.append("%s [%s]: server exit %s: %s" % (what, mode, srv.returncode,
                                                               err.strip()[-300:]))
        self.check_report(what, mode, rdir, 1, 0, err or "")


def process_cpu_s(pid):
    """CPU seconds of every live thread of PID (schedstat: nanoseconds,
    where /proc/PID/stat counts 10 ms ticks), or None."""
    try:
        total = 0
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        return total / 1e9
    except (OSError, ValueError, IndexError):
        return None


# ---------------------------------------------------------------- workloads

def run_churn(r, interp, cfg, res, kinds):
    """Duets (Bulej et al., "Duet benchmarking", 2020): a library mode and no
    library run at the same time, each on a CPU of its own (the two trade
    CPUs every SWAP_S, and start on the other one every other repetition),
    so that what slows a shared machine down, or one of its CPUs, slows both;
    without two CPUs, one after the other.  Asyncio debug, for reference,
    runs beside no library too, in the first repetitions."""
    cpus = sorted(os.sched_getaffinity(0))[:2] if PIN else None
    for kind in kinds:
        n = cfg["churn_tasks"][kind]
        keys = MODES + ["none@" + m for m in MODES if m != "none"]
        samples, whole, cpu = ({k: [] for k in keys} for _ in range(3))
        for rep in range(cfg["reps"]):
            lib_modes = [m for m in MODES if m != "none" and (m != "debug" or rep < cfg["debug_reps"])]
            for mode in lib_modes if rep % 2 == 0 else lib_modes[::-1]:
                tasks = max(cfg["batch"], n // cfg["debug_div"]) if mode == "debug" else n
                what = "%s %s churn rep %d" % (interp.label, kind, rep + 1)
                args = ["churn", kind, "--tasks", str(tasks), "--batch", str(cfg["batch"])]
                pair = ["none", mode] if rep % 2 == 0 else [mode, "none"]
                if cpus:
                    outs = r.children(interp, pair, args, what, min_tasks=tasks,
                                      min_cancels=tasks if kind == "cancel" else 0, timeout=600,
                                      cpus=cpus)
                else:
                    outs = [r.child(interp, m, args, what, min_tasks=tasks,
                                    min_cancels=tasks if kind == "cancel" else 0, timeout=600)
                            for m in pair]
                if cpus:
                    fastest_while_both_ran(outs)
                for m, out in zip(pair, outs):
                    for key in ([m] if m != "none" else ["none", "none@" + mode]):
                        samples[key].append(out["fastest_batch_ns_per_task"] if out else None)
                        whole[key].append(out["ns_per_task"] if out else None)
                        cpu[key].append(out.get("cpu_ns_per_task") if out else None)
                    if out and m == "default" and kind in ("deep", "cancel"):
                        extra = {k: v for k, v in out.get("stats", {}).items()
                                 if k not in ("tasks_created", "tasks_done", "tasks_live",
                                              "cancel_requests", "leaks", "leaks_omitted")}
                        if extra:
                            r.hook_stats.setdefault(interp.label, {})[kind] = {
                                "tasks": out["stats"].get("tasks_created"), "extra": extra}
            log("  %s rep %d: %s" % (kind, rep + 1, "  ".join(
                "%s %s/%s" % (m, "%.0f" % samples[m][-1] if samples[m][-1] else "ERR",
                              "%.0f ns" % samples["none@" + m][-1] if samples["none@" + m][-1]
                              else "ERR")
                for m in lib_modes)))
        res[("churn", kind)] = samples
        res[("whole", kind)] = whole
        res[("cpu", kind)] = cpu


def fastest_while_both_ran(outs):
    """A duet's samples: each child's fastest batch among those it ran while
    the other ran too.  The library's child ends last, and a machine slow
    until the other had ended would otherwise give it alone the quick
    batches (a duet ratio of 0.78 once)."""
    if not all(out and out.get("batches") for out in outs):
        return
    start = max(out["batches"][0][0] for out in outs)
    end = min(out["batches"][-1][1] for out in outs)
    inside = [[b[2] for b in out["batches"] if b[0] >= start and b[1] <= end] for out in outs]
    if all(inside):
        for out, times in zip(outs, inside):
            out["fastest_batch_ns_per_task"] = min(times)


def start_order(modes, turn):
    """The modes in the order their wrk starts in TURN (a repetition's
    number plus its round's): who starts first turns round."""
    k = turn % len(modes)
    return modes[k:] + modes[:k]


def run_aiohttp(r, interp, cfg, res, have_wrk):
    for loop in LOOPS:
        key = ("aiohttp", loop)
        skip = ("no wrk" if not have_wrk else "no aiohttp" if not interp.has_aiohttp
                else "no uvloop" if loop == "uvloop" and not interp.has_uvloop else None)
        if skip:
            res[key] = res[(PER_CPU, loop)] = "SKIP (%s)" % skip
            continue
        # Fresh servers each repetition: one server's luck (its hash seed,
        # where its memory landed) is not every sample's.  It is most of
        # the noise (sid-3.14: a repetition's rounds agree within 2 %, its
        # ratio is 0.93 or 1.0), hence many repetitions of few rounds.
        # A second no-library server: how far apart two of the same are
        # (the noise floor a library mode's ratio is read against).
        # More repetitions until the medians hold still: the control's within
        # AA_TOLERANCE of 1 (two servers of the same), and no ratio's median
        # moved more than STILL_TOLERANCE over the last two repetitions.
        samples, per_cpu = ({m: [] for m in AIOHTTP_MODES} for _ in range(2))
        history = {m: [] for m in AIOHTTP_RATIOS}  # each ratio's median after each repetition
        for rep in range(cfg["wrk_reps_max"]):
            got, got_cpu = r.wrk_rounds(interp, list(samples), loop, cfg["wrk_rounds"],
                                        cfg["wrk_seconds"], turn=rep)
            for mode, xs in got.items():
                samples[mode] += xs
                per_cpu[mode] += got_cpu[mode]
            for mode in AIOHTTP_RATIOS:
                ratios = paired_ratios(samples, mode)
                history[mode].append(median(ratios) if ratios else None)
            log("  aiohttp/%s rep %d: %s (medians so far %s)" % (loop, rep + 1, "  ".join(
                "%s %s" % (m, "/".join("%.0f" % x if x else "ERR" for x in xs))
                for m, xs in got.items()), " ".join(
                "%s %s" % (m, "%.3f" % h[-1] if h[-1] else "-") for m, h in history.items())))
            if rep + 1 >= cfg["wrk_reps"] and medians_still(history):
                break
        res[key] = samples
        res[(PER_CPU, loop)] = per_cpu


def medians_still(history):
    """Whether the aiohttp ratios' medians (per repetition, HISTORY) have
    held still: the A/A control near 1, each the same as two repetitions
    ago.  A ratio with no samples (every wrk failed) does not hold it up."""
    aa = history["control"][-1]
    if aa is not None and abs(aa - 1) > AA_TOLERANCE:
        return False
    return all(len(h) < 3 or h[-1] is None or h[-3] is None
               or abs(h[-1] - h[-3]) <= STILL_TOLERANCE for h in history.values())


def run_memory(r, interp, cfg, res):
    n = cfg["mem_tasks"]
    samples = {m: [] for m in ["none"] + LIB_MODES}
    for rep in range(cfg["mem_reps"]):
        for mode in samples:
            what = "%s memory rep %d" % (interp.label, rep + 1)
            out = r.child(interp, mode, ["memory", "--tasks", str(n), "--batch", str(cfg["batch"])],
                          what, min_tasks=n, timeout=900)
            if out:
                h = out["hwm_kib"]
                samples[mode].append((h[str(n // 2)] / 1024.0, h[str(n)] / 1024.0))
            else:
                samples[mode].append(None)
        log("  memory rep %d: %s" % (rep + 1, "  ".join(
            "%s %s" % (m, "%.1f/%.1f MiB" % s[-1] if s[-1] else "ERR") for m, s in samples.items())))
    res[("memory",)] = samples


class Sentinels:
    """A no-library lag loop on each CPU, pinned (taskset) and SCHED_FIFO
    (chrt): it preempts every ordinary thread, the library's among them,
    so what makes it late is what the machine's scheduler cannot help (the
    hypervisor taking the vCPU, interrupts, the kernel's own work).  A
    measured program's late sleep that overlaps one of their stalls is the
    machine's."""

    def __init__(self):
        self.procs, self.why = [], None
        if not (shutil.which("chrt") and shutil.which("taskset")):
            self.why = "no chrt or taskset"
            return
        for cpu in sorted(os.sched_getaffinity(0)):
            self.procs.append(subprocess.Popen(
                ["chrt", "-f", "10", "taskset", "-c", str(cpu), sys.executable, WORKLOADS_PY,
                 "lag", "--sites", "0", "--until-eof"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))

    def stop(self):
        """(the stalls as [(start, end)], the span all of them watched), or
        None when one could not run (self.why says why)."""
        outs = []
        for proc in self.procs:
            try:
                out, err = proc.communicate(timeout=60)
                outs.append(json.loads(out.strip().splitlines()[-1]))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                self.why = "a sentinel did not stop"
            except (ValueError, IndexError):
                self.why = self.why or "a sentinel failed: %s" % err.strip()[-200:]
        if self.why or not outs:
            return None
        stalls = [(a, b) for o in outs for a, b in o["slow"] if b - a - SLEEP_S > STALL_S]
        return stalls, (max(o["span"][0] for o in outs), min(o["span"][1] for o in outs))


def excuse_stalls(out, watched):
    """A lag run's worst sleep once those overlapping the sentinels' stalls
    are left out (ms), and how many were: (max_ms, excused, stalls beside
    the run's sleeps)."""
    stalls, (lo, hi) = watched
    first, last = out["span"]
    kept, excused = [], 0
    for a, b in out["slow"]:
        if lo <= a and b <= hi and any(x < b and a < y for x, y in stalls):
            excused += 1
        else:
            kept.append(b - a - SLEEP_S)
    # all the listed sleeps excused: the rest were under the listing's bar
    worst = max(kept) * 1e3 if kept else min(out["max_ms"], SLOW_S * 1e3)
    return worst, excused, sum(1 for a, b in stalls if first <= a and b <= last)


def lag_sample(out):
    return out["max_ms"], out["p99_ms"], out["teardown_ms"]


def run_lag(r, interp, cfg, res):
    """Timer lag with and without the library (alternating), beside the
    sentinels, and the spawn hook's cost with thousands of distinct
    creation sites under default periodic reporting (from the report's own
    stats.hooks)."""
    for sites in LAG_SITES:
        outs = {m: [] for m in ["none", "default"]}
        spawn_ns, hold_ms = [], []
        sentinels = Sentinels()
        for rep in range(cfg["lag_reps"]):
            for mode in outs:
                what = "%s lag %d sites rep %d" % (interp.label, sites, rep + 1)
                out = r.child(interp, mode, ["lag", "--sites", str(sites), "--seconds",
                                             str(cfg["lag_seconds"])], what, min_tasks=sites)
                outs[mode].append(out)
                hooks = ((out or {}).get("stats") or {}).get("hooks") or {}
                spawn = hooks.get("spawn") or {}
                if spawn.get("calls"):
                    spawn_ns.append(spawn["ns"] / spawn["calls"])
                collect = hooks.get("collect") or {}
                if collect.get("calls"):
                    hold_ms.append(collect["max_ns"] / 1e6)
            log("  lag %d sites rep %d: %s" % (sites, rep + 1, "  ".join(
                "%s %s" % (m, "max %.1f / p99 %.2f ms, teardown %.2f ms" % lag_sample(o[-1])
                           if o[-1] else "ERR") for m, o in outs.items())))
        samples = {m: [lag_sample(o) if o else None for o in got] for m, got in outs.items()}
        watched = sentinels.stop()
        if watched is None:  # the max rows would have no verdict
            r.errors.append("%s lag %d sites: no sentinels (%s): the machine's stalls are not "
                            "excused" % (interp.label, sites, sentinels.why))
        excused = {m: [excuse_stalls(o, watched) if o and watched else None for o in outs[m]]
                   for m in outs}
        res[("lag", sites)] = (samples, spawn_ns, hold_ms, excused)


def run_callgrind(interps, lib, jobs, cache, errors):
    """{label: {(kind, mode): [measure() result per layout]}} for every
    interpreter, in a pool of JOBS (callgrind counts do not depend on the
    load)."""
    import concurrent.futures
    work = [(it, kind, mode, layout) for it in interps if not it.skip
            for kind in CG_KINDS for mode in ["none"] + LIB_MODES
            for layout in range(callgrind.layouts(it.py))]

    def one(job):
        it, kind, mode, layout = job
        try:
            if cache:  # the library's runs by its sha256: an unchanged build is not rerun
                got = callgrind.cached_measure(cache, it.py, lib, mode, kind, callgrind.TASKS,
                                               callgrind.simulates(layout), layout)
            else:
                got = callgrind.measure(it.py, lib, mode, kind, split=callgrind.simulates(layout),
                                        layout=layout)
        except (RuntimeError, OSError, subprocess.SubprocessError) as e:
            return job, None, str(e)
        return job, got, None

    out = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as ex:
        for (it, kind, mode, layout), got, err in ex.map(one, work):
            if err:
                errors.append("%s callgrind %s churn [%s]: %s" % (it.label, kind, mode, err))
                continue
            out.setdefault(it.label, {}).setdefault((kind, mode), []).append(got)
            log("  callgrind %s %s churn %s%s: %.0f Ir/task, the program's thread %.0f"
                % (it.label, kind, mode, " layout %d" % layout if layout else "",
                   got["per_task"], got["main"]))
    return {label: {k: v for k, v in got.items()
                    if len(v) == callgrind.layouts(next(it.py for it in interps
                                                        if it.label == label))}
            for label, got in out.items()}


def cg_extra(res, kind, mode, which="main"):
    """Ir per task the library adds (MODE over none; the median over the
    interpreter's memory layouts), or None."""
    got = res.get(("cg", kind))
    if not got or mode not in got or "none" not in got:
        return None
    return callgrind.extra(got["none"], got[mode], which)[0]


def cell_cg(res, kind, mode):
    x = cg_extra(res, kind, mode)
    if x is None:
        return "–"
    got = res[("cg", kind)]
    each = callgrind.extra(got["none"], got[mode])[1]
    return "%s %s%s" % ("{:,.0f}".format(x), OK if x <= IR_BUDGET[kind] else MISS,
                        " (median of %d layouts: %s)" % (len(each), "/".join(
                            "{:,.0f}".format(v) for v in each)) if len(each) > 1 else "")


def cell_misses(res, kind, mode):
    """L1d and L2 data misses per task MODE adds (the program's thread)."""
    d1, l2 = cg_extra(res, kind, mode, "d1"), cg_extra(res, kind, mode, "l2")
    return "–" if d1 is None else "L1d %+.1f, L2 %+.2f" % (d1, l2)


def aa_noise(none, draws=2000):
    """How far the lag rows' estimate (the median of paired differences)
    strays with no library at all: the no-library runs resampled against
    themselves, its 95th percentile (a fixed seed: the document is the same
    for the same samples)."""
    import random
    rng, n = random.Random(0), len(none)
    if n < 2:
        return None
    est = sorted(median([b - a for a, b in zip(rng.choices(none, k=n), rng.choices(none, k=n))])
                 for _ in range(draws))
    return est[int(draws * 0.95)]


def cell_lag(res, sites, which):
    got = res.get(("lag", sites))
    if not got:
        return "-"
    samples, spawn_ns, hold_ms, excused = got
    if which == "spawn":
        return "%.0f ns" % median(spawn_ns) if spawn_ns else "-"
    if which == "hold":
        if not hold_ms:
            return "-"
        x = median(hold_ms)
        return "%.2f ms %s (max %.2f)" % (x, OK if x <= HOLD_BUDGET_MS else MISS, max(hold_ms))
    if which == "max":  # the sentinels' stalls excused
        samples = excused
    idx = {"max": 0, "raw": 0, "p99": 1, "teardown": 2}[which]
    pairs = [(a[idx], b[idx]) for a, b in zip(samples["none"], samples["default"]) if a and b]
    if not pairs:
        return "–" if which == "max" else "ERR"
    diffs = [b - a for a, b in pairs]
    extra, base = median(diffs), median([a for a, _ in pairs])
    verdict = "" if which in ("teardown", "raw") else " " + (OK if extra <= LAG_BUDGET_MS else MISS)
    # The worst lag of a run is mostly the machine's: without the library
    # too, one run in a few sees a 2-3 ms stall (the extra's noise).
    lo, hi = quartiles(diffs)
    aa = aa_noise([a for a, _ in pairs])
    stalls = ""
    if which == "max":  # how many sleeps were excused, and the stalls beside: alike in both modes
        stalls = "; a run's excused sleeps none %g, default %g, beside %g, %g stalls (medians)" % tuple(
            median([x[i] for x in samples[m] if x]) for i in (1, 2) for m in ("none", "default"))
    return "%.2f ms%s (%+.2f over %.2f; per repetition p25–p75 %+.2f–%+.2f; A/A p95 %s%s)" % (
        base + extra, verdict, extra, base, lo, hi, "–" if aa is None else "%+.2f" % aa, stalls)


# ---------------------------------------------------------------- tables

def beside_none(samples, mode):
    """(sample of MODE, the no-library sample it ran beside (churn:
    `none@MODE`) or next to), per repetition."""
    return list(zip(samples[mode], samples.get("none@" + mode, samples["none"])))


def paired_ratios(samples, mode):
    """Each sample of MODE over its no-library sample."""
    return [a / b for a, b in beside_none(samples, mode) if a and b]


def swapped_ratios(samples, mode):
    """Churn: one ratio per two consecutive repetitions, the geometric mean
    of theirs.  The two ran with the CPUs swapped, so that a CPU slower than
    the other for a while (on this kind of machine, up to 2x for a minute)
    divides out: (L*b / N*a) * (L*a / N*b) = (L/N)^2.  A repetition without
    its pair is left out; with no pair at all, each repetition's ratio."""
    runs = beside_none(samples, mode)
    out = []
    for (a, b), (c, d) in zip(runs[0::2], runs[1::2]):
        if a and b and c and d:
            out.append((a / b * c / d) ** 0.5)
    return out or paired_ratios(samples, mode)


def fmt_ratio(x):
    return "%.2f" % x if x < 10 else "%.1f" % x


def cell_churn(res, kind, mode):
    s = res.get(("churn", kind))
    if s is None:
        return "–"
    rs = swapped_ratios(s, mode)
    if not rs:
        return "ERR"
    x = median(rs)
    lim = CHURN_BUDGET.get((kind, mode))
    txt = fmt_ratio(x) + ("x" if mode == "debug" else "")
    if lim is not None and round(x, 2) == lim:
        txt = "%.3f" % x
    if lim is not None:
        txt += " " + (OK if x <= lim else MISS)
    return txt


def cell_aiohttp(res, loop, mode, measure="aiohttp"):
    """The median ratio of MODE's rounds to no library's, by MEASURE (req/s,
    with its budget, or requests per CPU-second, without)."""
    s = res.get((measure, loop))
    if s is None:
        return "–"
    if isinstance(s, str):
        return s
    rs = paired_ratios(s, mode)
    if not rs:
        return "ERR"
    x = median(rs)
    if mode == "control" or measure != "aiohttp":
        return "%.3f" % x
    return "%.3f %s" % (x, OK if x >= AIOHTTP_BUDGET else MISS)


def mem_figures(s, mode):
    """(MiB over none at 1M, growth 1M->2M, growth of none) medians, or None."""
    over, grow, grow0 = [], [], []
    for a, b in zip(s[mode], s["none"]):
        if a and b:
            over.append(a[0] - b[0])
            grow.append(a[1] - a[0])
            grow0.append(b[1] - b[0])
    if not over:
        return None
    return median(over), median(grow), median(grow0)


def cell_memory(res, mode, which):
    s = res.get(("memory",))
    if s is None:
        return "–"
    f = mem_figures(s, mode)
    if f is None:
        return "ERR"
    over, grow, grow0 = f
    if which == "over":
        return "%+.1f MiB %s" % (over, OK if over <= MEM_BUDGET_MIB else MISS)
    return "%+.1f MiB %s" % (grow, OK if grow - grow0 <= MEM_FLAT_MIB else MISS)


def cell_cpu(res, kind, mode, which="cpu"):
    s = res.get((which, kind))
    if s is None:
        return "–"
    rs = swapped_ratios(s, mode)
    return fmt_ratio(median(rs)) if rs else "–"


def ratio_rows():
    rows = []
    for kind in CG_KINDS:
        for mode in LIB_MODES:
            rows.append(("instructions per task added, %s (callgrind, the program's thread)"
                         % CHURN_LABEL[kind], MODE_LABEL[mode], "≤ {:,}".format(IR_BUDGET[kind]),
                         lambda res, k=kind, m=mode: cell_cg(res, k, m)))
    for kind in CG_KINDS:
        for mode in LIB_MODES:
            rows.append(("data misses per task added, %s (callgrind's simulated %s; "
                         "the program's thread)" % (CHURN_LABEL[kind], callgrind.cache_label()),
                         MODE_LABEL[mode],
                         "–", lambda res, k=kind, m=mode: cell_misses(res, k, m)))
    for kind in CHURN:
        for mode in ["default", "native=0", "debug"]:
            lim = CHURN_BUDGET.get((kind, mode))
            rows.append((CHURN_LABEL[kind], MODE_LABEL[mode],
                         "≤ %.2f" % lim if lim else "–",
                         lambda res, k=kind, m=mode: cell_churn(res, k, m)))
        if kind != "shallow":
            for which, label in (("whole", "whole run"), ("cpu", "CPU time")):
                for mode in LIB_MODES:
                    rows.append((CHURN_LABEL[kind] + ", " + label, MODE_LABEL[mode], "–",
                                 lambda res, k=kind, m=mode, w=which: cell_cpu(res, k, m, w)))
    for loop in LOOPS:
        for mode in AIOHTTP_RATIOS:
            rows.append(("aiohttp req/s, %s loop" % loop, MODE_LABEL[mode],
                         "–" if mode == "control" else "≥ %.2f" % AIOHTTP_BUDGET,
                         lambda res, l=loop, m=mode: cell_aiohttp(res, l, m)))
    for loop in LOOPS:
        for mode in AIOHTTP_RATIOS:
            rows.append(("aiohttp requests per CPU-second, %s loop" % loop, MODE_LABEL[mode], "–",
                         lambda res, l=loop, m=mode: cell_aiohttp(res, l, m, PER_CPU)))
    for mode in LIB_MODES:
        rows.append(("memory at %s tasks, over no library" % MEM_MARKS[0], MODE_LABEL[mode],
                     "≤ +%d MiB" % MEM_BUDGET_MIB, lambda res, m=mode: cell_memory(res, m, "over")))
    for mode in LIB_MODES:
        rows.append(("memory growth %s → %s tasks" % tuple(MEM_MARKS), MODE_LABEL[mode], "flat (≤ +%g MiB vs none)"
                     % MEM_FLAT_MIB, lambda res, m=mode: cell_memory(res, m, "grow")))
    for sites in LAG_SITES:
        rows.append(("loop lag max, %s distinct sites, the machine's stalls excused (beside "
                     "the sentinels)" % count_label(sites), MODE_LABEL["default"],
                     "≤ +%g ms over none" % LAG_BUDGET_MS,
                     lambda res, n=sites: cell_lag(res, n, "max")))
        rows.append(("loop lag max, %s distinct sites, as measured" % count_label(sites),
                     MODE_LABEL["default"], "–", lambda res, n=sites: cell_lag(res, n, "raw")))
        rows.append(("loop lag p99, %s distinct sites" % count_label(sites),
                     MODE_LABEL["default"], "≤ +%g ms over none" % LAG_BUDGET_MS,
                     lambda res, n=sites: cell_lag(res, n, "p99")))
        rows.append(("the collector's longest GIL hold, %s distinct sites (the report's "
                     "stats.hooks.collect.max_ns)" % count_label(sites), MODE_LABEL["default"],
                     "≤ %g ms" % HOLD_BUDGET_MS, lambda res, n=sites: cell_lag(res, n, "hold")))
        rows.append(("spawn hook, %s distinct sites, periodic reports" % count_label(sites),
                     MODE_LABEL["default"], "–", lambda res, n=sites: cell_lag(res, n, "spawn")))
        rows.append(("the program dropping its %s tasks at once (before the lag is measured)"
                     % count_label(sites), MODE_LABEL["default"], "–",
                     lambda res, n=sites: cell_lag(res, n, "teardown")))
    return rows


def spread(xs):
    xs = [x for x in xs if x]
    if len(xs) < 2:
        return ""
    m = median(xs)
    return " ±%.0f%%" % (50.0 * (max(xs) - min(xs)) / m) if m else ""


def quartiles(xs):
    xs = sorted(xs)
    if len(xs) < 4:
        return xs[0], xs[-1]
    q = statistics.quantiles(xs, n=4)
    return q[0], q[2]


def cell_noise(res, kind, mode):
    s = res.get(("churn", kind))
    rs = paired_ratios(s, mode) if s else []
    if not rs:
        return "–"
    lo, hi = quartiles(rs)
    return "%.2f–%.2f (p25–p75 %.2f–%.2f, n=%d)" % (min(rs), max(rs), lo, hi, len(rs))


def abs_rows():
    rows = []
    for kind in CG_KINDS:
        for mode in ["none"] + LIB_MODES:
            def f(res, k=kind, m=mode):
                got = res.get(("cg", k))
                if not got or m not in got:
                    return "–"
                if m == "none":
                    return "{:,.0f}".format(got[m][0]["per_task"])
                return "{:,.0f} (all threads +{:,.0f})".format(
                    got[m][0]["per_task"], cg_extra(res, k, m, "per_task"))
            rows.append(("instructions per task, %s (callgrind)" % CHURN_LABEL[kind],
                         MODE_LABEL[mode], f))
    for kind in CG_KINDS:
        def f(res, k=kind):
            got = res.get(("cg", k))
            if not got or "none" not in got:
                return "–"
            return "L1d {:,.1f}, L2 {:,.2f}".format(got["none"][0]["d1"], got["none"][0]["l2"])
        rows.append(("data misses per task, %s (callgrind's simulation, the program's thread)"
                     % CHURN_LABEL[kind], MODE_LABEL["none"], f))
    for kind in CHURN:
        for mode in MODES:
            def f(res, k=kind, m=mode):
                s = res.get(("churn", k))
                if s is None:
                    return "–"
                xs = [x for x in s[m] if x]
                return "%.0f%s" % (median(xs), spread(xs)) if xs else "ERR"
            rows.append((CHURN_LABEL[kind] + ", ns/task", MODE_LABEL[mode], f))
    for loop in LOOPS:
        for mode in AIOHTTP_MODES:
            def f(res, l=loop, m=mode):
                s = res.get((PER_CPU, l))
                if s is None:
                    return "–"
                if isinstance(s, str):
                    return s
                xs = [x for x in s[m] if x]
                return "%.0f%s" % (median(xs), spread(xs)) if xs else "ERR"
            rows.append(("aiohttp %s, requests per CPU-second" % loop, MODE_LABEL[mode], f))
    for mode in ["none"] + LIB_MODES:
        def f(res, m=mode):
            s = res.get(("memory",))
            if s is None:
                return "–"
            xs = [x for x in s[m] if x]
            if not xs:
                return "ERR"
            return "%.1f / %.1f" % (median([x[0] for x in xs]), median([x[1] for x in xs]))
        rows.append(("peak RSS at %s / %s tasks, MiB" % tuple(MEM_MARKS), MODE_LABEL[mode], f))
    return rows


def noise_rows():
    rows = []
    for kind in CHURN:
        for mode in LIB_MODES:
            rows.append(("%s, per-repetition ratios" % CHURN_LABEL[kind], MODE_LABEL[mode],
                         lambda res, k=kind, m=mode: cell_noise(res, k, m)))
    for loop in LOOPS:
        for mode in AIOHTTP_RATIOS:
            def f(res, l=loop, m=mode):
                s = res.get(("aiohttp", l))
                if not isinstance(s, dict):
                    return s if isinstance(s, str) else "–"
                rs = paired_ratios(s, m)
                if not rs:
                    return "–"
                lo, hi = quartiles(rs)
                return "%.3f–%.3f (p25–p75 %.3f–%.3f, n=%d)" % (min(rs), max(rs), lo, hi, len(rs))
            rows.append(("aiohttp req/s, %s loop, per-round ratios" % loop, MODE_LABEL[mode], f))
    return rows


def hooks_summary(h, res, kind):
    hooks = h["extra"].get("hooks")
    tasks = h["tasks"] or 0
    if not isinstance(hooks, dict) or not tasks:
        return "`%s`" % json.dumps(h["extra"], sort_keys=True)
    parts = []
    for name, v in sorted(hooks.items()):
        if name == "total" or not isinstance(v, dict) or not v.get("calls"):
            continue
        parts.append("%s %.0f ns × %d" % (name, v.get("ns", 0) / v["calls"], v["calls"]))
    tot = hooks.get("total", {})
    txt = ", ".join(parts)
    if isinstance(tot, dict) and "ns" in tot:
        txt += "; hooks total %.0f ns per task" % (tot["ns"] / tasks)
        s = res.get(("churn", kind))
        if s:
            a = [x for x in s["default"] if x]
            b = [x for x in s["none"] if x]
            if a and b:
                txt += " (measured overhead %.0f ns per task)" % (median(a) - median(b))
    return txt


def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def misses(interps, results):
    out = []
    for it in interps:
        res = results.get(it.label)
        if not res:
            continue
        for kind in CG_KINDS:
            for mode in LIB_MODES:
                x = cg_extra(res, kind, mode)
                if x is not None and x > IR_BUDGET[kind]:
                    out.append("%s, instructions per task added, %s, %s: {:,.0f} > {:,}".format(
                        x, IR_BUDGET[kind]) % (it.label, CHURN_LABEL[kind], mode))
        for kind in CHURN:
            s = res.get(("churn", kind))
            for mode in LIB_MODES:
                lim = CHURN_BUDGET.get((kind, mode))
                if s is None or lim is None:
                    continue
                rs = swapped_ratios(s, mode)
                if rs and median(rs) > lim:
                    x = median(rs)
                    out.append("%s, %s, %s: %.3f > %.2f (%.0f%% overhead against %.0f%% allowed)"
                               % (it.label, CHURN_LABEL[kind], mode, x, lim,
                                  100 * (x - 1), 100 * (lim - 1)))
        for loop in LOOPS:
            s = res.get(("aiohttp", loop))
            if not isinstance(s, dict):
                continue
            aa = paired_ratios(s, "control")
            for mode in LIB_MODES:
                rs = paired_ratios(s, mode)
                if rs and median(rs) < AIOHTTP_BUDGET:
                    out.append("%s, aiohttp/%s, %s: %.3f < %.2f of no library%s"
                               % (it.label, loop, mode, median(rs), AIOHTTP_BUDGET,
                                  " (A/A control %.3f)" % median(aa) if aa else ""))
        s = res.get(("memory",))
        if s:
            for mode in LIB_MODES:
                f = mem_figures(s, mode)
                if f is None:
                    continue
                over, grow, grow0 = f
                if over > MEM_BUDGET_MIB:
                    out.append("%s, memory at %s, %s: %+.1f MiB > +%d MiB"
                               % (it.label, MEM_MARKS[0], mode, over, MEM_BUDGET_MIB))
                if grow - grow0 > MEM_FLAT_MIB:
                    out.append("%s, memory %s → %s, %s: grew %.1f MiB (no library: %.1f MiB)"
                               % (it.label, MEM_MARKS[0], MEM_MARKS[1], mode, grow, grow0))
        for sites in LAG_SITES:
            for which in ("max", "p99", "hold"):
                cell = cell_lag(res, sites, which)
                if MISS in cell:
                    out.append("%s, %s at %s sites: %s" % (
                        it.label, "the longest GIL hold" if which == "hold" else "loop lag " + which
                        + (" (the machine's stalls excused)" if which == "max" else ""),
                        sites, cell))
    return out


def render(args, cfg, interps, results, errors, hook_stats, mach, lib, started, wall):
    cols = [it.label for it in interps]
    lines = []
    lines.append("# taskleak benchmarks%s" % (" (--quick smoke run: numbers mean nothing)"
                                              if args.quick else ""))
    lines.append("")
    lines.append("Generated by `bench/run.py` (`make bench`) on %s UTC in %.0f s."
                 % (started.strftime("%Y-%m-%d %H:%M"), wall))
    lines.append("")
    lines.append("- Machine: %d CPUs (nproc), %s, %s, %s; load average (1 min) %s at the start, "
                 "%s at the end (other processes add noise)."
                 % (mach["nproc"], mach["cpu"], mach["mem"], mach["kernel"],
                    mach["load"], loadavg()))
    lines.append("- Library: `%s`, sha256 %s, commit %s%s." % (
        os.path.relpath(args.lib, ROOT) if args.lib.startswith(ROOT) else args.lib, lib["sha"],
        lib["commit"] or "?", " with uncommitted changes under shim/ or collector/"
        if lib["dirty"] else ""))
    lines.append("- Interpreters: %s." % "; ".join(
        "%s%s" % (it.label, " `%s`" % it.path if it.path else "") for it in interps))
    lines.append("- Method: each sample is a fresh child process; within a repetition the modes "
                 "alternate (no library, default, `native=0`, asyncio debug in the first %d), in "
                 "the reverse order every other repetition; a ratio is the median over %d "
                 "repetitions of that repetition's ratio to no library (their spread: Noise), "
                 "for churn over their pairs (the CPUs swapped) of the pair's geometric mean. "
                 "Churn: %s tasks per sample in batches of %d (asyncio debug: 1/%d of that), after "
                 "an untimed warm-up of 5%%, %s; a sample's time per task is that of its fastest "
                 "batch (in a duet, of the batches both children ran at the same time; as timeit: other processes only add time, and on this kind of machine "
                 "they slow one CPU or the other by up to 2x for seconds; the whole run's wall "
                 "and CPU time, with the collector's periodic work, are their own rows). aiohttp: a server per mode and a second one of no library (the A/A control: its ratio is how far apart two servers of the same are), all up at once%s; in each round a `wrk -t1 -c32 -d%ds` per server on "
                 "127.0.0.1, all at the same time (who starts first turning round), so that the "
                 "servers share their CPU through every change of its speed; %d rounds after an "
                 "untimed one, %d repetitions with fresh servers, and more, up to %d, until the "
                 "medians hold still: the A/A control's within %.0f%% of 1 and none moved more "
                 "than %.1f%% over the last two repetitions (the noise rows' n is their number "
                 "times %d): a ratio is the median of each round's. Requests per CPU-second (every "
                 "thread of the server, from schedstat) is the same measure without the "
                 "scheduler's fairness between the servers; a library that made its server wait "
                 "rather than work would lower req/s only. Loop lag: %d repetitions, the lag timed after the program has dropped its tasks (that burst of endings is its own row); its A/A p95 is how far the same estimate strays with no library on either side (the no-library runs resampled against themselves). A run's worst lag is mostly the machine's: a vCPU stalls for 1-20 ms a few times a minute, in both modes. So a sentinel runs beside the runs on each CPU (a no-library loop of 1 ms sleeps, pinned and SCHED_FIFO: it preempts every ordinary thread, the library's included, so only the hypervisor, interrupts and the kernel's own work can make it late), and a sleep of the program that overlaps a sentinel's sleep late by more than %g ms is excused; the cell gives a run's excused sleeps and the stalls beside it, medians per mode, which should be alike (more beside the library's would mean it delays the sentinels; their sums are not: the stalls come in bursts, up to 126 beside one run). Memory: VmHWM after %s and %s finished tasks (batches of %d), %d "
                 "repetition(s). Instructions: `bench/callgrind.py`, (Ir of a 30k-task run - Ir of "
                 "a 10k-task run) / 20,500 tasks, PYTHONHASHSEED=0, every mode's environment of "
                 "one size; on 3.10, the median over 8 memory layouts of the program (its type "
                 "cache hashes attribute names' addresses: the layout alone moves deep churn by "
                 "up to 1,400 Ir/task, with or without the library), on 3.13 over 4 (sid's cancel "
                 "churn: +2,086 in one layout, +2,402 to +2,427 in three). Data misses: the runs of "
                 "the first layout under callgrind's cache simulation (this machine's, from getconf: %s), reads "
                 "and writes; they move with the memory layout more than the "
                 "instructions do (debian-3.11 deep churn, L2: +1.5, +2.9, +3.0 and +4.0 per task "
                 "in four runs of one build), so they have no budget."
                 % (cfg["debug_reps"], cfg["reps"],
                    "/".join("%s %d" % (k, cfg["churn_tasks"][k]) for k in CHURN),
                    cfg["batch"], cfg["debug_div"],
                    "in duets: each mode runs beside its no-library sample, at the same time and "
                    "on a CPU of its own (taskset; the two trade CPUs every %g s, and start on the "
                    "other one every other repetition), so that what slows the shared machine, "
                    "or one of its CPUs, slows both" % SWAP_S if PIN else
                    "each mode next to its no-library sample",
                    " on one CPU and wrk on the other (taskset)" if PIN else "",
                    cfg["wrk_seconds"], cfg["wrk_rounds"], cfg["wrk_reps"], cfg["wrk_reps_max"],
                    AA_TOLERANCE * 100, STILL_TOLERANCE * 100, cfg["wrk_rounds"], cfg["lag_reps"], STALL_S * 1e3, "{:,}".format(cfg["mem_tasks"] // 2), "{:,}".format(cfg["mem_tasks"]),
                    cfg["batch"], cfg["mem_reps"], callgrind.cache_label()))
    lines.append("- Library modes set only `TASKLEAK_OPTIONS=report_path=<temp>/tl.%p.json` "
                 "(plus `native=0`); every run's report is read back to check the library was "
                 "active and saw every task (and every cancel).")
    lines.append("")
    lines.append("## Ratios to no library")
    lines.append("")
    lines.append("Churn: time per task, lower is better (asyncio debug for reference, no budget). "
                 "aiohttp: requests/s, higher is better. Memory: MiB. "
                 "Instructions: callgrind's count per task over no library, the program's thread "
                 "(two runs of one build: most cells within 30, sid-3.13's cancel churn 305 apart). "
                 "%s within the budget of issue 20, %s over it; shallow churn, "
                 "the whole run and CPU time have no budget." % (OK, MISS))
    lines.append("")
    rows = []
    for wl, mode, budget, fn in ratio_rows():
        rows.append([wl, mode, budget] + [it.skip if it.skip else fn(results.get(it.label, {}))
                                          for it in interps])
    lines.append(md_table(["workload", "mode", "budget"] + cols, rows))
    lines.append("")
    ms = misses(interps, results)
    lines.append("## Over budget")
    lines.append("")
    lines.extend(["- " + m for m in ms] if ms else ["Nothing: every figure is within budget."])
    lines.append("")
    lines.append("## Absolute numbers")
    lines.append("")
    lines.append("Medians; ±: half the range of the samples, relative to the median.")
    lines.append("")
    rows = []
    for wl, mode, fn in abs_rows():
        rows.append([wl, mode] + [it.skip if it.skip else fn(results.get(it.label, {}))
                                  for it in interps])
    lines.append(md_table(["workload", "mode"] + cols, rows))
    lines.append("")
    lines.append("## Noise")
    lines.append("")
    lines.append("The ratio of each repetition to the no-library sample next to it: the range, "
                 "and the quartiles. A budget line inside that range is within the noise of this "
                 "run.")
    lines.append("")
    rows = []
    for wl, mode, fn in noise_rows():
        rows.append([wl, mode] + [it.skip if it.skip else fn(results.get(it.label, {}))
                                  for it in interps])
    lines.append(md_table(["workload", "mode"] + cols, rows))
    lines.append("")
    splits = [(it.label, kind, results[it.label][("cg", kind)]) for it in interps
              if not it.skip and it.label in results for kind in CG_KINDS
              if ("cg", kind) in results[it.label]]
    if splits:
        lines.append("## Where the library's instructions go (callgrind)")
        lines.append("")
        lines.append("Default options, the program's thread, instructions and simulated L1d and L2 "
                     "data misses per task over no library by function (`bench/callgrind.py "
                     "--split`): the library's own (with link-time optimisation, what a function "
                     "inlines counts as its), then what grew in other objects (libc, CPython; `?` "
                     "where a stripped object's address cannot be told apart), then where the "
                     "program's own L1d misses grew: the library's lines evict the program's.")
        lines.append("")
        for label, kind, got in splits:
            if "none" in got and "default" in got:
                lines.append("<details><summary>%s, %s: +%.0f</summary>" % (
                    label, CHURN_LABEL[kind], got["default"][0]["main"] - got["none"][0]["main"]))
                lines.append("")
                lines.append("```")
                lines.extend(callgrind.split_lines(got["none"][0], got["default"][0], 14,
                                                   "libtaskleak.so"))
                lines.append("```")
                lines.append("</details>")
                lines.append("")
    if hook_stats:
        lines.append("## Library self-accounting")
        lines.append("")
        lines.append("The report's `stats` of the last default-options sample: time in each hook "
                     "per call, and the hooks' total per task next to the measured overhead per "
                     "task (median default minus median no library).")
        lines.append("")
        for label, per in hook_stats.items():
            for kind, h in sorted(per.items()):
                lines.append("- %s, %s: %s" % (label, CHURN_LABEL[kind],
                                               hooks_summary(h, results.get(label, {}), kind)))
        lines.append("")
    if errors:
        lines.append("## Errors")
        lines.append("")
        lines.extend("- " + e.replace("\n", " ") for e in errors)
        lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    common.runner_args(ap, what="workloads")
    ap.add_argument("--quick", action="store_true", help="smoke run: every workload once, tiny")
    ap.add_argument("--out", help="also write the document to this file")
    ap.add_argument("--reps", type=int, help="repetitions of churn and aiohttp samples")
    ap.add_argument("--only", help="comma-separated subset of %s (as -k, exact names)"
                    % ",".join(ALL_WORKLOADS))
    ap.add_argument("--no-install", action="store_true",
                    help="never apt-get install wrk, python3-aiohttp, python3-uvloop")
    ap.add_argument("--cg-jobs", type=int, default=2, help="callgrind runs at a time (default 2)")
    ap.add_argument("--cg-cache", metavar="FILE",
                    help="remember the callgrind runs in FILE (the library's by its sha256)")
    args = ap.parse_args()

    cfg = dict(QUICK if args.quick else FULL)
    if args.reps:
        cfg["reps"] = cfg["wrk_reps"] = cfg["wrk_reps_max"] = args.reps
    MEM_MARKS[:] = [count_label(cfg["mem_tasks"] // 2), count_label(cfg["mem_tasks"])]
    only = set(args.only.split(",")) if args.only else set(ALL_WORKLOADS) - (
        {"callgrind"} if args.quick else set())
    bad = only - set(ALL_WORKLOADS)
    if bad:
        ap.error("unknown workload(s): %s" % ", ".join(sorted(bad)))
    only = set(w for w in only if common.selected(w, args.patterns))
    if not only:
        ap.error("-k %s keeps none of the workloads %s"
                 % (" -k ".join(args.patterns), ", ".join(ALL_WORKLOADS)))
    args.lib = os.path.abspath(args.lib)
    if not os.path.isfile(args.lib):
        ap.error("no library at %s (run make first)" % args.lib)

    started = datetime.datetime.now(datetime.timezone.utc)
    t0 = time.monotonic()
    have_wrk = True
    if "aiohttp" in only:
        ensure_debs(["wrk", "python3-aiohttp", "python3-uvloop"], not args.no_install)
        have_wrk = shutil.which("wrk") is not None
    interps = discover(args.python)
    mach = machine_info()
    if mach["load"] and mach["load"] > 0.5 and not args.quick:
        log("bench: load average %.2f: other processes are running, expect noise" % mach["load"])
    tmp = common.mkdtemp("taskleak-bench.")  # under /tmp: the sid chroot has it too
    try:
        # Measure a snapshot: the build may be replaced while the run goes on.
        lib = os.path.join(tmp, "libtaskleak.so")
        shutil.copy2(args.lib, lib)
        linfo = lib_info(lib)
        r = Runner(lib, tmp)
        results = {}
        if "callgrind" in only:
            log("bench: callgrind, %d at a time" % args.cg_jobs)
            for label, got in run_callgrind(interps, lib, args.cg_jobs, args.cg_cache, r.errors).items():
                res = results.setdefault(label, {})
                for (kind, mode), v in got.items():
                    res.setdefault(("cg", kind), {})[mode] = v   # one per layout
        for it in interps:
            if it.skip:
                log("bench: %s: %s" % (it.label, it.skip))
                continue
            log("bench: %s (%s)" % (it.label, it.path))
            res = results.setdefault(it.label, {})
            if not only - {"callgrind"}:
                continue
            kinds = [k for k in CHURN if k in only]
            if kinds:
                run_churn(r, it, cfg, res, kinds)
            if "aiohttp" in only:
                run_aiohttp(r, it, cfg, res, have_wrk)
            if "memory" in only:
                run_memory(r, it, cfg, res)
            if "lag" in only:
                run_lag(r, it, cfg, res)
        doc = render(args, cfg, interps, results, r.errors, r.hook_stats, mach, linfo,
                     started, time.monotonic() - t0)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(doc)
    if args.out:
        keep = ""
        try:
            with open(args.out) as f:
                old = f.read()
            i = old.find(NOTES_MARK)
            if i >= 0:
                keep = old[i:]
        except OSError:
            pass
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out + ".tmp", "w") as f:
            f.write(doc + "\n" + ("\n" + keep if keep else ""))
        os.replace(args.out + ".tmp", args.out)
        log("bench: wrote %s" % args.out)
    if r.errors:
        log("bench: %d error(s); see the Errors section" % len(r.errors))
        return 1
    log("bench: every workload ran%s" % (" (quick smoke run)" if args.quick else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
