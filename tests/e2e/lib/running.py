# SPDX-License-Identifier: MIT
"""Running a scenario's program with and without the library: one process,
or an interactive run playing the scenario's steps while a watcher records
every report written; what each run left (status, output, reports)."""

import atexit
import json
import os
import select
import shutil
import struct
import subprocess
import threading
import time

import common  # tests/common.py (lib/__init__.py puts it on sys.path)
from common import Failure, REPORT_NAME_RE

SNAPSHOT_DEADLINE = 5.0      # waiting for one snapshot (the contract says 1 s)
SHUTDOWN_DEADLINE = 5.0      # a shutdown report, after shutdown_timeout: its slack
TL_WATCH_EVERY = 1.0         # collector/watchdog.h: how often the library looks for one
BUILT_ENV = "TASKLEAK_E2E_BUILT"  # the directory of the scenario's helpers (`# build:`)
STORM_QUIET = 0.3            # no write for this long: the storm's work is over
STORM_DEADLINE = 10.0
E2E_DIR_ENV = "TASKLEAK_E2E_DIR"
# What no run inherits from the runner: anything that changes a Python run,
# the library and its options, LD_BIND_NOW (ASAN_OPTIONS and LD_LIBRARY_PATH
# stay, for a sanitizer build).
E2E_DROP = ("PYTHON*", "LD_BIND_NOW")


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
        self.shutdowns = []          # every shutdown report seen: [(seconds after the last signal, bytes)]
        self.shutdown_waited = False  # a shutdown-report step waited for one
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

    def is_shutdown(ev):
        return ev[1] == report_name and ev[2] is not None and report_reason(ev[2]) == "shutdown"

    last_signal = last_mark = start  # the last signal sent; the last step done
    timeout_option = float(sc.option("shutdown_timeout", "10"))
    waited = False
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
                last_mark = time.monotonic()
            elif step == "signal":
                alive("before signal %d" % arg)
                os.kill(p.pid, arg)
                last_signal = last_mark = time.monotonic()
            elif step == "shutdown-report" and with_lib:
                waited = True
                ev = watcher.wait_for(is_shutdown, 0, min(deadline, last_mark + timeout_option
                                                          + TL_WATCH_EVERY + SHUTDOWN_DEADLINE))
                if ev is None:
                    alive("while a shutdown report was due")
                    errors.append("no report with reason \"shutdown\" within %gs of the last "
                                  "step (shutdown_timeout %g)" % (
                                      timeout_option + TL_WATCH_EVERY + SHUTDOWN_DEADLINE,
                                      timeout_option))
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
    if watcher:
        run.shutdowns = [(ev[0] - last_signal, ev[2]) for ev in watcher.events if is_shutdown(ev)]
    run.shutdown_waited = waited
    return run


_built = {}
_built_lock = threading.Lock()


def build_helpers(sc):
    """The directory of the scenario's `# build:` helpers, each C file built
    once per run into <stem>.so (in /tmp: the sid chroot sees it)."""
    with _built_lock:
        key = tuple(sc.builds)
        if key in _built:
            return _built[key]
        cc = shutil.which("cc") or shutil.which("gcc")
        if not cc:
            raise common.Skip("cc is absent: the scenario's helpers cannot be built")
        out = common.mkdtemp("taskleak-e2e-built-")
        atexit.register(shutil.rmtree, out, True)  # kept for the whole run
        for name in sc.builds:
            src = os.path.join(os.path.dirname(sc.path), name)
            so = os.path.join(out, os.path.splitext(name)[0] + ".so")
            r = subprocess.run([cc, "-shared", "-fPIC", "-O1", "-o", so, src, "-ldl"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env=common.env(drop=E2E_DROP), timeout=120)
            if r.returncode != 0:
                raise Failure("cannot build %s: %s" % (name, short(text(r.stdout))))
        _built[key] = out
        return out


def run_scenario(sc, interp, lib):
    argv = [interp.path] + sc.args + [sc.path]
    results = {}
    built = {BUILT_ENV: build_helpers(sc)} if sc.builds else {}
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
                             extra=dict(sc.env, **dict(built, **{E2E_DIR_ENV: side})))
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

