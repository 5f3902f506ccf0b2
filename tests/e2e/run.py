#!/usr/bin/env python3
"""End-to-end tests of libtaskleak.so: real CPython programs, preloaded library.

    /usr/bin/python3 tests/e2e/run.py --lib build/libtaskleak.so [-k SUBSTR]... [--python PATH]...

Every scenario in tests/e2e/scenarios/*.py runs under every interpreter
tests/common.py finds (/usr/bin/python3, which must exist, each pyenv CPython
and the Debian sid chroot's of the supported versions; their debug builds only
with --debug-builds), twice:
with LD_PRELOAD=<lib> and without it.  The run with the library must write the
report the scenario's header directives describe; both runs must print the same
stdout, exit with the same status and print the same stderr except the
library's `taskleak: N leaks (...); report: PATH` lines (one per leaking
process that reaches its exit report).  `--python PATH`
(repeatable) replaces the interpreter discovery with the given interpreters.
`-k` (repeatable) keeps the checks whose name contains one of the substrings.

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
  # reason: periodic|signal    reason of the last report on disk (default exit;
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
The rest of the run (status, stdout, stderr, final report) is checked as for
any scenario.  Files in tests/e2e/scenarios whose name starts with `_` are
helpers, not scenarios.  Every run gets $TASKLEAK_E2E_DIR, a directory of its
own outside the report directory (children pids, observed reports).

Every report, whatever its reason, must also hold these: a stuck_after_cancel
entry appears no sooner than `grace` after the first cancel (and `resolved`
after that); a snapshot lists exactly stats.tasks_live live tasks, each
pending, each awaited_by null or another live task's id; a report that says
`incomplete` may have frames whose function, file and line are null, and
null task names (reading either needs the GIL).

Besides the scenarios, sh, perl, make and a C program compiled on the fly run
with LD_PRELOAD=<lib> LD_BIND_NOW=1: same output as without, empty stderr, no
file written in their working directory.

Output: one PASS/FAIL/SKIP line per check (indented notes under it: snapshot
latencies, storm counts), the signal->snapshot latency over the whole run, then
`N passed, M failed, K skipped`; exit status 1 when anything failed.  Python standard library only (3.8+).
"""

import argparse
import copy
import concurrent.futures
import glob
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import select
import statistics
import struct
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import common  # noqa: E402  (tests/common.py: interpreters, environment, reports)
from common import Failure, check, say, SUMMARY_RE, REPORT_NAME_RE  # noqa: E402

SCENARIOS = os.path.join(HERE, "scenarios")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "scripts", "python"))
from taskleak.contract import KINDS, OPTIONS, STATES  # noqa: E402  (checked against C)
OPTION_KEYS = tuple(key for key, _, _, _, _ in OPTIONS)
DEFAULT_TIMEOUT = 60.0
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
HEX_RE = re.compile(r"^0x[0-9a-fA-F]+$")
MARKER = r"<-\s*(create|cancel|await|caught|delivered)(?::([\w.-]+))?"
MARKERS_RE = re.compile(r"#((?:\s*%s)+)\s*$" % MARKER)  # one or more at a line's end
DIRECTIVE_RE = re.compile(r"^#\s*([a-z][a-z-]*)\s*(?::\s*(.*?))?\s*$")
KNOWN_DIRECTIVES = {"expect", "expect-none", "expect-no-report", "expect-count",
                    "expect-distinct", "min-python", "max-python",
                    "requires-module", "options", "env", "args", "exit",
                    "lib-exit", "timeout", "suppress", "reason", "children",
                    "child-expect", "child-expect-none", "child-incomplete",
                    "observe", "expect-observed", "step", "live", "live-count",
                    "snapshot-incomplete", "variant"}
NO_VALUE_DIRECTIVES = ("expect-none", "expect-no-report", "child-expect-none")
EXPECT_KEYS = {"coro", "name", "state", "result_type", "result_repr",
               "exception_type", "exception_message", "message", "scope",
               "cancels", "main_thread", "create", "cancel", "await", "resolved",
               "forwarded_from", "await_chain", "id", "caught", "delivered", "opaque"}
LIVE_KEYS = (EXPECT_KEYS - {"result_type", "result_repr", "exception_type",
                            "exception_message", "resolved", "forwarded_from",
                            "caught", "delivered"}) | {"awaited_by"}
REASONS = ("exit", "periodic", "signal")
STEP_ARGS = {"wait-line": "text", "signal": "signal", "close-stdin": None,
             "snapshot": "count", "storm": "count"}
SNAPSHOT_DEADLINE = 5.0      # waiting for one snapshot (the contract says 1 s)
SNAPSHOT_MAX_LATENCY = 1.0   # the contract
STORM_QUIET = 0.3            # no write for this long: the storm's work is over
STORM_DEADLINE = 10.0
E2E_DIR_ENV = "TASKLEAK_E2E_DIR"
# What no run inherits from the runner: anything that changes a Python run,
# the library and its options, LD_BIND_NOW (ASAN_OPTIONS and LD_LIBRARY_PATH
# stay, for a sanitizer build).
E2E_DROP = ("PYTHON*", "LD_BIND_NOW")


# ---------------------------------------------------------------- scenarios

class ExpectSet:
    """What one report's leaks must be: expect lines, counts, distinct fields."""

    def __init__(self):
        self.expects = []            # list of (kind, {key: value})
        self.expect_none = False
        self.counts = {}
        self.distinct = []


class Scenario(ExpectSet):
    def __init__(self, path):
        ExpectSet.__init__(self)
        self.path = os.path.realpath(path)
        self.name = os.path.splitext(os.path.basename(path))[0]
        self.expect_no_report = False
        self.reason = "exit"
        self.children = 0
        self.child = ExpectSet()
        self.child_incomplete = False
        self.observed = {}           # label -> (reason, ExpectSet)
        self.steps = []              # [(step, argument)]
        self.live = []               # [{key: value}]
        self.live_count = None
        self.snapshot_incomplete = False
        self.min_python = None
        self.max_python = None
        self.modules = []
        self.options = []            # [(key, value)]
        self.env = {}
        self.args = []
        self.exit = 0
        self.lib_exit = None
        self.timeout = DEFAULT_TIMEOUT
        self.markers = {"create": {}, "cancel": {}, "await": {}, "caught": {}, "delivered": {}}  # kind -> label -> [lines]
        self.suppressions = []
        self.variants = []           # [(name, [(directive, value)])]
        self.error = None
        try:
            self._parse()
        except (ValueError, OSError) as e:
            self.error = "bad scenario: %s" % e

    def _parse(self):
        with open(self.path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        in_header = True
        for lineno, line in enumerate(lines, 1):
            m = MARKERS_RE.search(line)
            if m and not line.lstrip().startswith("#"):
                for kind, label in re.findall(MARKER, m.group(1)):
                    self.markers[kind].setdefault(label, []).append(lineno)
            if in_header:
                if not line.strip():
                    continue
                if not line.startswith("#"):
                    in_header = False
                    continue
                d = DIRECTIVE_RE.match(line)
                if d and d.group(1).startswith("expect") and \
                        d.group(1) not in KNOWN_DIRECTIVES:
                    raise ValueError("unknown directive %r" % d.group(1))
                if d and d.group(1) in KNOWN_DIRECTIVES and \
                        (d.group(2) is not None or d.group(1) in NO_VALUE_DIRECTIVES):
                    self._directive(d.group(1), d.group(2) or "")
        if self.expect_none and (self.expects or self.expect_no_report):
            raise ValueError("expect-none combined with other expectations")
        if not (self.expects or self.expect_none or self.expect_no_report):
            raise ValueError("no expect/expect-none/expect-no-report directive")
        for kind in self.counts:
            if not any(k == kind for k, _ in self.expects):
                raise ValueError("expect-count for %s without an expect line" % kind)
        if self.children and not (self.child.expects or self.child.expect_none):
            raise ValueError("children without child-expect/child-expect-none")
        if (self.live or self.live_count is not None) and \
                not any(st == "snapshot" for st, _ in self.steps):
            raise ValueError("live lines without a snapshot step")
        if self.expect_no_report and (self.steps or self.children or self.observed):
            raise ValueError("expect-no-report with steps, children or observe")

    @staticmethod
    def _expect_line(value, keys, what):
        words = shlex.split(value)
        if not words or words[0] not in KINDS:
            raise ValueError("%s: unknown kind in %r" % (what, value))
        return words[0], Scenario._attrs(words[1:], keys, what)

    @staticmethod
    def _attrs(words, keys, what):
        attrs = {}
        for w in words:
            k, sep, v = w.partition("=")
            if not sep or k not in keys:
                raise ValueError("%s: bad attribute %r" % (what, w))
            attrs[k] = v
        return attrs

    def variant(self, name, directives):
        """A copy of this scenario named NAME[VARIANT] with DIRECTIVES added."""
        v = copy.deepcopy(self)
        v.name = "%s[%s]" % (self.name, name)
        v.variants = []
        for key, value in directives:
            v._directive(key, value)
        return v

    def _directive(self, key, value):
        if key == "variant":
            # `# variant: NAME DIRECTIVE: VALUE[; DIRECTIVE: VALUE]`: the same
            # program and expectations, run again with these added.
            name, _, rest = value.partition(" ")
            directives = []
            for part in rest.split(";"):
                k, sep, v = part.strip().partition(":")
                if not name or not sep or k.strip() not in KNOWN_DIRECTIVES - {"variant"}:
                    raise ValueError("variant: bad %r" % value)
                directives.append((k.strip(), v.strip()))
            self.variants.append((name, directives))
            return
        if key == "expect":
            self.expects.append(self._expect_line(value, EXPECT_KEYS, "expect"))
        elif key == "expect-none":
            self.expect_none = True
        elif key == "expect-no-report":
            self.expect_no_report = True
        elif key == "reason":
            if value not in REASONS:
                raise ValueError("reason: %r is none of %s" % (value, REASONS))
            self.reason = value
        elif key == "children":
            self.children = int(value)
        elif key == "child-expect":
            self.child.expects.append(self._expect_line(value, EXPECT_KEYS, "child-expect"))
        elif key == "child-expect-none":
            self.child.expect_none = True
        elif key == "child-incomplete":
            if value != "allowed":
                raise ValueError("child-incomplete: only `allowed`")
            self.child_incomplete = True
        elif key == "observe":
            words = value.split()
            if len(words) != 2 or words[1] not in REASONS or words[0] in self.observed:
                raise ValueError("observe: LABEL REASON, got %r" % value)
            self.observed[words[0]] = (words[1], ExpectSet())
        elif key == "expect-observed":
            label, _, rest = value.partition(" ")
            if label not in self.observed:
                raise ValueError("expect-observed: no `observe: %s` line before" % label)
            exp = self.observed[label][1]
            if rest.strip() == "none":
                exp.expect_none = True
            else:
                exp.expects.append(self._expect_line(rest, EXPECT_KEYS, "expect-observed"))
        elif key == "step":
            name, _, arg = value.partition(" ")
            arg = arg.strip()
            if name not in STEP_ARGS or bool(arg) != (STEP_ARGS[name] is not None):
                raise ValueError("step: bad step %r" % value)
            if STEP_ARGS[name] == "count":
                arg = int(arg)
            elif STEP_ARGS[name] == "signal":
                arg = parse_signal(arg)
            self.steps.append((name, arg))
        elif key == "live":
            attrs = self._attrs(shlex.split(value), LIVE_KEYS, "live")
            if "coro" not in attrs:
                raise ValueError("live: coro= is required")
            self.live.append(attrs)
        elif key == "live-count":
            self.live_count = int(value)
        elif key == "snapshot-incomplete":
            if value != "expected":
                raise ValueError("snapshot-incomplete: only `expected`")
            self.snapshot_incomplete = True
        elif key == "expect-count":
            for w in value.split():
                k, _, v = w.partition("=")
                if k not in KINDS:
                    raise ValueError("expect-count: unknown kind %r" % k)
                self.counts[k] = int(v)
        elif key == "expect-distinct":
            self.distinct.extend(value.split())
        elif key == "min-python":
            self.min_python = tuple(int(x) for x in value.split("."))
        elif key == "max-python":
            self.max_python = tuple(int(x) for x in value.split("."))
        elif key == "requires-module":
            self.modules.extend(value.split())
        elif key == "options":
            for item in value.split(":"):
                k, sep, v = item.partition("=")
                if not sep:
                    raise ValueError("options: bad item %r" % item)
                self.options.append((k.strip(), v.strip()))
        elif key == "env":
            for w in shlex.split(value):
                k, sep, v = w.partition("=")
                if not sep:
                    raise ValueError("env: bad item %r" % w)
                self.env[k] = v
        elif key == "args":
            self.args.extend(shlex.split(value))
        elif key == "exit":
            self.exit = int(value)
        elif key == "lib-exit":
            self.lib_exit = int(value)
        elif key == "timeout":
            self.timeout = float(value)
        elif key == "suppress":
            self.suppressions.append(value)

    def option(self, key, default=None):
        for k, v in reversed(self.options):
            if k == key:
                return v
        return default

    def dump_signal(self):
        return parse_signal(self.option("dump_signal", "SIGUSR2"))


def parse_signal(name):
    if name.isdigit():
        return int(name)
    try:
        return int(getattr(signal, name if name.startswith("SIG") else "SIG" + name))
    except AttributeError:
        raise ValueError("unknown signal %r" % name)


# ------------------------------------------------------------------ running

class Run:
    def __init__(self, argv, status, stdout, stderr, pid, files):
        self.argv, self.status, self.stdout, self.stderr = argv, status, stdout, stderr
        self.pid, self.files = pid, files
        self.tmp = None
        self.report_bytes = None     # this process's last report
        self.reports = {}            # every report file left: name -> bytes
        self.children = []           # pids the program wrote to $TASKLEAK_E2E_DIR/children
        self.observed = {}           # label -> bytes the program saved
        self.snapshots = []          # [(latency seconds, bytes)]
        self.storms = []             # [dict]
        self.step_errors = []        # soft failures found while the program ran


def run_process(argv, env, cwd, timeout):
    """Runs argv in its own session (its process group killed at the deadline)."""
    r = common.run(argv, env=env, cwd=cwd, timeout=timeout)
    if r.timed_out:
        raise Failure("%s timed out after %gs" % (" ".join(argv[-2:]), timeout))
    return Run(argv, r.returncode, r.stdout, r.stderr, r.pid, sorted(os.listdir(cwd)))


# ------------------------------------------------- watching the report dir

IN_CLOSE_WRITE, IN_MOVED_TO, IN_Q_OVERFLOW = 0x8, 0x80, 0x4000


class ReportWatcher:
    """Records every report that appears (renamed into place) in a directory,
    with the time it was seen: inotify when ctypes can reach it, else polling
    every millisecond.  Each event holds the bytes read right after it."""

    def __init__(self, directory):
        self.dir = directory
        self.events = []             # [(monotonic time, name, bytes or None)]
        self.cond = threading.Condition()
        self.overflow = False
        self._stop = False
        self._fd = self._inotify(directory)
        self.mode = "inotify" if self._fd is not None else "polling"
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @staticmethod
    def _inotify(directory):
        try:
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            fd = libc.inotify_init1(os.O_CLOEXEC | os.O_NONBLOCK)
            if fd < 0:
                return None
            if libc.inotify_add_watch(fd, os.fsencode(directory), IN_MOVED_TO) < 0:
                os.close(fd)
                return None
            return fd
        except (OSError, AttributeError, ImportError):
            return None

    def _record(self, name):
        try:
            with open(os.path.join(self.dir, name), "rb") as f:
                data = f.read()
        except OSError:
            data = None
        with self.cond:
            self.events.append((time.monotonic(), name, data))
            self.cond.notify_all()

    def _run(self):
        seen = {}
        while not self._stop:
            if self._fd is None:
                try:
                    for entry in os.scandir(self.dir):
                        if REPORT_NAME_RE.match(entry.name):
                            st = entry.stat()
                            key = (st.st_ino, st.st_mtime_ns, st.st_size)
                            if seen.get(entry.name) != key:
                                seen[entry.name] = key
                                self._record(entry.name)
                except OSError:
                    pass
                time.sleep(0.001)
                continue
            r, _, _ = select.select([self._fd], [], [], 0.05)
            if not r:
                continue
            try:
                buf = os.read(self._fd, 1 << 16)
            except BlockingIOError:
                continue
            i = 0
            while i + 16 <= len(buf):
                _, mask, _, length = struct.unpack_from("iIII", buf, i)
                name = buf[i + 16:i + 16 + length].rstrip(b"\0").decode("utf-8", "replace")
                i += 16 + length
                if mask & IN_Q_OVERFLOW:
                    self.overflow = True
                if mask & IN_MOVED_TO and REPORT_NAME_RE.match(name):
                    self._record(name)

    def count(self):
        with self.cond:
            return len(self.events)

    def wait_for(self, pred, start, deadline):
        """The first event from index `start` on satisfying pred, or None."""
        i = common.wait_for_item(self.events, pred, start, deadline, self.cond)
        return self.events[i - 1] if i else None

    def stop(self):
        self._stop = True
        self._thread.join(5)
        if self._fd is not None:
            os.close(self._fd)


# ---------------------------------------------------- interactive runs

def report_reason(data):
    try:
        return json.loads(data.decode("utf-8")).get("reason")
    except (ValueError, AttributeError):
        return None


def run_interactive(sc, argv, env, cwd, with_lib):
    """Runs argv and plays the scenario's steps against it (the library-only
    steps only when with_lib).  Soft failures go to run.step_errors; a step
    that cannot go on (a line that never comes, the program gone) ends the run."""
    start = time.monotonic()
    deadline = start + sc.timeout
    watcher = ReportWatcher(cwd) if with_lib else None
    p = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         start_new_session=True)
    out, err = common.LineReader(p.stdout), common.LineReader(p.stderr)
    errors, snapshots, storms = [], [], []
    report_name = "r.%d.json" % p.pid
    sig = sc.dump_signal()
    cursor = 0

    def alive(what):
        if p.poll() is not None:
            raise Failure("the program ended (status %s) %s; stderr: %r"
                          % (p.returncode, what, short(text(b"".join(err.lines)))))

    def is_snapshot(ev):
        return ev[1] == report_name and ev[2] is not None and report_reason(ev[2]) == "signal"

    try:
        for step, arg in sc.steps:
            if step == "wait-line":
                got = out.wait(lambda l, want=arg: l.rstrip(b"\r\n").decode("utf-8", "replace")
                               == want, cursor, deadline)
                if got is None:
                    alive("before printing %r" % arg)
                    raise Failure("no stdout line %r within %gs (stdout so far: %r)"
                                  % (arg, sc.timeout, short(text(b"".join(out.lines)))))
                cursor = got
            elif step == "signal":
                alive("before signal %d" % arg)
                os.kill(p.pid, arg)
            elif step == "close-stdin":
                p.stdin.close()
            elif step == "snapshot" and with_lib:
                for i in range(arg):
                    alive("before snapshot request %d" % (len(snapshots) + 1))
                    mark = watcher.count()
                    t0 = time.monotonic()
                    os.kill(p.pid, sig)
                    ev = watcher.wait_for(is_snapshot, mark,
                                          min(deadline, t0 + SNAPSHOT_DEADLINE))
                    if ev is None:
                        alive("while a snapshot was due")
                        errors.append("no report with reason \"signal\" within %gs of "
                                      "signal %d (request %d)"
                                      % (SNAPSHOT_DEADLINE, sig, len(snapshots) + 1))
                        break
                    snapshots.append((ev[0] - t0, ev[2]))
            elif step == "storm" and with_lib:
                alive("before the storm")
                mark = watcher.count()
                t0 = time.monotonic()
                sent = 0
                try:
                    for _ in range(arg):
                        os.kill(p.pid, sig)
                        sent += 1
                except ProcessLookupError:
                    pass
                t1 = time.monotonic()

                def quiet():
                    with watcher.cond:
                        last = watcher.events[-1][0] if len(watcher.events) > mark else t1
                    return time.monotonic() - max(last, t1) >= STORM_QUIET
                common.wait_for(quiet, min(deadline, t1 + STORM_DEADLINE), poll=0.02)
                with watcher.cond:
                    evs = [e for e in watcher.events[mark:] if e[1] == report_name]
                storm = {"signals": arg, "sent": sent, "seconds": t1 - t0,
                         "writes": len(evs), "alive": p.poll() is None,
                         "last_write_after": (evs[-1][0] - t1) if evs else None,
                         "overflow": watcher.overflow, "data": None}
                try:
                    with open(os.path.join(cwd, report_name), "rb") as f:
                        storm["data"] = f.read()
                except OSError:
                    pass
                storms.append(storm)
                alive("after a storm of %d dump signals" % arg)
        if not p.stdin.closed:
            p.stdin.close()
        left = deadline - time.monotonic()
        try:
            p.wait(max(left, 0.01))
        except subprocess.TimeoutExpired:
            raise Failure("%s timed out after %gs (after its steps)"
                          % (" ".join(argv[-2:]), sc.timeout))
    finally:
        if p.poll() is None:
            common.kill_group(p)
            p.wait()
        try:
            p.stdin.close()
        except OSError:
            pass
        if watcher:
            watcher.stop()
    run = Run(argv, p.returncode, b"".join(out.join(10)), b"".join(err.join(10)), p.pid,
              sorted(os.listdir(cwd)))
    run.step_errors, run.snapshots, run.storms = errors, snapshots, storms
    return run


def run_scenario(sc, interp, lib):
    argv = [interp.path] + sc.args + [sc.path]
    results = {}
    for with_lib in (True, False):
        tmp = common.mkdtemp("taskleak-e2e-")
        supp_dir = common.mkdtemp("taskleak-e2e-supp-")
        side = common.mkdtemp("taskleak-e2e-side-")
        try:
            opts = [("report_path", os.path.join(tmp, "r.%p.json")), ("interval", "0")]
            opts = [(k, v) for k, v in opts if sc.option(k) is None] + sc.options
            if sc.suppressions:
                supp = os.path.join(supp_dir, "taskleak.supp")
                with open(supp, "w") as f:
                    f.write("# written by tests/e2e/run.py for %s\n" % sc.name)
                    f.write("".join(line + "\n" for line in sc.suppressions))
                opts.append(("suppressions", supp))
            env = common.env(lib=lib if with_lib else None, options=opts, drop=E2E_DROP,
                             extra=dict(sc.env, **{E2E_DIR_ENV: side}))
            if sc.steps:
                try:
                    run = run_interactive(sc, argv, env, tmp, with_lib)
                except Failure as e:
                    raise Failure("%s the library: %s" % ("with" if with_lib else "without", e))
            else:
                run = run_process(argv, env, tmp, sc.timeout)
            run.tmp = tmp
            # The argv the interpreter sees (a sid wrapper runs the chroot's).
            run.argv = [interp.argv0] + argv[1:]
            if with_lib:
                for name in run.files:
                    if REPORT_NAME_RE.match(name):
                        with open(os.path.join(tmp, name), "rb") as f:
                            run.reports[name] = f.read()
                run.report_bytes = run.reports.get("r.%d.json" % run.pid)
                try:
                    with open(os.path.join(side, "children")) as f:
                        run.children = [int(w) for w in f.read().split()]
                except (OSError, ValueError):
                    run.children = []
                for label in sc.observed:
                    try:
                        with open(os.path.join(side, label + ".json"), "rb") as f:
                            run.observed[label] = f.read()
                    except OSError:
                        pass
            results[with_lib] = run
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.rmtree(supp_dir, ignore_errors=True)
            shutil.rmtree(side, ignore_errors=True)
    return results[True], results[False]


def text(b):
    return b.decode("utf-8", "replace")


def short(s, n=300):
    s = s.strip().replace("\n", "\\n")
    return s if len(s) <= n else s[:n] + "..."


def soft(errors, fn, *args):
    """Runs one group of checks; a failure is recorded and the next group runs."""
    try:
        fn(*args)
        return True
    except Failure as e:
        errors.append(str(e))
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as e:
        errors.append("malformed report (%s: %s)" % (type(e).__name__, e))
    return False


LATENCIES = []                   # (GIL held?, [seconds]) of every run with snapshots
_lat_lock = threading.Lock()


# Every report read is validated against the published schema, when this
# interpreter has jsonschema (Debian: python3-jsonschema); main() says SKIP
# once otherwise.
REPORT_SCHEMA = os.path.join(os.path.dirname(os.path.dirname(HERE)), "docs", "report.schema.json")
try:
    import jsonschema
except ImportError:
    jsonschema = None
_schema = {}
_schema_lock = threading.Lock()


def schema_problems(doc):
    """'' when DOC matches docs/report.schema.json (or it cannot be checked),
    else its first errors, one line."""
    if jsonschema is None:
        return ""
    with _schema_lock:
        if "validator" not in _schema:
            with open(REPORT_SCHEMA, encoding="utf-8") as f:
                _schema["validator"] = jsonschema.Draft202012Validator(json.load(f))
        errors = sorted(_schema["validator"].iter_errors(doc), key=lambda e: list(e.absolute_path))
    return "; ".join("at %s: %s" % ("/".join(map(str, e.absolute_path)) or "top level",
                                    e.message[:200]) for e in errors[:3])


def parse_report(data, what):
    if data is None:
        raise Failure("%s: no report" % what)
    try:
        doc = json.loads(data.decode("utf-8"))
    except ValueError as e:
        raise Failure("%s is not valid JSON (%d bytes): %s" % (what, len(data), e))
    problems = schema_problems(doc)
    if problems:
        raise Failure("%s does not match docs/report.schema.json: %s" % (what, problems))
    return doc


def fmt_ms(seconds):
    return "%.1f ms" % (seconds * 1000)


def evaluate(sc, interp, lib):
    """Runs the scenario with and without the library and checks both runs.
    Returns notes (lines worth printing under the result)."""
    lib_run, plain = run_scenario(sc, interp, lib)
    errors = list(lib_run.step_errors)
    errors += ["without the library: %s" % e for e in plain.step_errors]
    notes = []
    want_lib_status = sc.lib_exit if sc.lib_exit is not None else sc.exit
    err_lines = text(lib_run.stderr).splitlines(True)
    summaries = [i for i, l in enumerate(err_lines) if SUMMARY_RE.match(l.rstrip("\n"))]

    def transparency():
        check(plain.status == sc.exit,
              "exit status without the library %s, expected %s; stderr: %r"
              % (plain.status, sc.exit, short(text(plain.stderr))))

    def status():
        check(lib_run.status == want_lib_status,
              "exit status with the library %s, expected %s; stderr: %r"
              % (lib_run.status, want_lib_status, short(text(lib_run.stderr))))

    def stdout():
        check(lib_run.stdout == plain.stdout,
              "stdout differs with the library: %r vs %r without"
              % (short(text(lib_run.stdout)), short(text(plain.stdout))))
        check(plain.files == [], "files left in the cwd without the library: %s" % plain.files)

    def stderr():
        rest = "".join(l for i, l in enumerate(err_lines) if i not in summaries)
        check(rest == text(plain.stderr),
              "stderr differs with the library (summary line aside): %r vs %r without"
              % (short(rest, 600), short(text(plain.stderr), 600)))

    for group in (transparency, status, stdout, stderr):
        soft(errors, group)

    if sc.expect_no_report:
        soft(errors, check, lib_run.files == [], "report files written by a process "
             "without asyncio tasks: %s" % lib_run.files)
        soft(errors, check, lib_run.stderr == b"", "stderr not empty with the library: %r"
             % short(text(lib_run.stderr)))
        if errors:
            raise Failure("; ".join(errors))
        return notes

    report_name = "r.%d.json" % lib_run.pid
    children = lib_run.children
    if len(children) != sc.children:
        errors.append("the program recorded %d forked children in $%s/children, the "
                      "scenario expects %d" % (len(children), E2E_DIR_ENV, sc.children))
    want_files = sorted([report_name] + ["r.%d.json" % c for c in children])
    report = None
    if lib_run.files != want_files:
        errors.append("expected exactly the reports %s in the report dir (%s the "
                      "parent's), found %s" % (want_files, report_name, lib_run.files))
    if lib_run.report_bytes is not None:
        try:
            report = parse_report(lib_run.report_bytes, "the report")
        except Failure as e:
            errors.append(str(e))
    report_path = os.path.join(lib_run.tmp, report_name)

    verbosity = int(sc.option("verbosity", "1"))

    def summary():
        # Who must print `taskleak: N leaks ...; report: PATH`: the parent when
        # it leaks and reaches its exit report, every child that leaks.
        want = {}
        if sc.expects and verbosity >= 1 and sc.reason == "exit":
            want[report_path] = report
        if sc.child.expects and verbosity >= 1:
            for c in children:
                path = os.path.join(lib_run.tmp, "r.%d.json" % c)
                name = os.path.basename(path)
                try:
                    want[path] = parse_report(lib_run.reports.get(name), "child report")
                except Failure:
                    want[path] = None
        named = {}
        for i in summaries:
            line = err_lines[i].rstrip("\n")
            named.setdefault(SUMMARY_RE.match(line).group(3), []).append(line)
        for path, lines in sorted(named.items()):
            check(path in want, "summary line printed for %s although %s: %r"
                  % (path, "verbosity=0" if verbosity < 1 else
                     "its process leaves no exit report with leaks", lines[0]))
            check(len(lines) == 1, "%d summary lines for %s: %r" % (len(lines), path, lines))
        for path, rep in sorted(want.items()):
            check(path in named, "expected one `taskleak: N leaks ...; report: %s` line on "
                  "stderr; stderr: %r" % (path, short(text(lib_run.stderr))))
            if rep is not None:
                check_summary(named[path][0], rep, path)
        if sc.expect_none and not (sc.child.expects and verbosity >= 1):
            check(lib_run.stderr == b"",
                  "stderr not empty with the library for an expect-none scenario: %r"
                  % short(text(lib_run.stderr)))

    soft(errors, summary)
    if report is not None:
        check_report(sc, sc, interp, lib_run, report, errors, reason=sc.reason,
                     pid=lib_run.pid, ppid=os.getpid(), what="")
    for c in children:
        name = "r.%d.json" % c
        what = "child %d's report: " % c
        try:
            rep = parse_report(lib_run.reports.get(name), what.rstrip(": "))
        except Failure as e:
            errors.append(str(e))
            continue
        check_report(sc, sc.child, interp, lib_run, rep, errors, reason="exit", pid=c,
                     ppid=lib_run.pid, what=what,
                     incomplete="allowed" if sc.child_incomplete else "null")
    for label, (reason, exp) in sorted(sc.observed.items()):
        what = "observed report %s: " % label
        if label not in lib_run.observed:
            errors.append("%sthe program saved none in $%s" % (what, E2E_DIR_ENV))
            continue
        try:
            rep = parse_report(lib_run.observed[label], what.rstrip(": "))
        except Failure as e:
            errors.append(str(e))
            continue
        check_report(sc, exp, interp, lib_run, rep, errors, reason=reason,
                     pid=lib_run.pid, ppid=os.getpid(), what=what)

    snapshot_steps = sum(n for step, n in sc.steps if step == "snapshot")
    if snapshot_steps:
        lats = [lat for lat, _ in lib_run.snapshots]
        if lats:
            with _lat_lock:
                LATENCIES.append((sc.snapshot_incomplete, lats))
            notes.append("signal->snapshot latency: median %s over %d signals (min %s, "
                         "max %s)" % (fmt_ms(statistics.median(lats)), len(lats),
                                      fmt_ms(min(lats)), fmt_ms(max(lats))))
        slow = [fmt_ms(lat) for lat in lats if lat > SNAPSHOT_MAX_LATENCY]
        if slow:
            errors.append("snapshots later than %gs after the signal: %s"
                          % (SNAPSHOT_MAX_LATENCY, ", ".join(slow)))
        for i, (_, data) in enumerate(lib_run.snapshots):
            n_err = len(errors)
            what = "snapshot %d/%d: " % (i + 1, len(lib_run.snapshots))
            try:
                rep = parse_report(data, what.rstrip(": "))
            except Failure as e:
                errors.append(str(e))
                break
            check_report(sc, None, interp, lib_run, rep, errors, reason="signal",
                         pid=lib_run.pid, ppid=os.getpid(), what=what,
                         incomplete="required" if sc.snapshot_incomplete else "null")
            if len(errors) > n_err:
                break                # the others would say the same
    for st in lib_run.storms:
        notes.append("storm: %d dump signals sent in %s -> %d report writes, the last "
                     "%s after the storm" % (st["sent"], fmt_ms(st["seconds"]), st["writes"],
                                             fmt_ms(st["last_write_after"])
                                             if st["last_write_after"] is not None else "-"))
        what = "after a storm of %d dump signals: " % st["signals"]
        if not st["alive"]:
            errors.append("%sthe program died" % what)
            continue
        bound = max(5, st["signals"] // 10)
        if st["overflow"]:
            errors.append("%sinotify queue overflow: the writes were not counted" % what)
        elif st["writes"] > bound:
            errors.append("%s%d report writes (more than %d: the signals pile up work)"
                          % (what, st["writes"], bound))
        if st["writes"] == 0:
            errors.append("%sno snapshot written at all" % what)
        elif st["last_write_after"] > 1.0:
            errors.append("%sthe last snapshot came %.2fs after the storm ended (queued work)"
                          % (what, st["last_write_after"]))
        try:
            rep = parse_report(st["data"], what + "the report")
        except Failure as e:
            errors.append(str(e))
            continue
        check_report(sc, None, interp, lib_run, rep, errors, reason="signal",
                     pid=lib_run.pid, ppid=os.getpid(), what=what,
                     incomplete="required" if sc.snapshot_incomplete else "null")
    if errors:
        raise Failure("; ".join(errors), notes)
    return notes


def check_summary(line, report, report_path):
    m = SUMMARY_RE.match(line)
    total = sum(report["stats"]["leaks"].values())
    check(int(m.group(1)) == total,
          "summary says %s leaks, report stats say %d: %r" % (m.group(1), total, line))
    check(m.group(1) != "1" or " 1 leak " in line + " " or "1 leak (" in line,
          "summary grammar: %r" % line)
    parts = {}
    for part in m.group(2).split(","):
        n, _, kind = part.strip().partition(" ")
        check(n.isdigit() and kind in KINDS, "summary breakdown %r in %r" % (part, line))
        parts[kind] = int(n)
    want = {k: v for k, v in report["stats"]["leaks"].items() if v}
    check(parts == want, "summary breakdown %s != stats %s" % (parts, want))
    check(m.group(3) == report_path,
          "summary names report %s, it was written to %s" % (m.group(3), report_path))


# ----------------------------------------------------------- report checks

def is_num(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def check_pyframes(stack, where, depth, unresolved_ok=False):
    """unresolved_ok: a report that says `incomplete` may hold frames whose
    function, file and line are all null (resolving needs the GIL)."""
    check(isinstance(stack, list), "%s is not a list" % where)
    check(len(stack) <= depth, "%s has %d frames, stack_depth is %d"
          % (where, len(stack), depth))
    for fr in stack:
        if unresolved_ok and isinstance(fr, dict) and \
                fr.get("function") is None and fr.get("file") is None and fr.get("line") is None:
            continue
        check(isinstance(fr, dict) and isinstance(fr.get("function"), str)
              and isinstance(fr.get("file"), str) and is_int(fr.get("line")),
              "%s: bad frame %r" % (where, fr))


def check_native(stack, where, native, depth):
    check(isinstance(stack, list), "%s is not a list" % where)
    if not native:
        check(stack == [], "%s not empty with native=0: %d frames" % (where, len(stack)))
        return
    check(stack, "%s is empty" % where)
    check(len(stack) <= depth, "%s has %d frames, native_depth is %d"
          % (where, len(stack), depth))
    for fr in stack:
        check(isinstance(fr, dict) and isinstance(fr.get("ip"), str)
              and HEX_RE.match(fr["ip"]), "%s: bad frame %r" % (where, fr))
        check(fr.get("symbol") is None or isinstance(fr["symbol"], str),
              "%s: bad symbol in %r" % (where, fr))
        check(fr.get("offset") is None or is_int(fr["offset"]),
              "%s: bad offset in %r" % (where, fr))
        check(fr.get("module") is None or isinstance(fr["module"], str),
              "%s: bad module in %r" % (where, fr))
    check(any(fr.get("symbol") for fr in stack),
          "%s: no frame has a symbol" % where)


def leak_summary(e):
    t = e.get("task") or {}
    return "%s %s(%s)" % (e.get("kind"), t.get("coro"), e.get("state"))


def check_leak_shape(e, report, opts, live=False):
    """A LEAK entry, or (live) a TASK_SNAPSHOT: the fields of LEAK but kind,
    plus awaited_by; a live task is pending."""
    k = e.get("kind")
    if live:
        check("kind" not in e, "live task with a kind: %r" % k)
        e = dict(e, kind="live")
    else:
        check(k in KINDS, "leak kind %r" % k)
    w = leak_summary(e)
    task = e.get("task")
    check(isinstance(task, dict), "%s: no task object" % w)
    check(is_int(task.get("id")) and 1 <= task["id"] <= report["stats"]["tasks_created"],
          "%s: task.id %r out of 1..tasks_created" % (w, task.get("id")))
    check((isinstance(task.get("name"), str) and task["name"]) or
          (task.get("name") is None and report.get("incomplete") is not None),
          "%s: task.name %r" % (w, task.get("name")))
    check(isinstance(task.get("coro"), str) and task["coro"], "%s: task.coro %r" % (w, task.get("coro")))
    check(is_int(task.get("thread_id")) and task["thread_id"] > 0,
          "%s: task.thread_id %r" % (w, task.get("thread_id")))
    check(isinstance(task.get("address"), str) and HEX_RE.match(task["address"]),
          "%s: task.address %r" % (w, task.get("address")))
    st = e.get("state")
    check(st in STATES, "%s: state %r" % (w, st))
    if live:
        check(st == "pending", "%s: a live task in state %r" % (w, st))
        by = e.get("awaited_by", "absent")
        check(by is None or is_int(by), "%s: awaited_by %r" % (w, by))
    if st == "finished":
        r = e.get("result")
        check(isinstance(r, dict) and isinstance(r.get("type"), str)
              and isinstance(r.get("repr"), str), "%s: result %r" % (w, r))
    else:
        check(e.get("result") is None, "%s: result present in state %s" % (w, st))
    if st == "failed":
        x = e.get("exception")
        check(isinstance(x, dict) and isinstance(x.get("type"), str)
              and isinstance(x.get("message"), str), "%s: exception %r" % (w, x))
    else:
        check(e.get("exception") is None, "%s: exception present in state %s" % (w, st))
    cr = e.get("created")
    check(isinstance(cr, dict) and is_num(cr.get("t")) and cr["t"] >= 0,
          "%s: created %r" % (w, cr))
    unresolved = report.get("incomplete") is not None
    check_pyframes(cr.get("python_stack"), w + " created.python_stack", opts["stack_depth"],
                   unresolved)
    check(cr["python_stack"], "%s: created.python_stack is empty" % w)
    check_native(cr.get("native_stack"), w + " created.native_stack",
                 opts["native"], opts["native_depth"])
    cancels = e.get("cancels")
    check(isinstance(cancels, list), "%s: cancels %r" % (w, cancels))
    last_t = cr["t"]
    for i, c in enumerate(cancels):
        cw = "%s cancels[%d]" % (w, i)
        check(isinstance(c, dict) and is_num(c.get("t")), "%s: %r" % (cw, c))
        check(c["t"] >= last_t - 1e-6, "%s: t %s before the previous event %s" % (cw, c["t"], last_t))
        last_t = c["t"]
        check(c.get("message") is None or isinstance(c["message"], str), "%s: message %r" % (cw, c.get("message")))
        check_pyframes(c.get("python_stack"), cw + ".python_stack", opts["stack_depth"],
                       unresolved)
        check("scope" in c and (c["scope"] is None or isinstance(c["scope"], str)),
              "%s: scope %r" % (cw, c.get("scope")))
        check("forwarded_from" in c and (c["forwarded_from"] is None or is_int(c["forwarded_from"])),
              "%s: forwarded_from %r" % (cw, c.get("forwarded_from")))
    ended = e.get("ended")
    if st == "pending":
        check(ended is None, "%s: ended %r for a pending task" % (w, ended))
    else:
        check(isinstance(ended, dict) and is_num(ended.get("t")), "%s: ended %r" % (w, ended))
        check(ended["t"] >= last_t - 1e-6 and ended["t"] <= report["t"] + 1e-6,
              "%s: ended.t %s out of order (last event %s, report t %s)"
              % (w, ended["t"], last_t, report["t"]))
    aw = e.get("awaiting", None)
    check("awaiting" in e, "%s: no awaiting field" % w)
    if aw is not None:
        check_pyframes(aw, w + " awaiting", opts["stack_depth"], unresolved)
    if k == "stuck_after_cancel":
        r = e.get("resolved")
        check(r is None or (isinstance(r, dict) and is_num(r.get("t"))
                            and r.get("state") in STATES), "%s: resolved %r" % (w, r))
        check(cancels, "%s: stuck_after_cancel without cancels" % w)
        grace = float(opts["grace"])
        check(report["t"] >= cancels[0]["t"] + grace - 1e-3,
              "%s: reported at t %s, before grace %s had passed since the first cancel at %s"
              % (w, report["t"], grace, cancels[0]["t"]))
        if r is not None:
            check(r["t"] >= cancels[0]["t"] + grace - 1e-3 and r["t"] <= report["t"] + 1e-6,
                  "%s: resolved.t %s out of order (first cancel %s, grace %s, report t %s)"
                  % (w, r["t"], cancels[0]["t"], grace, report["t"]))
    if k == "swallowed_cancel":
        check(st in ("finished", "failed"), "%s: swallowed_cancel in state %s" % (w, st))
        check(cancels, "%s: swallowed_cancel without cancels" % w)
    if k == "destroyed_pending":
        check(st == "pending", "%s: destroyed_pending in state %s" % (w, st))


def frame_lines(stack, path):
    return [fr["line"] for fr in stack if fr.get("file") == path]


def marker_lines(sc, kind, label):
    """Lines to look for, or None when the check does not apply."""
    marks = sc.markers[kind]
    if label == "none":
        return None
    if label is not None:
        if label not in marks:
            raise Failure("bad scenario: no `# <- %s:%s` marker" % (kind, label))
        return marks[label]
    return marks.get("") or None


def check_expectation(sc, kind, attrs, e, pid, live=None):
    """One expect (or, kind "live", one live) line's attributes against one
    entry.  Unlabelled markers do not apply to live lines."""
    if kind == "live":
        attrs = dict(attrs)
        for key in ("create", "cancel", "await"):
            attrs.setdefault(key, "none")
        w = "live task %s#%s" % (e["task"]["coro"], e["task"]["id"])
    else:
        w = leak_summary(e)
    t = e["task"]
    if "id" in attrs:
        check(t["id"] == int(attrs["id"]), "%s: task.id %r, expected %s" % (w, t["id"], attrs["id"]))
    if "awaited_by" in attrs:
        by = e.get("awaited_by")
        if attrs["awaited_by"] == "none":
            check(by is None, "%s: awaited_by %r, expected null" % (w, by))
        else:
            ids = [x["task"]["id"] for x in live or [] if x["task"]["coro"] == attrs["awaited_by"]]
            check(ids, "%s: awaited_by=%s names no live task" % (w, attrs["awaited_by"]))
            check(by in ids, "%s: awaited_by %r, expected the id of %s %s"
                  % (w, by, attrs["awaited_by"], ids))
    if "state" in attrs:
        check(e["state"] == attrs["state"], "%s: state %r, expected %r" % (w, e["state"], attrs["state"]))
    res = e.get("result") or {}
    if "result_type" in attrs:
        check(res.get("type") == attrs["result_type"],
              "%s: result %r, expected type %r" % (w, e.get("result"), attrs["result_type"]))
    if "result_repr" in attrs:
        check(res.get("repr") == attrs["result_repr"],
              "%s: result %r, expected repr %r" % (w, e.get("result"), attrs["result_repr"]))
    exc = e.get("exception") or {}
    if "exception_type" in attrs:
        check(exc.get("type") == attrs["exception_type"],
              "%s: exception %r, expected type %r" % (w, e.get("exception"), attrs["exception_type"]))
    if "exception_message" in attrs:
        check(exc.get("message") == attrs["exception_message"],
              "%s: exception %r, expected message %r" % (w, e.get("exception"), attrs["exception_message"]))
    cancels = e["cancels"]
    if "cancels" in attrs:
        check(len(cancels) == int(attrs["cancels"]),
              "%s: %d cancels recorded, expected %s" % (w, len(cancels), attrs["cancels"]))
    if "message" in attrs:
        want = None if attrs["message"] == "null" else attrs["message"]
        check(cancels and cancels[0].get("message") == want,
              "%s: first cancel message %r, expected %r"
              % (w, cancels[0].get("message") if cancels else "<no cancel>", want))
    if "scope" in attrs:
        want = None if attrs["scope"] == "null" else attrs["scope"]
        check(cancels and cancels[0].get("scope") == want,
              "%s: first cancel scope %r, expected %r"
              % (w, cancels[0].get("scope") if cancels else "<no cancel>", want))
    if "main_thread" in attrs:
        is_main = t["thread_id"] == pid
        check(is_main == (attrs["main_thread"] == "yes"),
              "%s: thread_id %s vs pid %s, expected main_thread=%s"
              % (w, t["thread_id"], pid, attrs["main_thread"]))
    if "resolved" in attrs:
        r = e.get("resolved")
        if attrs["resolved"] == "null":
            check(r is None, "%s: resolved %r, expected null" % (w, r))
        else:
            check(r and r.get("state") == attrs["resolved"],
                  "%s: resolved %r, expected state %r" % (w, r, attrs["resolved"]))
    lines = marker_lines(sc, "create", attrs.get("create"))
    if lines:
        stack = e["created"]["python_stack"]
        got = frame_lines(stack, sc.path)
        check(set(got) & set(lines),
              "%s: created.python_stack has no frame at %s:%s (its lines there: %s; stack: %s)"
              % (w, sc.name, lines, got, fmt_stack(stack)))
        at = min(i for i, f in enumerate(stack)
                 if f.get("file") == sc.path and f.get("line") in lines)
        module = [i for i, f in enumerate(stack)
                  if f.get("file") == sc.path and f.get("function") == "<module>"]
        check(not module or at <= module[-1],
              "%s: created.python_stack is not innermost first: %s" % (w, fmt_stack(stack)))
    lines = marker_lines(sc, "await", attrs.get("await"))
    if lines:
        aw = e.get("awaiting")
        check(aw, "%s: awaiting %r, expected a frame at line %s" % (w, aw, lines))
        got = frame_lines(aw, sc.path)
        check(set(got) & set(lines),
              "%s: awaiting has no frame at %s:%s (its lines there: %s; stack: %s)"
              % (w, sc.name, lines, got, fmt_stack(aw)))
    if "await_chain" in attrs or "opaque" in attrs:
        # An awaitable the walk cannot enter ends the chain: named, never silent.
        got = (e.get("awaiting_opaque") or {}).get("type")
        want = attrs.get("opaque", "none")
        check(got is None if want == "none" else want in (got or ""),
              "%s: awaiting_opaque %r, expected %s" % (w, e.get("awaiting_opaque"),
                                                      "none" if want == "none" else want))
    if "await_chain" in attrs:
        labels = attrs["await_chain"].split(",")
        want = [marker_lines(sc, "await", label) for label in labels]
        aw = e.get("awaiting") or []
        mine = [fr for fr in aw if fr.get("file") == sc.path]
        check(len(mine) == len(want) and all(fr["line"] in lines
                                             for fr, lines in zip(mine, want)),
              "%s: awaiting's frames in %s are at lines %s, expected (innermost first) "
              "the markers %s at %s; awaiting: %s"
              % (w, sc.name, [fr["line"] for fr in mine], labels, want, fmt_stack(aw)))
    lines = marker_lines(sc, "cancel", attrs.get("cancel"))
    if lines:
        check(cancels, "%s: no cancels recorded, expected one at line %s" % (w, lines))
        got = frame_lines(cancels[0]["python_stack"], sc.path)
        check(set(got) & set(lines),
              "%s: cancels[0].python_stack has no frame at %s:%s (its lines there: %s; stack: %s)"
              % (w, sc.name, lines, got, fmt_stack(cancels[0]["python_stack"])))


def check_forwarded(want, e, leaks):
    """forwarded_from=null, or =CORO: the first cancel was forwarded from the
    task of the leak entry whose coroutine is CORO."""
    cancels = e["cancels"]
    got = cancels[0].get("forwarded_from") if cancels else None
    w = leak_summary(e)
    if want == "null":
        check(cancels and got is None, "%s: first cancel forwarded_from %r, expected null" % (w, got))
        return
    ids = [x["task"]["id"] for x in leaks if x["task"]["coro"] == want]
    check(ids, "%s: forwarded_from=%s names no reported task" % (w, want))
    check(got in ids, "%s: first cancel forwarded_from %r, expected the id of %s %s"
          % (w, got, want, ids))


def fmt_stack(stack):
    return " < ".join("%s@%s:%s" % (f.get("function"), os.path.basename(str(f.get("file"))),
                                   f.get("line")) for f in stack[:6])


def check_report(sc, exp, interp, run, rep, errors, reason, pid, ppid, what="",
                 incomplete="null"):
    """Every check of one report, as groups (a failed group does not stop the
    next).  exp: the ExpectSet its leaks must match (None: not checked)."""
    errs = []
    if soft(errs, check_header, sc, interp, run, rep, reason, pid, ppid, incomplete) and \
            soft(errs, check_shapes, rep):
        soft(errs, check_counts, rep)
        if exp is not None:
            soft(errs, check_expectations, sc, exp, pid, rep)
        if reason == "signal":
            soft(errs, check_live, sc, rep, pid)
    errors.extend(what + e for e in errs)


def check_header(sc, interp, run, rep, reason="exit", pid=None, ppid=None, incomplete="null"):
    check(isinstance(rep, dict), "report is not an object")
    check(rep.get("tool") == "taskleak", "tool %r" % rep.get("tool"))
    check(isinstance(rep.get("version"), str) and rep["version"], "version %r" % rep.get("version"))
    check(rep.get("schema") == 1, "schema %r" % rep.get("schema"))
    pid = run.pid if pid is None else pid
    ppid = os.getpid() if ppid is None else ppid
    check(rep.get("pid") == pid, "pid %r, the process was %d" % (rep.get("pid"), pid))
    check(rep.get("ppid") == ppid, "ppid %r, the parent was %d" % (rep.get("ppid"), ppid))
    check(rep.get("argv") == run.argv, "argv %r, the process ran %r" % (rep.get("argv"), run.argv))
    check(rep.get("python") == interp.version_str,
          "python %r, the interpreter is %s" % (rep.get("python"), interp.version_str))
    check(rep.get("reason") == reason, "reason %r, expected %r" % (rep.get("reason"), reason))
    check(is_num(rep.get("t")) and rep["t"] >= 0, "t %r" % rep.get("t"))
    check(isinstance(rep.get("time"), str) and TIME_RE.match(rep["time"]), "time %r" % rep.get("time"))
    check("incomplete" in rep, "no incomplete field")
    inc = rep["incomplete"]
    if incomplete == "null":
        check(inc is None, "incomplete %r" % inc)
    elif incomplete == "required":
        check(isinstance(inc, str) and inc, "incomplete %r, expected a reason (the GIL "
              "could not be taken)" % inc)
    else:
        check(inc is None or (isinstance(inc, str) and inc), "incomplete %r" % inc)
    if reason == "signal":
        check(isinstance(rep.get("live_tasks"), list),
              "live_tasks %r in a signal report" % rep.get("live_tasks"))
    else:
        check("live_tasks" not in rep, "live_tasks in a report whose reason is not signal")

    opts = rep.get("options")
    check(isinstance(opts, dict), "options %r" % opts)
    missing = [k for k in OPTION_KEYS if k not in opts]
    check(not missing, "options lacks %s" % missing)
    want_path = sc.option("report_path") or os.path.join(run.tmp, "r.%p.json")
    check(opts["report_path"] == want_path,
          "options.report_path %r, set to %r" % (opts["report_path"], want_path))
    check(float(opts["interval"]) == float(sc.option("interval", "0")),
          "options.interval %r" % opts["interval"])
    for key, value in sc.options:
        if key in ("report_path", "interval", "dump_signal", "suppressions"):
            continue
        check(str(opts.get(key)) == value or
              (is_num(opts.get(key)) and float(opts[key]) == float(value)),
              "options.%s %r, set to %r" % (key, opts.get(key), value))
    for key in ("stack_depth", "native_depth", "max_leaks"):
        check(is_int(opts[key]) and opts[key] >= 1, "options.%s %r" % (key, opts[key]))


def check_shapes(rep):
    """Types and per-entry invariants; what the other groups rely on."""
    opts = rep["options"]
    stats = rep.get("stats")
    check(isinstance(stats, dict), "stats %r" % stats)
    for key in ("tasks_created", "tasks_done", "tasks_live", "cancel_requests", "leaks_omitted"):
        check(is_int(stats.get(key)) and stats[key] >= 0, "stats.%s %r" % (key, stats.get(key)))
    leaks_stats = stats.get("leaks")
    check(isinstance(leaks_stats, dict) and sorted(leaks_stats) == sorted(KINDS)
          and all(is_int(v) and v >= 0 for v in leaks_stats.values()),
          "stats.leaks %r" % leaks_stats)
    leaks = rep.get("leaks")
    check(isinstance(leaks, list), "leaks %r" % leaks)
    for e in leaks:
        check(isinstance(e, dict), "leak entry %r" % e)
        check_leak_shape(e, rep, opts)
    for e in rep.get("live_tasks") or []:
        check(isinstance(e, dict), "live_tasks entry %r" % e)
        check_leak_shape(e, rep, opts, live=True)


def check_counts(rep):
    """stats agree with each other and with the entries."""
    opts, stats, leaks = rep["options"], rep["stats"], rep["leaks"]
    leaks_stats = stats["leaks"]
    reason = rep["reason"]
    if reason != "signal":   # a snapshot is written even when no task was made
        check(stats["tasks_created"] >= 1, "stats.tasks_created is 0 in a %s report" % reason)
    check(stats["tasks_done"] + stats["tasks_live"] <= stats["tasks_created"],
          "stats: tasks_done %d + tasks_live %d > tasks_created %d"
          % (stats["tasks_done"], stats["tasks_live"], stats["tasks_created"]))
    check(len({(e["kind"], e["task"]["id"]) for e in leaks}) == len(leaks),
          "the same task is reported twice for the same kind")
    total = sum(leaks_stats.values())
    max_leaks = opts["max_leaks"]
    check(len(leaks) == min(total, max_leaks),
          "%d leak entries, stats.leaks sum %d, max_leaks %d" % (len(leaks), total, max_leaks))
    check(stats["leaks_omitted"] == total - len(leaks),
          "stats.leaks_omitted %d, expected %d" % (stats["leaks_omitted"], total - len(leaks)))
    if total <= max_leaks:
        for kind in KINDS:
            n = sum(1 for e in leaks if e["kind"] == kind)
            check(n == leaks_stats[kind], "stats.leaks.%s %d but %d entries"
                  % (kind, leaks_stats[kind], n))
    # A task can be in two entries (stuck, then swallowed): count it once.
    per_task = {e["task"]["id"]: len(e["cancels"]) for e in leaks}
    check(sum(per_task.values()) <= stats["cancel_requests"],
          "cancels recorded in leaks exceed stats.cancel_requests %d" % stats["cancel_requests"])
    check(rep["t"] >= max([e["created"]["t"] for e in leaks] or [0]), "report t before a task creation")
    unfinished = [k for k in ("stuck_after_cancel", "destroyed_pending", "pending_at_exit")
                  if leaks_stats[k]]
    if not unfinished and reason == "exit":
        # Every task this program created ran to completion before exit.
        check(stats["tasks_done"] == stats["tasks_created"] and stats["tasks_live"] == 0,
              "stats at exit: tasks_created %d, tasks_done %d, tasks_live %d, but every "
              "task had ended (no stuck/destroyed/pending-at-exit leak)"
              % (stats["tasks_created"], stats["tasks_done"], stats["tasks_live"]))
    if reason == "signal":
        live = rep["live_tasks"]
        check(len(live) == stats["tasks_live"],
              "%d live_tasks in a snapshot, stats.tasks_live is %d (live_tasks: every live "
              "task)" % (len(live), stats["tasks_live"]))
        ids = [e["task"]["id"] for e in live]
        check(len(set(ids)) == len(ids), "a task is listed twice in live_tasks: ids %s" % ids)
        for e in live:
            by = e.get("awaited_by")
            check(by is None or (by in ids and by != e["task"]["id"]),
                  "%s: awaited_by %r is no other live task (ids %s)" % (leak_summary(e), by, ids))


def check_provenance(sc, attrs, e, rep):
    """caught=LABEL: on 3.12+ the last cancel's caught_at is at the `caught`
    marker (sys.monitoring); before 3.12 it is null.  delivered=LABEL: the
    last cancel's delivered_at has a frame at the `delivered` marker."""
    w = leak_summary(e)
    cancels = e["cancels"]
    last = cancels[-1] if cancels else {}
    version = tuple(int(x) for x in re.findall(r"\d+", rep.get("python", ""))[:2])
    lines = marker_lines(sc, "caught", attrs.get("caught"))
    if lines:
        got = last.get("caught_at")
        if version >= (3, 12):
            check(isinstance(got, dict) and got.get("file") == sc.path and got.get("line") in lines,
                  "%s: last cancel caught_at %r, expected %s:%s" % (w, got, sc.name, lines))
        else:
            check(got is None, "%s: caught_at %r before 3.12, expected null" % (w, got))
    lines = marker_lines(sc, "delivered", attrs.get("delivered"))
    if lines:
        got = frame_lines(last.get("delivered_at") or [], sc.path)
        check(set(got) & set(lines), "%s: last cancel delivered_at has no frame at %s:%s (%s)"
              % (w, sc.name, lines, fmt_stack(last.get("delivered_at") or [])))


def check_expectations(sc, exp, pid, rep):
    leaks, stats, leaks_stats = rep["leaks"], rep["stats"], rep["stats"]["leaks"]
    total = sum(leaks_stats.values())
    got = ", ".join(leak_summary(e) for e in leaks) or "none"
    if exp.expect_none:
        check(total == 0 and not leaks, "expected no leaks, got %d: %s" % (total, got))
        return

    want_counts = {k: 0 for k in KINDS}
    for kind, _ in exp.expects:
        want_counts[kind] += 1
    want_counts.update(exp.counts)
    check(leaks_stats == want_counts, "stats.leaks %s, expected %s; entries: %s"
          % ({k: v for k, v in leaks_stats.items() if v},
             {k: v for k, v in want_counts.items() if v}, got))
    matched = set()
    for kind, attrs in exp.expects:
        sel = [i for i, e in enumerate(leaks) if e["kind"] == kind
               and ("coro" not in attrs or e["task"]["coro"] == attrs["coro"])
               and ("name" not in attrs or e["task"]["name"] == attrs["name"])]
        desc = " ".join([kind] + ["%s=%s" % kv for kv in sorted(attrs.items())
                                  if kv[0] in ("coro", "name")])
        check(sel, "expected leak %s not reported; got: %s" % (desc, got))
        for i in sel:
            check_expectation(sc, kind, attrs, leaks[i], pid)
            check_provenance(sc, attrs, leaks[i], rep)
            if "forwarded_from" in attrs:
                check_forwarded(attrs["forwarded_from"], leaks[i], leaks)
        matched.update(sel)
    extra = [leak_summary(e) for i, e in enumerate(leaks) if i not in matched]
    check(not extra, "unexpected leaks: %s" % ", ".join(extra))
    for field in exp.distinct:
        vals = []
        for e in leaks:
            v = e
            for part in field.split("."):
                v = v.get(part) if isinstance(v, dict) else None
            vals.append(v)
        check(len(set(map(repr, vals))) == len(vals),
              "%s not distinct across the leaks: %s" % (field, vals))


def check_live(sc, rep, pid):
    """The `live:` lines and `live-count:` against a snapshot's live_tasks."""
    live = rep["live_tasks"]
    got = ", ".join("%s#%s" % (e["task"]["coro"], e["task"]["id"]) for e in live) or "none"
    if sc.live_count is not None:
        check(len(live) == sc.live_count, "%d live_tasks, expected %d: %s"
              % (len(live), sc.live_count, got))
    for attrs in sc.live:
        sel = [e for e in live if e["task"]["coro"] == attrs["coro"]
               and ("name" not in attrs or e["task"]["name"] == attrs["name"])]
        check(sel, "live task %s not in live_tasks: %s" % (attrs["coro"], got))
        for e in sel:
            check_expectation(sc, "live", attrs, e, pid, live=live)


# -------------------------------------------------------- non-Python checks

C_PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv)
{
    void *p = malloc(64);
    printf("hello from C, %d arg(s)\n", argc);
    fprintf(stdout, "%s\n", argc > 1 ? argv[1] : "-");
    free(p);
    return 0;
}
"""


def native_checks(lib, wanted):
    """(name, callable) pairs checking that non-Python processes are untouched."""
    def make(name, argv_fn):
        def go():
            work = tempfile.mkdtemp(prefix="taskleak-e2e-native-")
            try:
                argv = argv_fn(work)
                if argv is None:
                    return "skip", "cc is absent"
                runs = {}
                for with_lib in (True, False):
                    cwd = os.path.join(work, "cwd-lib" if with_lib else "cwd-plain")
                    os.mkdir(cwd)
                    env = common.env(lib=lib if with_lib else None, drop=E2E_DROP,
                                     LD_BIND_NOW="1")
                    runs[with_lib] = run_process(argv, env, cwd, DEFAULT_TIMEOUT)
                a, b = runs[True], runs[False]
                check(a.status == b.status, "exit status %s with the library, %s without"
                      % (a.status, b.status))
                check(a.stdout == b.stdout, "stdout differs: %r vs %r"
                      % (short(text(a.stdout)), short(text(b.stdout))))
                check(a.stdout, "no output at all")
                check(a.stderr == b"", "stderr with the library: %r" % short(text(a.stderr)))
                check(a.files == [], "files appeared in the cwd: %s" % a.files)
                return "pass", None
            finally:
                shutil.rmtree(work, ignore_errors=True)
        return name, go

    def c_prog(work):
        cc = shutil.which("cc")
        if not cc:
            return None
        src, exe = os.path.join(work, "hello.c"), os.path.join(work, "hello")
        with open(src, "w") as f:
            f.write(C_PROGRAM)
        r = subprocess.run([cc, "-o", exe, src], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, env=common.env(drop=E2E_DROP),
                           timeout=120)
        check(r.returncode == 0, "cc failed: %s" % short(text(r.stdout)))
        return [exe, "world"]

    checks = [
        make("native-sh", lambda w: ["/bin/sh", "-c", "echo hi"]),
        make("native-perl", lambda w: [shutil.which("perl") or "perl", "-e", 'print "hi\\n"']),
        make("native-make", lambda w: [shutil.which("make") or "make", "-v"]),
        make("native-c-program", c_prog),
    ]
    return [(n, f) for n, f in checks if selected(n, wanted)]


def selected(name, wanted):
    return not wanted or any(k in name for k in wanted)


# --------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lib", required=True, help="path to libtaskleak.so")
    ap.add_argument("--preload-first", action="append", default=[], metavar="PATH",
                    help="library to preload before it (a sanitizer runtime); repeatable")
    ap.add_argument("-k", action="append", default=[], metavar="SUBSTR",
                    help="run only the checks whose name contains SUBSTR")
    ap.add_argument("--python", action="append", default=[], metavar="PATH",
                    help="interpreter to test (repeatable; replaces discovery)")
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
    if jsonschema is None:
        say("SKIP report schema: %s cannot import jsonschema (Debian: python3-jsonschema), "
            "so reports are not validated against docs/report.schema.json" % sys.executable)
        skipped += 1

    scenarios = [Scenario(p) for p in sorted(glob.glob(os.path.join(SCENARIOS, "*.py")))
                 if not os.path.basename(p).startswith("_")]
    scenarios += [sc.variant(name, directives) for sc in list(scenarios)
                  for name, directives in sc.variants]
    scenarios = [s for s in scenarios if selected(s.name, args.k)]

    jobs = []          # (label, callable returning (status, reason))
    for sc in scenarios:
        for it in interps:
            label = "%s [%s]" % (sc.name, it.label)
            jobs.append((label, (lambda sc=sc, it=it: one(sc, it, lib))))
    for name, fn in native_checks(lib, args.k):
        jobs.append((name, fn))

    def guarded(fn):
        try:
            r = fn()
            return r if len(r) == 3 else (r[0], r[1], [])
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
