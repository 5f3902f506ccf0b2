#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Hostile environments for libtaskleak.so: the program must run on unchanged.

    python3 tests/hostile/run.py [--lib PATH] [-k PATTERN]... [--python LABEL|PATH]...
        [--jobs N] [--no-valgrind] [--keep]
    make hostile K=disk-full PY=debian-3.11     (the same, from make)

Every check runs a program from tests/hostile/programs/ with the library
preloaded in a hostile setting, and (unless said otherwise) the same program
in the same setting without it.  Unless a check says otherwise, it passes
when:

  * stdout and the exit status are the same as without the library;
  * stderr is the same once the lines starting with `taskleak:` are taken
    out, and of those there is at most one complaint, plus at most the
    library's usual exit line `taskleak: N leaks (...); report: PATH`;
  * that exit line, when printed, names a report file that exists and is a
    whole taskleak report;
  * no temporary file (`.taskleak.*.tmp`) is left in the report directory and
    every file there is a whole JSON report.

Checks (the interpreters: those tests/common.py finds, debug builds
included -- /usr/bin/python3, every pyenv CPython and the Debian sid chroot's
of the supported versions -- or the --python ones):

  symlink-report-path      the report path is a symlink someone else planted,
                           to a file of the test's: not followed, target
                           untouched (fixed path, and %p with the pid known)
  symlink-temp-name        same, planted at the library's predictable
                           temporary name (.taskleak.PID.0.tmp)
  missing-dir              the report directory does not exist: exactly one
                           stderr line for a program with no leak
  missing-dir-leaky        same with a leak: one complaint, and the exit line
                           must not name a report that was never written
  readonly-immutable       a directory root cannot write either (chattr +i)
  readonly-proc            a report path under /proc
  readonly-nobody          (Debian python) run as `nobody`, directory 0555
  disk-full                RLIMIT_FSIZE small, SIGXFSZ ignored: no half report
  disk-full-tiny           RLIMIT_FSIZE below any report: none written, 1 line
  signal-storm             1000 dump signals while tasks run: unchanged, exact
                           counts in the report
  shutdown-storm           1000 SIGTERMs to a program that handles them itself
                           (through the library's sigaction wrapper) and goes
                           on: unchanged, one shutdown report and line
  shutdown-overdue         the collector's thread frozen (ptrace) past the
                           shutdown's deadline until the exit: the exit
                           report is the shutdown's, with its line
  fork-thread-os.fork      os.fork() from a thread, interval=0.001: each child
                           writes its own report with only its own tasks
  fork-thread-subprocess   fork() (subprocess + preexec_fn) from 4 threads
                           while the collector writes (no os.fork audit event)
  fork-storm               300 os.fork()s from a thread while the collector
                           writes every millisecond: no child hangs, and
                           neither does the parent
  threads-64               64 threads with a loop each, creating and cancelling
                           tasks: exact counts in the report
  exec                     os.execv of Python by Python: the exec'd image
                           writes its report (same pid)
  shell                    Python -> sh -> Python: one report per Python
                           process, none for the shell
  embed                    (Debian 3.11) a C program embedding CPython: works,
                           the leak is reported
  embed-twice              same, Py_Initialize/Py_FinalizeEx twice
  subinterp-gc             a pending task of the main interpreter collected by a
                           subinterpreter (3.8: one collector for all): not
                           judged there, no crash; collected at home, reported
  subinterpreters-*        (3.12+) isolated and legacy subinterpreters running
                           asyncio: no crash, the main interpreter audited
  secure-loader            (Debian) a setgid C program: AT_SECURE is set and
                           the loader ignores LD_PRELOAD
  secure-dlopen            (Debian) a setgid copy of python3.11 loads the
                           library with ctypes: it stays silent and writes
                           nothing; the same copy without setgid reports
  valgrind                 (Debian python and one pyenv) the leaky worker under
                           memcheck with PYTHONMALLOC=malloc: no error with a
                           frame in libtaskleak.so

The sid interpreters run inside a chroot (tests/common.py), which has no
valgrind and cannot be entered as `nobody`: readonly-nobody and valgrind are
a SKIP for them, as are the checks of Debian's own python3.11 (embed, embed-
twice, secure-dlopen), which nothing in the chroot can stand in for.

Output: one PASS/FAIL/SKIP line per check, then `N passed, M failed, K
skipped`; exit status 1 when anything failed.  Standard library only; runs as
root (some checks need it, and skip otherwise).
"""

import argparse
import concurrent.futures
import ctypes
import os
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import common  # noqa: E402  (tests/common.py: interpreters, environment, reports)
from common import Failure, Skip, check, say, load_report, SUMMARY_RE  # noqa: E402

PROGRAMS = os.path.join(HERE, "programs")
ROOT = common.ROOT
SYSTEM_PYTHON = common.SYSTEM_PYTHON
# What no run inherits from the runner (besides the library and its options):
# what steers Python, the loader or taskleak, and sanitizer settings.
HOSTILE_DROP = common.STEERING + ("ASAN*", "UBSAN*")
KINDS = ("swallowed_cancel", "stuck_after_cancel", "destroyed_pending",
         "pending_at_exit")
NOBODY = 65534
# libunwind checks that an address is readable by write()ing one byte of it
# to a pipe (Ginit.c, write_validate): memcheck reports the byte as
# uninitialised.  That is the probe working as designed, not a bug of ours.
VALGRIND_SUPP = """\
{
   libunwind-write-validate-probe
   Memcheck:Param
   write(buf)
   fun:syscall
   obj:*libunwind.so*
}
"""

# ------------------------------------------------------------------ running

class Result:
    def __init__(self, rc, out, err, pid):
        self.rc, self.out, self.err, self.pid = rc, out, err, pid

    def tl_lines(self):
        return [l for l in self.err.splitlines() if l.startswith("taskleak:")]

    def other_err(self):
        return [l for l in self.err.splitlines() if not l.startswith("taskleak:")]


def run(argv, *, lib=None, opts=None, cwd=None, env=None, stdin_data=None,
        timeout=60, preexec=None, on_start=None):
    """Run argv (own session, killed as a group on timeout).  on_start(proc)
    runs once the process exists; stdin_data is written after it.  The
    default working directory is the checkout, which a sid chroot has too."""
    e = common.env(lib=lib or None, options=opts if lib else None, drop=HOSTILE_DROP,
                   PYTHONDONTWRITEBYTECODE="1")
    e.setdefault("LANG", "C.UTF-8")
    e.update(env or {})
    r = common.run(argv, env=e, cwd=cwd or ROOT, timeout=timeout, stdin=subprocess.PIPE,
                   input=stdin_data, preexec=preexec, on_start=on_start)
    if r.timed_out:
        raise Failure("timed out after %ss (killed): %s" % (timeout, " ".join(argv[-3:])))
    return Result(r.returncode, r.stdout.decode("utf-8", "replace"),
                  r.stderr.decode("utf-8", "replace"), r.pid)


def short(text, n=300):
    text = text.strip().replace("\n", " | ")
    return text if len(text) <= n else text[:n] + "..."


def compare(base, res, *, max_complaints=1, exact_complaints=None, processes=1):
    """The library run is the plain run, plus at most one complaint line and
    the usual exit line (one per Python process of the run, which share
    stderr).  Returns (complaints, first summary match)."""
    check(res.rc == base.rc, "exit status %s with the library, %s without; stderr: %s"
          % (res.rc, base.rc, short(res.err)))
    check(res.out == base.out, "stdout differs: with %r, without %r"
          % (short(res.out), short(base.out)))
    check(res.other_err() == base.other_err(), "stderr differs: with %r, without %r"
          % (short("\n".join(res.other_err())), short("\n".join(base.other_err()))))
    lines = res.tl_lines()
    summaries = [m for m in map(SUMMARY_RE.match, lines) if m]
    complaints = [l for l in lines if not SUMMARY_RE.match(l)]
    check(len(summaries) <= processes, "%d exit lines from %d process(es): %r"
          % (len(summaries), processes, lines))
    if exact_complaints is not None:
        check(len(complaints) == exact_complaints,
              "expected %d taskleak complaint line(s), got %d: %r"
              % (exact_complaints, len(complaints), lines))
    check(len(complaints) <= max_complaints,
          "%d taskleak complaint lines (at most %d): %r" % (len(complaints), max_complaints, lines))
    for summary in summaries:
        path = summary.group(3)
        check(os.path.isfile(path) and not os.path.islink(path),
              "the exit line names a report that was not written: %r" % lines)
        load_report(path)
    return complaints, summaries[0] if summaries else None


def reports_in(d):
    """Every file of d: no temporary left, every other file a whole report."""
    for name in sorted(os.listdir(d)):
        check(not (name.startswith(".taskleak.") or name.endswith(".tmp")),
              "temporary file left behind: %s" % os.path.join(d, name))
    return common.load_reports(d)


def leak_coros(report):
    return sorted(l["task"]["coro"] for l in report["leaks"])


def repeated_ids(report):
    """Leak entries whose task id an earlier entry already has."""
    seen, again = set(), 0
    for l in report["leaks"]:
        key = (l["kind"], l["task"]["id"])
        again += key in seen
        seen.add(key)
    return again


# ----------------------------------------------------------------- fixtures

class Ctx:
    def __init__(self, lib, tmp, keep):
        self.lib, self.tmp, self.keep = lib, tmp, keep
        self._n = 0
        self._lock = threading.Lock()
        self.is_root = os.geteuid() == 0

    def dir(self, name, mode=0o755):
        with self._lock:
            self._n += 1
            d = os.path.join(self.tmp, "%03d-%s" % (self._n, name))
        os.makedirs(d)
        os.chmod(d, mode)
        return d


def prog(name):
    return os.path.join(PROGRAMS, name)


def opts(report_path, **kw):
    return common.options(report_path=report_path, **kw)


# ------------------------------------------------------------------- checks

def t_symlink_report_path(ctx, py, v):
    """A planted symlink at the report path: never followed."""
    for variant in ("fixed", "pid"):
        d = ctx.dir("symlink-" + variant)
        victim = os.path.join(d, "victim.txt")
        with open(victim, "w") as f:
            f.write("precious\n")
        os.utime(victim, (1000000000, 1000000000))
        reports = os.path.join(d, "reports")
        os.makedirs(reports)
        if variant == "fixed":
            link = os.path.join(reports, "report.json")
            plant(link, victim, ctx)
            o = opts(link, interval=0.05)
            res = run([py, prog("leaky.py"), "2", "4", "0.3"], lib=ctx.lib, opts=o)
        else:
            link_box = {}

            def on_start(p):
                link_box["link"] = os.path.join(reports, "r.%d.json" % p.pid)
                plant(link_box["link"], victim, ctx)
            o = opts(os.path.join(reports, "r.%p.json"), interval=0.05)
            res = run([py, prog("leaky.py"), "--wait", "2", "4", "0.3"], lib=ctx.lib,
                      opts=o, on_start=on_start, stdin_data=b"go\n")
            link = link_box["link"]
        base = run([py, prog("leaky.py"), "2", "4", "0.3"])
        compare(base, res)
        with open(victim) as f:
            check(f.read() == "precious\n", "%s: the symlink's target was written" % variant)
        st = os.stat(victim)
        check(st.st_mtime == 1000000000 and st.st_size == 9,
              "%s: the symlink's target was touched" % variant)
        if os.path.islink(link):
            check(os.readlink(link) == victim, "%s: the symlink changed" % variant)
        else:
            load_report(link)  # replaced by a real report: fine
        reports_in(reports)


def plant(link, target, ctx):
    os.symlink(target, link)
    if ctx.is_root:
        os.lchown(link, NOBODY, NOBODY)  # someone else's link


def t_symlink_temp_name(ctx, py, v):
    """A symlink planted at the library's first temporary name."""
    d = ctx.dir("symlink-tmp")
    victim = os.path.join(d, "victim.txt")
    with open(victim, "w") as f:
        f.write("precious\n")
    os.utime(victim, (1000000000, 1000000000))
    reports = os.path.join(d, "reports")
    os.makedirs(reports)
    planted = []

    def on_start(p):
        for i in range(4):
            link = os.path.join(reports, ".taskleak.%d.%d.tmp" % (p.pid, i))
            plant(link, victim, ctx)
            planted.append(link)
    o = opts(os.path.join(reports, "r.%p.json"), interval=0.02)
    res = run([py, prog("leaky.py"), "--wait", "--until-report", "3", "4", "0.4"], lib=ctx.lib, opts=o,
              on_start=on_start, stdin_data=b"go\n")
    base = run([py, prog("leaky.py"), "3", "4", "0.4"])
    compare(base, res)
    with open(victim) as f:
        check(f.read() == "precious\n", "the symlink's target was written")
    check(os.stat(victim).st_mtime == 1000000000, "the symlink's target was touched")
    for link in planted:
        check(os.path.islink(link) and os.readlink(link) == victim,
              "%s: someone else's file was removed or replaced" % link)
        os.unlink(link)  # the runner's own
    reports = reports_in(reports)
    check(len(reports) == 1, "expected the report once the planted names were passed, found %d"
          % len(reports))


def t_missing_dir(ctx, py, v):
    d = ctx.dir("missing")
    path = os.path.join(d, "does", "not", "exist", "r.%p.json")
    res = run([py, prog("leaky.py"), "0", "6"], lib=ctx.lib, opts=opts(path))
    base = run([py, prog("leaky.py"), "0", "6"])
    (complaint,), _ = compare(base, res, exact_complaints=1)
    check(os.path.join(d, "does") in complaint, "the complaint does not name the path: %r" % complaint)
    check(not os.path.exists(os.path.join(d, "does")), "the library created directories")


def t_missing_dir_leaky(ctx, py, v):
    d = ctx.dir("missing-leaky")
    path = os.path.join(d, "nope", "r.%p.json")
    res = run([py, prog("leaky.py"), "1", "2", "0.2"], lib=ctx.lib, opts=opts(path))
    base = run([py, prog("leaky.py"), "1", "2", "0.2"])
    compare(base, res, exact_complaints=1)


def unwritable(ctx, py, v, path, *, preexec=None, pythons_ok=None):
    """A program with tasks but no leak, its report path unwritable: exactly
    one complaint, unchanged otherwise."""
    res = run([py, prog("leaky.py"), "0", "6", "0.15"], lib=ctx.lib,
              opts=opts(path, interval=0.05), preexec=preexec)
    base = run([py, prog("leaky.py"), "0", "6", "0.15"], preexec=preexec)
    complaints, _ = compare(base, res, exact_complaints=1)
    return complaints


def t_readonly_immutable(ctx, py, v):
    if not ctx.is_root or not shutil.which("chattr"):
        raise Skip("needs root and chattr")
    d = ctx.dir("immutable")
    r = subprocess.run(["chattr", "+i", d], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode:
        raise Skip("chattr +i not supported here: %s" % short(r.stdout.decode()))
    try:
        try:
            open(os.path.join(d, "probe"), "w").close()
            raise Skip("root can still write into an immutable directory here")
        except PermissionError:
            pass
        unwritable(ctx, py, v, os.path.join(d, "r.%p.json"))
        check(os.listdir(d) == [], "files appeared in the immutable directory")
    finally:
        subprocess.run(["chattr", "-i", d])


def t_readonly_proc(ctx, py, v):
    unwritable(ctx, py, v, "/proc/self/taskleak.%p.json")


def t_readonly_nobody(ctx, py, v):
    if not ctx.is_root or not shutil.which("setpriv"):
        raise Skip("needs root and setpriv")
    d = ctx.dir("nobody", 0o755)
    ro = os.path.join(d, "ro")
    os.makedirs(ro)
    os.chmod(ro, 0o555)
    # nobody must reach the program and the library; copy both to d.
    lib = os.path.join(d, "libtaskleak.so")
    shutil.copy(ctx.lib, lib)
    shutil.copy(prog("leaky.py"), d)
    os.chmod(d, 0o755)

    def as_nobody():
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)
    argv = [py, os.path.join(d, "leaky.py"), "0", "6", "0.15"]
    res = run(argv, lib=lib, opts=opts(os.path.join(ro, "r.%p.json"), interval=0.05),
              preexec=as_nobody, env={"HOME": d}, cwd=d)
    base = run(argv, preexec=as_nobody, env={"HOME": d}, cwd=d)
    compare(base, res, exact_complaints=1)
    check(os.listdir(ro) == [], "files appeared in the read-only directory")


def fsize_limit(limit):
    def pre():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # stays ignored across exec
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return pre


def t_disk_full(ctx, py, v, limit=12000, tiny=False):
    d = ctx.dir("diskfull")
    reports = os.path.join(d, "reports")
    os.makedirs(reports)
    out = ctx.dir("diskfull-out")
    res = run([py, prog("diskfull.py"), out], lib=ctx.lib,
              opts=opts(os.path.join(reports, "r.%p.json"), interval=0.01, native=0 if tiny else 1),
              preexec=fsize_limit(limit))
    base = run([py, prog("diskfull.py"), out], preexec=fsize_limit(limit))
    complaints, summary = compare(base, res, exact_complaints=1)
    check("File too large" in complaints[0] or "large" in complaints[0].lower(),
          "the complaint does not say why: %r" % complaints[0])
    found = reports_in(reports)
    if tiny:
        check(not found, "a report was written under a limit no report fits in")
    else:
        check(found, "no report at all: the first, small periodic reports fit under %d bytes" % limit)
        for p in found:
            check(os.path.getsize(p) <= limit, "%s is larger than the limit" % p)


def t_disk_full_tiny(ctx, py, v):
    t_disk_full(ctx, py, v, limit=300, tiny=True)


def storm_of(signum, sent, ready):
    """An on_start that waits for the program's `ready` line (its handler is
    installed), then sends it 1000 SIGNUMs; `sent[0]` counts them, and the
    line consumed here is kept in `ready["line"]` for the comparison."""
    def storm(p):
        line = p.stdout.readline()
        check(line.strip() == b"ready", "no ready line: %r" % line)
        for _ in range(1000):
            try:
                os.kill(p.pid, signum)
            except ProcessLookupError:
                break
            sent[0] += 1
            time.sleep(0.0002)
        ready["line"] = line
    return storm


def t_signal_storm(ctx, py, v):
    d = ctx.dir("storm")
    sent = [0]
    ready = {}
    storm = storm_of(signal.SIGUSR2, sent, ready)
    o = opts(os.path.join(d, "r.%p.json"), interval=0.5)
    res = run([py, prog("storm.py")], lib=ctx.lib, opts=o, on_start=storm, timeout=90)
    res.out = ready["line"].decode() + res.out
    base = run([py, prog("storm.py")], timeout=90)
    compare(base, res)
    check(sent[0] >= 900, "only %d signals could be sent before the program ended" % sent[0])
    found = reports_in(d)
    r = found.get(os.path.join(d, "r.%d.json" % res.pid))
    check(r, "no report")
    check(r["reason"] == "exit", "last report is %r, not the exit report" % r["reason"])
    s = r["stats"]
    check(s["leaks"]["swallowed_cancel"] == 20, "swallowed_cancel %s, expected 20 (%d entries "
          "repeat a task id)" % (s["leaks"]["swallowed_cancel"], repeated_ids(r)))
    check(s["cancel_requests"] == 220, "cancel_requests %s, expected 220" % s["cancel_requests"])
    others = {k: s["leaks"][k] for k in KINDS if k != "swallowed_cancel" and s["leaks"][k]}
    check(not others, "unexpected leaks %s" % others)
    return "%d signals" % sent[0]


def sigterm_shutdown_reported(d, runs):
    """Checks a SIGTERM's shutdown of 0.3 s was told in one line (the run
    with the library against the one without) and carried by the exit
    report, which it returns."""
    res, base = runs[True], runs[False]
    complaints, _ = compare(base, res, exact_complaints=1)
    check(common.SHUTDOWN_RE.match(complaints[0]) and "after SIGTERM" in complaints[0],
          "the one line is not the shutdown's: %r" % complaints[0])
    r = reports_in(d).get(os.path.join(d, "r.%d.json" % res.pid))
    check(r and r["reason"] == "exit", "no exit report: %r" % (r or {}).get("reason"))
    sd = r.get("shutdown") or {}
    check(sd.get("cause") == "signal" and sd.get("signal") == "SIGTERM" and
          sd.get("blocked_for", 0) >= 0.3, "the exit report's shutdown: %r" % sd)
    return r


def t_shutdown_storm(ctx, py, v):
    """1000 SIGTERMs to a program that handles SIGTERM itself and goes on
    (its handler counts them), with and without the library: through the
    library's sigaction wrapper it runs unchanged; the first SIGTERM starts
    the shutdown clock, so 0.3 s later exactly one shutdown report and one
    line come, and the exit report after it carries that shutdown."""
    d = ctx.dir("shutdown-storm")
    runs = {}
    for with_lib in (True, False):
        sent, ready = [0], {}
        o = opts(os.path.join(d, "r.%p.json"), interval=0, shutdown_timeout=0.3)
        r = run([py, prog("storm.py"), "sigterm"], lib=ctx.lib if with_lib else None, opts=o,
                on_start=storm_of(signal.SIGTERM, sent, ready), stdin_data=b"over\n",
                timeout=90)
        r.out = ready["line"].decode() + r.out
        check(sent[0] >= 900, "only %d signals could be sent before the program ended"
              % sent[0])
        runs[with_lib] = r
    r = sigterm_shutdown_reported(d, runs)
    s = r["stats"]
    check(s["leaks"]["swallowed_cancel"] == 20 and s["cancel_requests"] == 220,
          "stats %s" % s)
    return "1000 signals a run"


PTRACE_SEIZE, PTRACE_INTERRUPT, WALL = 0x4206, 0x4207, 0x40000000


def freeze_collector(pid):
    """Stops the collector's thread of PID alone (ptrace's seize and
    interrupt: a SIGSTOP would stop them all): the library's first, the
    only one at the program's `ready` but for a GIL helper, which must go
    on (it may hold the GIL).  A thread of ours waits for its end (a traced
    thread is its tracer's to reap).  Returns its id; raises Skip when
    ptrace is refused."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    others = sorted(int(t) for t in os.listdir("/proc/%d/task" % pid) if int(t) != pid)
    check(others, "no thread of the library's to freeze")
    tid = others[0]
    if libc.ptrace(PTRACE_SEIZE, tid, None, None) != 0:
        raise Skip("ptrace refused: %s" % os.strerror(ctypes.get_errno()))
    libc.ptrace(PTRACE_INTERRUPT, tid, None, None)
    os.waitpid(tid, WALL)

    def reap():
        while True:
            try:
                _, status = os.waitpid(tid, WALL)
            except ChildProcessError:
                return
            if os.WIFEXITED(status) or os.WIFSIGNALED(status):
                return
    threading.Thread(target=reap, daemon=True).start()
    return tid


def t_shutdown_overdue(ctx, py, v):
    """The collector's thread frozen (ptrace) from the program's SIGTERM on,
    so that the exit comes past shutdown_timeout with the shutdown's report
    not written: the exit report is the shutdown's, with its one line, and
    no report written after it replaces it."""
    d = ctx.dir("shutdown-overdue")
    runs = {}
    for with_lib in (True, False):
        ready = {}

        def start(p, with_lib=with_lib, ready=ready):
            ready["line"] = p.stdout.readline()
            check(ready["line"].strip() == b"ready", "no ready line: %r" % ready["line"])
            if with_lib:
                freeze_collector(p.pid)
            os.kill(p.pid, signal.SIGTERM)
        o = opts(os.path.join(d, "r.%p.json"), interval=0, shutdown_timeout=0.3)
        r = run([py, prog("overdue.py")], lib=ctx.lib if with_lib else None, opts=o,
                on_start=start, stdin_data=b"go\n", timeout=60)
        r.out = ready["line"].decode() + r.out
        runs[with_lib] = r
    r = sigterm_shutdown_reported(d, runs)
    return "the collector frozen from SIGTERM to exit"


def t_fork_thread(ctx, py, v, mode):
    d = ctx.dir("fork-" + mode)
    pidfile = os.path.join(d, "pids.txt")
    reports = os.path.join(d, "reports")
    os.makedirs(reports)
    o = opts(os.path.join(reports, "r.%p.json"), interval=0.001)
    res = run([py, prog("fork_thread.py"), mode, pidfile], lib=ctx.lib, opts=o, timeout=90)
    with open(pidfile) as f:
        pids = [int(x) for x in f.read().split()]
    base = run([py, prog("fork_thread.py"), mode, pidfile], timeout=90)
    compare(base, res, processes=len(pids) + 1)
    found = reports_in(reports)
    parent = found.get(os.path.join(reports, "r.%d.json" % res.pid))
    check(parent, "no report of the parent")
    check(parent["pid"] == res.pid, "the parent's report has pid %s" % parent["pid"])
    check(set(leak_coros(parent)) <= {"parent_worker"},
          "the parent's report has leaks of its children: %s" % sorted(set(leak_coros(parent))))
    check(parent["stats"]["leaks"]["swallowed_cancel"] >= 1, "the parent's leaks are missing")
    missing = []
    want_coro = "child_worker" if mode == "os.fork" else "leaky_worker"
    for pid in pids:
        r = found.get(os.path.join(reports, "r.%d.json" % pid))
        if not r:
            missing.append(pid)
            continue
        check(r["pid"] == pid, "report r.%d.json says pid %s" % (pid, r["pid"]))
        check(set(leak_coros(r)) == {want_coro},
              "child %d: leaks %s, expected only its own %s" % (pid, leak_coros(r), want_coro))
        check(not repeated_ids(r), "child %d: its one leak is reported %d times (same task id)"
              % (pid, len(r["leaks"])))
        check(r["stats"]["tasks_created"] <= 10,
              "child %d counts %d tasks: the parent's were inherited"
              % (pid, r["stats"]["tasks_created"]))
        if mode == "os.fork":
            check(r["ppid"] == res.pid, "child %d: ppid %s" % (pid, r["ppid"]))
            # pids in fork order: even children call taskleak_report_now
            # before os._exit, odd ones end with their thread (the exit report)
            want = "request" if pids.index(pid) % 2 == 0 else "exit"
            check(r["reason"] == want, "child %d: a %s report, expected %s"
                  % (pid, r["reason"], want))
    check(not missing, "no report for %d of %d children (pids %s)" % (len(missing), len(pids), missing))
    check(len(found) == len(pids) + 1, "%d reports for %d processes" % (len(found), len(pids) + 1))
    return "%d children" % len(pids)


def t_fork_storm(ctx, py, v):
    d = ctx.dir("fork-storm")
    o = opts(os.path.join(d, "r.%p.json"), interval=0.001)
    argv = [py, prog("fork_storm.py"), "300"]
    res = run(argv, lib=ctx.lib, opts=o, timeout=60)
    base = run(argv, timeout=60)
    check(res.out == "forks 300 hung 0\n", "with the library: %r" % short(res.out))
    compare(base, res, processes=1)
    return "300 forks"


def t_threads64(ctx, py, v):
    d = ctx.dir("threads64")
    o = opts(os.path.join(d, "r.%p.json"), interval=0.005)
    res = run([py, prog("threads64.py")], lib=ctx.lib, opts=o, timeout=90)
    base = run([py, prog("threads64.py")], timeout=90)
    compare(base, res)
    nums = dict(re.findall(r"^(created|expected cancel_requests|expected swallowed_cancel) (\d+)$",
                           res.out, re.M))
    created = int(nums["created"])
    r = reports_in(d).get(os.path.join(d, "r.%d.json" % res.pid))
    check(r, "no report")
    s = r["stats"]
    want = {"tasks_created": created, "tasks_done": created, "tasks_live": 0,
            "cancel_requests": int(nums["expected cancel_requests"])}
    got = {k: s[k] for k in want}
    want_leaks = {k: 0 for k in KINDS}
    want_leaks["swallowed_cancel"] = int(nums["expected swallowed_cancel"])
    bad = ["%s=%s (expected %s)" % (k, got[k], want[k]) for k in want if got[k] != want[k]]
    bad += ["leaks.%s=%s (expected %s)" % (k, s["leaks"][k], want_leaks[k])
            for k in KINDS if s["leaks"][k] != want_leaks[k]]
    entries = len(r["leaks"])
    if entries != want_leaks["swallowed_cancel"]:
        bad.append("%d leak entries (expected %d)" % (entries, want_leaks["swallowed_cancel"]))
    if repeated_ids(r):
        bad.append("%d leak entries repeat a task id" % repeated_ids(r))
    threads = {l["task"]["thread_id"] for l in r["leaks"]}
    if len(threads) != 64:
        bad.append("leaks come from %d threads (expected 64)" % len(threads))
    check(not bad, "counts are not exact: " + "; ".join(bad))


def t_exec(ctx, py, v):
    d = ctx.dir("exec")
    o = opts(os.path.join(d, "r.%p.json"))
    res = run([py, prog("exec_a.py")], lib=ctx.lib, opts=o)
    base = run([py, prog("exec_a.py")])
    compare(base, res)
    found = reports_in(d)
    check(list(found) == [os.path.join(d, "r.%d.json" % res.pid)],
          "expected one report, of pid %d: %s" % (res.pid, [os.path.basename(p) for p in found]))
    r = list(found.values())[0]
    check(r["argv"][-1].endswith("exec_b.py"), "the report is not the exec'd image's: argv %s" % r["argv"])
    check(leak_coros(r) == ["b_worker"], "leaks %s, expected b_worker" % leak_coros(r))
    return "pre-exec image's leak (a_worker) is not in any report: exec skips atexit and the pid is shared"


def t_shell(ctx, py, v):
    d = ctx.dir("shell")
    o = opts(os.path.join(d, "r.%p.json"))
    res = run([py, prog("shell_a.py")], lib=ctx.lib, opts=o)
    base = run([py, prog("shell_a.py")])
    compare(base, res, processes=2)
    found = reports_in(d)
    check(len(found) == 2, "expected 2 reports (python, python; none for sh), found %s"
          % [os.path.basename(p) for p in found])
    mine = found.get(os.path.join(d, "r.%d.json" % res.pid))
    check(mine and leak_coros(mine) == ["a_worker"], "the first Python's report is missing or wrong")
    other = [r for p, r in found.items() if r["pid"] != res.pid][0]
    check(leak_coros(other) == ["b_worker"], "the second Python's leaks: %s" % leak_coros(other))
    check(other["ppid"] != res.pid, "the second Python's parent should be the shell")
    check(other["argv"][-1].endswith("exec_b.py"), "argv %s" % other["argv"])


def build_embed(ctx):
    with ctx._lock:
        if hasattr(ctx, "embed"):
            return ctx.embed
        ctx.embed = None
        cfg = "/usr/bin/python3.11-config"
        if not os.path.exists(cfg) or not os.path.exists("/usr/include/python3.11/Python.h"):
            ctx.embed = Skip("needs python3.11-dev (/usr/bin/python3.11-config)")
            return ctx.embed
        flags = subprocess.run([cfg, "--embed", "--cflags", "--ldflags"], stdout=subprocess.PIPE,
                               universal_newlines=True).stdout.split()
        exe = os.path.join(ctx.tmp, "embed")
        r = subprocess.run(["cc", "-o", exe, prog("embed.c")] + flags, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True)
        ctx.embed = exe if r.returncode == 0 else Failure("embed.c does not build: " + short(r.stdout))
        return ctx.embed


def t_embed(ctx, py, v, twice=False):
    exe = build_embed(ctx)
    if isinstance(exe, Exception):
        raise exe
    d = ctx.dir("embed")
    argv = [exe] + (["twice"] if twice else [])
    res = run(argv, lib=ctx.lib, opts=opts(os.path.join(d, "r.%p.json")), cwd=d)
    base = run(argv, cwd=d)
    check(base.rc == 0, "the embedding program fails without the library: %s" % short(base.err))
    compare(base, res)
    found = reports_in(d)
    r = found.get(os.path.join(d, "r.%d.json" % res.pid))
    check(r, "no report")
    check(r["argv"][0].endswith("embed"), "argv %s" % r["argv"])
    want = ["embedded_worker"]
    check(leak_coros(r)[:1] == want, "leaks %s, expected %s" % (leak_coros(r), want))
    if twice:
        return "leaks in the report: %s (second round %s)" % (
            leak_coros(r), "audited" if len(leak_coros(r)) == 2 else "not audited")


def t_subinterp(ctx, py, v, config):
    d = ctx.dir("subinterp-" + config)
    o = opts(os.path.join(d, "r.%p.json"), interval=0.01)
    base = run([py, prog("subinterp.py"), config])
    if base.rc != 0:
        raise Skip("fails without the library too (CPython %d.%d.%d): status %s, %s"
                   % (v + (base.rc, short(base.err, 80))))
    res = run([py, prog("subinterp.py"), config], lib=ctx.lib, opts=o)
    compare(base, res)
    r = reports_in(d).get(os.path.join(d, "r.%d.json" % res.pid))
    check(r, "no report")
    names = sorted(l["task"]["name"] for l in r["leaks"])
    check(names == ["main-after", "main-before"],
          "the main interpreter's leaks: %s (expected main-after, main-before)" % names)
    cancels = r["stats"]["hooks"]["cancel"]["calls"]
    check(cancels == 2, "the cancel hook ran %d times, expected the main interpreter's 2: "
          "the subinterpreters' cancels reached the library" % cancels)


def t_subinterp_gc(ctx, py, v):
    """A main-interpreter task finalized by a subinterpreter's collection
    (3.8's one collector for all) must not be judged there, with another
    interpreter's thread state: its record is dropped, nothing is reported
    for it, and the program runs as without the library.  Collected at home
    (every version, and 3.9+ always), it is the destroyed_pending leak."""
    for where in ("main", "sub"):
        d = ctx.dir("subinterp-gc-" + where)
        base = run([py, prog("subinterp_gc.py"), where])
        if base.rc != 0:
            raise Skip("fails without the library too (no _testcapi?): status %s, %s"
                       % (base.rc, short(base.err, 80)))
        res = run([py, prog("subinterp_gc.py"), where], lib=ctx.lib,
                  opts=opts(os.path.join(d, "r.%p.json")))
        compare(base, res)
        r = reports_in(d).get(os.path.join(d, "r.%d.json" % res.pid))
        check(r, "no report")
        got = [(l["kind"], l["task"]["name"]) for l in r["leaks"]]
        out = base.out.splitlines()
        elsewhere = where == "sub" and out.index("destroyed pending: forgotten") < out.index(
            "subinterpreter: 0")
        check(where == "main" or elsewhere or v[:2] != (3, 8),
              "3.8 collected the task at home: the other interpreter's branch went untested")
        want = [] if elsewhere else [("destroyed_pending", "forgotten")]
        check(got == want, "collected %s: leaks %s, expected %s"
              % ("in the subinterpreter" if elsewhere else "at home", got, want))


def secure_dir(ctx):
    # A directory only root can enter, on a filesystem that honours setgid.
    d = ctx.dir("secure", 0o700)
    return d


def t_secure_loader(ctx, py, v):
    if not ctx.is_root:
        raise Skip("needs root (chgrp of a setgid binary)")
    d = secure_dir(ctx)
    exe = os.path.join(d, "secure_probe")
    r = subprocess.run(["cc", "-o", exe, prog("secure_probe.c")], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    check(r.returncode == 0, "secure_probe.c does not build")
    plain = run([exe], lib=ctx.lib, opts="")
    check(plain.out.strip() == "at_secure=0 mapped=1", "control run: %r" % plain.out)
    os.chown(exe, 0, NOBODY)
    os.chmod(exe, 0o2755)  # setgid nogroup: AT_SECURE for root, who is not in it
    res = run([exe], lib=ctx.lib, opts="")
    check(res.rc == 0 and res.err == "", "status %s, stderr %r" % (res.rc, res.err))
    check(res.out.strip() == "at_secure=1 mapped=0",
          "setgid: %r (expected AT_SECURE and the library not loaded)" % res.out.strip())


def t_secure_dlopen(ctx, py, v):
    if not ctx.is_root:
        raise Skip("needs root")
    real = os.path.realpath(SYSTEM_PYTHON)
    d = secure_dir(ctx)
    copy = os.path.join(d, "python3")
    shutil.copy(real, copy)
    reports = ctx.dir("secure-reports")
    o = opts(os.path.join(reports, "r.%p.json"), verbosity=2)
    argv = [copy, prog("secure_dlopen.py"), ctx.lib]
    try:
        # Control: the same copy, not setgid: loading the library by hand works.
        ctl = run(argv, env={"TASKLEAK_OPTIONS": o})
        check(ctl.rc == 0 and ctl.out.startswith("at_secure 0"), "control run: %s %s"
              % (ctl.rc, short(ctl.out + ctl.err)))
        check(os.path.exists(os.path.join(reports, "r.%d.json" % ctl.pid)) and ctl.tl_lines(),
              "control run: the library loaded with ctypes did not report: %r" % ctl.err)
        os.chown(copy, 0, NOBODY)
        os.chmod(copy, 0o2755)
        res = run(argv, env={"TASKLEAK_OPTIONS": o})
        check(res.out.startswith("at_secure 1"), "the setgid copy is not in secure mode: %r" % res.out)
        check(res.rc == 0, "status %s: %s" % (res.rc, short(res.err)))
        check(res.out.replace("at_secure 1", "at_secure 0") == ctl.out, "stdout differs")
        check(res.err == "", "stderr in secure mode: %r" % res.err)
        check(not os.path.exists(os.path.join(reports, "r.%d.json" % res.pid)),
              "a report was written in secure mode")
    finally:
        os.unlink(copy)


def memcheck_errors(xml):
    """(errors by kind outside libtaskleak.so, descriptions of errors with a
    frame in it, count of the libunwind probe suppressed)."""
    root = ET.parse(xml).getroot()
    outside, ours = {}, []
    for e in root.iter("error"):
        kind = e.findtext("kind")
        frames = [(f.findtext("fn") or "?", f.findtext("obj") or "?", f.findtext("file"),
                   f.findtext("line")) for f in e.find("stack").iter("frame")]
        if any("libtaskleak" in obj for _, obj, _, _ in frames):
            what = e.findtext("what") or e.findtext("xwhat/text")
            where = next("%s %s:%s" % (fn, fl, ln) for fn, obj, fl, ln in frames
                         if "libtaskleak" in obj)
            ours.append("%s (%s) at %s" % (kind, what, where))
        else:
            outside[kind] = outside.get(kind, 0) + 1
    suppressed = sum(int(p.findtext("count")) for p in root.iter("pair")
                     if p.findtext("name") == "libunwind-write-validate-probe")
    return outside, ours, suppressed


def t_valgrind(ctx, py, v):
    if not shutil.which("valgrind"):
        raise Skip("valgrind not installed")
    d = ctx.dir("valgrind")
    supp = os.path.join(d, "libunwind.supp")
    with open(supp, "w") as f:
        f.write(VALGRIND_SUPP)

    def memcheck(xml, lib):
        argv = ["valgrind", "--tool=memcheck", "--xml=yes", "--xml-file=" + xml,
                "--error-limit=no", "--num-callers=40", "--leak-check=full",
                "--show-leak-kinds=definite", "--errors-for-leak-kinds=definite",
                "--suppressions=" + supp]
        if os.path.exists("/usr/lib/valgrind/python3.supp"):  # Debian's, for Python's noise
            argv.append("--suppressions=/usr/lib/valgrind/python3.supp")
        argv += [py, prog("leaky.py"), "3", "6", "0.3"]
        return run(argv, lib=lib, opts=opts(os.path.join(d, "r.%p.json"), interval=0.05),
                   env={"PYTHONMALLOC": "malloc"}, timeout=150)
    res = memcheck(os.path.join(d, "with.xml"), ctx.lib)
    check(res.out == "clean 6 swallowed 3\n", "stdout %r" % res.out)
    check(res.rc == 0, "status %s: %s" % (res.rc, short(res.err)))
    found = reports_in(d)
    check(any(r["stats"]["leaks"]["swallowed_cancel"] >= 3 for r in found.values()),
          "the library did not report under valgrind")
    outside, ours, suppressed = memcheck_errors(os.path.join(d, "with.xml"))
    memcheck(os.path.join(d, "without.xml"), None)
    plain, _, _ = memcheck_errors(os.path.join(d, "without.xml"))

    def fmt(kinds):
        return ", ".join("%s %d" % kv for kv in sorted(kinds.items())) or "none"
    summary = ("errors with a frame in libtaskleak.so: %d; elsewhere: %s (without the "
               "library: %s); libunwind probe reports suppressed: %d"
               % (len(ours), fmt(outside), fmt(plain), suppressed))
    check(not ours, "%s: %s" % (summary, "; ".join(ours[:5])))
    return summary


# -------------------------------------------------------------------- main

def plan(interps, ctx, valgrind):
    checks = []  # (name, fn, args)

    def add(name, fn, *args):
        checks.append((name, fn, args))

    def skip(name, its, why):
        if its:
            checks.append(("%s %s" % (name, ", ".join(it.label for it in its)), skip_check,
                           (why,)))
    debian = [it for it in interps if it.system]
    sid = [it for it in interps if it.sid]
    for it in interps:
        L, py, v = it.label, it.path, it.version
        add("symlink-report-path " + L, t_symlink_report_path, py, v)
        add("symlink-temp-name " + L, t_symlink_temp_name, py, v)
        add("missing-dir " + L, t_missing_dir, py, v)
        add("missing-dir-leaky " + L, t_missing_dir_leaky, py, v)
        add("disk-full " + L, t_disk_full, py, v)
        add("signal-storm " + L, t_signal_storm, py, v)
        add("shutdown-storm " + L, t_shutdown_storm, py, v)
        add("shutdown-overdue " + L, t_shutdown_overdue, py, v)
        add("fork-thread-os.fork " + L, t_fork_thread, py, v, "os.fork")
        add("fork-thread-subprocess " + L, t_fork_thread, py, v, "subprocess")
        add("fork-storm " + L, t_fork_storm, py, v)
        add("threads-64 " + L, t_threads64, py, v)
        add("exec " + L, t_exec, py, v)
        add("shell " + L, t_shell, py, v)
        add("subinterp-gc " + L, t_subinterp_gc, py, v)
        if v[:2] >= (3, 12):
            add("subinterpreters-isolated " + L, t_subinterp, py, v, "isolated")
            add("subinterpreters-legacy " + L, t_subinterp, py, v, "legacy")
    for it in debian or interps[:1]:
        L, py, v = it.label, it.path, it.version
        add("readonly-immutable " + L, t_readonly_immutable, py, v)
        add("readonly-proc " + L, t_readonly_proc, py, v)
        add("disk-full-tiny " + L, t_disk_full_tiny, py, v)
    for it in debian:
        L, py, v = it.label, it.path, it.version
        add("readonly-nobody " + L, t_readonly_nobody, py, v)
        add("embed " + L, t_embed, py, v)
        add("embed-twice " + L, t_embed, py, v, True)
        add("secure-loader " + L, t_secure_loader, py, v)
        add("secure-dlopen " + L, t_secure_dlopen, py, v)
    skip("readonly-nobody", sid, "a sid interpreter runs through chroot, which `nobody` "
         "may not call")
    for name in ("embed", "embed-twice", "secure-dlopen"):
        skip(name, sid, "a check of Debian's own python3.11 (built against "
             "/usr/bin/python3.11-config, or a setgid copy of it): nothing in the sid chroot "
             "stands in for it")
    if valgrind:
        vg = debian[:1] + [it for it in interps if not it.system and not it.sid
                           and it.minor == (3, 12)][:1]
        for it in vg:
            # first in the queue: the slowest checks
            checks.insert(0, ("valgrind " + it.label, t_valgrind, (it.path, it.version)))
        skip("valgrind", sid, "the sid chroot has no valgrind (memcheck would trace the "
             "chroot wrapper, not the interpreter)")
    return checks


def skip_check(ctx, why):
    raise Skip(why)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    common.runner_args(ap)
    ap.add_argument("--jobs", type=int, default=max(2, min(4, (os.cpu_count() or 2) + 1)))
    ap.add_argument("--no-valgrind", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    lib = os.path.realpath(args.lib)
    if not os.path.exists(lib):
        print("no library at %s (run make)" % lib)
        return 2
    try:
        # Debug builds too: slow, but the checks of a hostile setting are
        # about the interpreter's own machinery (fork, exec, signals).
        interps, notes = common.discover(include_debug=True, explicit=args.python)
    except common.PythonsError as e:
        print("cannot run: %s" % e)
        return 2
    # Under a directory everyone can traverse (nobody runs a program there),
    # and which the sid chroot has too (/tmp).
    tmp = common.mkdtemp("taskleak-hostile-")
    os.chmod(tmp, 0o755)
    ctx = Ctx(lib, tmp, args.keep)
    checks = [c for c in plan(interps, ctx, not args.no_valgrind)
              if common.selected(c[0], args.patterns)]
    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    for note in notes:
        say(note)
        counts["SKIP"] += 1
    started = time.time()

    def one(c):
        name, fn, fargs = c
        t0 = time.time()
        try:
            note = fn(ctx, *fargs)
            status, msg = "PASS", note
        except Skip as e:
            status, msg = "SKIP", str(e)
        except Failure as e:
            status, msg = "FAIL", str(e)
        except Exception as e:  # a bug of the runner is a failure too
            status, msg = "FAIL", "%s: %s" % (type(e).__name__, e)
        line = "%s %s (%.1fs)" % (status, name, time.time() - t0)
        if msg:
            line += ": " + msg
        say(line)
        return status
    try:
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            for status in pool.map(one, checks):
                counts[status] += 1
    finally:
        if args.keep:
            say("kept %s" % tmp)
        else:
            for d, _, _ in os.walk(tmp):
                try:
                    os.chmod(d, 0o755)
                except OSError:
                    pass
            shutil.rmtree(tmp, ignore_errors=True)
    say("took %.0fs" % (time.time() - started))
    say("%d passed, %d failed, %d skipped" % (counts["PASS"], counts["FAIL"], counts["SKIP"]))
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
