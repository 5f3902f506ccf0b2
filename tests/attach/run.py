#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""taskleak attach / dump on processes started WITHOUT the library.

For Debian's python3 (3.11), pyenv's 3.8 and 3.12 and the sid chroot's 3.14
and 3.15 (each skipped, saying so, when absent), start the programs of
tests/attach/programs/ with no LD_PRELOAD and no TASKLEAK_OPTIONS in their
environment, wait for their "ready" line, then run `scripts/taskleak dump
PID` / `scripts/taskleak attach PID` (TASKLEAK_LIB=build/libtaskleak.so) and
check: an idle loop (the hung shutdown: task list, suspension points, the
stuck verdict on 3.11+), a busy loop, the GIL held in C (status 2 within the
--timeout, then a dump that works), threads with their own loops, tracing
refused (the command run as `nobody` on a root-owned target), attach twice
(the library mapped once), the target's stdout and exit status unchanged by
an attach, and the audit after an attach (a swallowed cancel of a task created
after it, with its creation stack, in the exit report).  Once: a non-Python
target (/bin/sleep).

Per interpreter it prints the time from the start of `dump` to the printed
snapshot, and how long the target was paused: the longest gap between the
target's own heartbeat stamps (a Python thread stamping every 2 ms) across a
dump, and how long the process was ptrace-stopped (TracerPid non-zero).

    python3 tests/attach/run.py [--lib PATH] [-k PATTERN]... [--python LABEL|PATH]...
    make attach K="idle loop" PY=sid-3.14       (the same, from make)

-k keeps the checks whose name ("LABEL (VERSION) CHECK", e.g. "sid-3.14
(3.14.10) idle loop") contains a pattern ("audited after attach" brings
"target unchanged", whose run it reads); --python replaces the interpreters
above with the given ones.

Ends with "N passed, M failed, K skipped"; exits 1 when a check failed.
Standard library only.
"""

import argparse
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.realpath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PROGRAMS = os.path.join(HERE, "programs")
CLI = os.path.join(ROOT, "scripts", "taskleak")
sys.path.insert(0, os.path.join(ROOT, "tests"))
import common  # noqa: E402  (tests/common.py: interpreters, environment, reports)

# (source, minor) wanted, in the order they run.
WANTED = [("system", (3, 11)), ("pyenv", (3, 8)), ("pyenv", (3, 12)),
          ("sid", (3, 14)), ("sid", (3, 15))]
READY_TIMEOUT = 30.0      # a target's "ready" (the sid chroot starts slowly on a busy host)
GIL_SECONDS = 8           # how long gilheld.py holds the GIL
GIL_TIMEOUT = 1.0         # dump --timeout while it does
# Allowed beyond --timeout: 3.14+ spends 1 s in sys.remote_exec first, and
# the command's own start-up grows on a busy host (2.24 s at load 8); a dump
# that waited for the GIL would take GIL_SECONDS.
GIL_MARGIN = 3.0
PAUSE_BOUND = 1.0         # the longest a target may be unable to run Python during a dump
NOBODY = "nobody"


class Skip(Exception):
    pass


def marker_line(program, marker):
    """The line number of the line of PROGRAM that carries # MARKER."""
    with open(os.path.join(PROGRAMS, program)) as stream:
        for number, line in enumerate(stream, 1):
            if "# " + marker in line:
                return number
    raise RuntimeError("%s has no # %s line" % (program, marker))


# ---------------------------------------------------------------- processes

def tracer_pid(pid):
    try:
        with open("/proc/%d/status" % pid) as stream:
            for line in stream:
                if line.startswith("TracerPid:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def library_loads(pid):
    """Mappings of libtaskleak with offset 0, one per loaded copy, and the
    distinct mapped paths."""
    loads, paths = 0, set()
    with open("/proc/%d/maps" % pid) as stream:
        for line in stream:
            fields = line.split(None, 5)
            if len(fields) == 6 and "libtaskleak" in fields[5]:
                paths.add(fields[5].strip())
                if int(fields[2], 16) == 0:
                    loads += 1
    return loads, paths


class Target:
    """A program started without the library; its stdout and stderr lines are
    collected as they come (stdout, stderr: without their newline)."""

    started = []          # every Target, killed at the end whatever happens

    def __init__(self, argv, cwd, stdin=False):
        env = common.env()                  # no LD_PRELOAD, no TASKLEAK_OPTIONS
        assert "LD_PRELOAD" not in env and "TASKLEAK_OPTIONS" not in env
        self.argv = argv
        self.name = os.path.basename(argv[2] if len(argv) > 2 else argv[0])
        self.proc = subprocess.Popen(argv, cwd=cwd, env=env, start_new_session=True,
                                     stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     universal_newlines=True)
        Target.started.append(self)
        self.pid = self.proc.pid
        self.readers = [common.LineReader(self.proc.stdout), common.LineReader(self.proc.stderr)]
        self.seen = 0         # stdout lines wait_line has looked at

    @property
    def stdout(self):
        return [line.rstrip("\n") for line in self.readers[0].lines]

    @property
    def stderr(self):
        return [line.rstrip("\n") for line in self.readers[1].lines]

    def wait_line(self, predicate, timeout, what):
        """The next stdout line PREDICATE accepts (the lines before it are
        passed over)."""
        deadline = common.deadline(timeout)
        found = self.readers[0].wait(lambda line: predicate(line.rstrip("\n")), self.seen,
                                     deadline)
        if found is None and time.monotonic() >= deadline:
            raise AssertionError("no %s line from %s within %gs (stdout %r, stderr %r)"
                                 % (what, self.name, timeout,
                                    self.stdout[-5:], self.stderr[-5:]))
        if found is None:
            self.proc.wait()
            raise AssertionError("%s exited with status %s before its %s line "
                                 "(stderr %r)" % (self.name,
                                                  self.proc.returncode, what,
                                                  self.stderr[-5:]))
        self.seen = found
        return self.readers[0].lines[found - 1].rstrip("\n")

    def wait_ready(self):
        """Its "ready" line; then it must run without the library, as started."""
        self.wait_line(lambda l: l == "ready", READY_TIMEOUT, '"ready"')
        with open("/proc/%d/environ" % self.pid, "rb") as stream:
            names = [e.partition(b"=")[0] for e in stream.read().split(b"\0")]
        assert b"LD_PRELOAD" not in names and b"TASKLEAK_OPTIONS" not in names, \
            "%s runs with LD_PRELOAD or TASKLEAK_OPTIONS" % self.name
        assert library_loads(self.pid) == (0, set()), "%s has the library already" % self.name

    def send(self, text):
        self.proc.stdin.write(text)
        self.proc.stdin.flush()

    def finish(self, timeout):
        """Wait for the exit (and the end of its output); the status."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("%s did not exit within %gs" % (self.argv, timeout))
        for reader in self.readers:
            reader.join(5)
        return self.proc.returncode

    def assert_running(self, context):
        state = common.process_state(self.pid)
        assert self.proc.poll() is None and state not in (None, "Z", "X", "t", "T"), \
            "the target died or stays stopped %s (status %s, state %s, stderr %r)" % (
                context, self.proc.returncode, state, self.stderr[-5:])
        assert tracer_pid(self.pid) == 0, "the target is still traced %s" % context

    def kill(self):
        if self.proc.poll() is None:
            try:
                self.proc.kill()
            except OSError:
                pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream:
                try:
                    stream.close()
                except OSError:
                    pass


def kill_all():
    for target in Target.started:
        target.kill()


class Stopwatch(threading.Thread):
    """While a command runs: how long PID had a tracer (ptrace-stopped by gdb)."""

    def __init__(self, pid):
        threading.Thread.__init__(self)
        self.daemon = True
        self.pid = pid
        self.done = threading.Event()
        self.traced = 0.0

    def run(self):
        since = None
        while not self.done.is_set():
            now = time.monotonic()
            if tracer_pid(self.pid):
                since = since or now
            elif since is not None:
                self.traced += now - since
                since = None
            time.sleep(0.001)
        if since is not None:
            self.traced += time.monotonic() - since


class Result:
    def __init__(self, argv, returncode, stdout, stderr, elapsed, traced):
        self.argv, self.returncode, self.stdout, self.stderr = argv, returncode, stdout, stderr
        self.elapsed, self.traced = elapsed, traced

    def error_lines(self):
        return [line for line in self.stderr.splitlines() if line.strip()]

    def describe(self):
        return "`%s` exited %s after %.2fs; stdout %r; stderr %r" % (
            " ".join(self.argv[-3:]), self.returncode, self.elapsed, self.stdout[-1500:],
            self.stderr[-800:])


def taskleak(lib, *args, watch=None, user=None, timeout=90):
    """Run scripts/taskleak ARGS (as USER when given); a Result."""
    env = common.env(TASKLEAK_LIB=lib)
    argv = [CLI] + [str(a) for a in args]
    if user:
        argv = ["runuser", "-u", user, "--", "/usr/bin/python3"] + argv
    watcher = Stopwatch(watch) if watch else None
    if watcher:
        watcher.start()
    started = time.monotonic()
    try:
        done = subprocess.run(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError("`%s` did not finish within %ds" % (" ".join(argv), timeout))
    finally:
        elapsed = time.monotonic() - started
        if watcher:
            watcher.done.set()
            watcher.join()
    return Result(argv, done.returncode, done.stdout, done.stderr, elapsed,
                  watcher.traced if watcher else 0.0)


# ---------------------------------------------------------------- dump text

def task_blocks(text):
    """{task name: its lines} from a dump's text (a task starts at column 0)."""
    blocks, current = {}, None
    for line in text.splitlines():
        if line.startswith("taskleak:") or not line.strip():
            current = None
            continue
        if not line[0].isspace():
            current = line.split(" (", 1)[0]
            blocks[current] = [line]
        elif current is not None:
            blocks[current].append(line)
    return blocks


def assert_task(result, name, program, marker, function, before_attach=True):
    blocks = task_blocks(result.stdout)
    assert name in blocks, "task %s is not in the dump; tasks %s; %s" % (
        name, sorted(blocks), result.describe())
    text = "\n".join(blocks[name])
    where = re.compile(r"suspended at \S*%s:%d in %s$" % (
        re.escape(program), marker_line(program, marker), re.escape(function)), re.M)
    assert where.search(text), "task %s: not 'suspended at %s:%d in %s':\n%s" % (
        name, program, marker_line(program, marker), function, text)
    if before_attach:
        assert "created before taskleak was attached" in text, \
            "task %s: no 'created before taskleak was attached':\n%s" % (name, text)
    return text


def assert_dump_ok(result, target):
    """A dump printed a snapshot; if not, what the target said on stderr
    (the library's own lines) goes with the failure."""
    why = "%s; the target's stderr: %r" % (result.describe(), target.stderr[-10:])
    assert result.returncode == 0, why
    assert result.stdout.startswith("taskleak: pid "), why


def plant_earlier_snapshot(pid):
    """pids are reused: a dead process's snapshot, later in "t" than any the
    target writes soon, where the target's reports go after an attach."""
    here = "/proc/%d/root/tmp/taskleak-attach-%d/%d" % (pid, os.getuid(), pid)
    os.makedirs(here, mode=0o700, exist_ok=True)
    with open(os.path.join(ROOT, "tests", "cli", "fixtures", "signal.json")) as stream:
        doc = json.load(stream)
    doc.update(pid=pid, t=86400.0)
    with open("%s/taskleak.%d.json" % (here, pid), "w") as stream:
        json.dump(doc, stream)


def result_line(result):
    return (result.error_lines() or ["status %d" % result.returncode])[-1]


def assert_refused(result, pid, phrases, context):
    assert result.returncode == 2, "%s: %s" % (context, result.describe())
    lines = result.error_lines()
    assert len(lines) == 1, "%s: not one error line: %r" % (context, lines)
    assert any(p in lines[0] for p in phrases), "%s: %r says none of %r" % (
        context, lines[0], phrases)
    assert not result.stdout.strip(), "%s: stdout %r" % (context, result.stdout)


# ---------------------------------------------------------------- checks

class Runner:
    def __init__(self, lib, patterns=()):
        self.lib = lib
        self.patterns = patterns   # -k: the checks to run
        self.results = []          # (label, name, status, detail)
        self.timings = {}          # label -> {what: seconds}
        self.workdir = common.mkdtemp("taskleak-attach-test-")
        self.pids = []

    def start(self, interp, program, *args, stdin=False):
        argv = [interp.path, "-u", os.path.join(PROGRAMS, program)] + list(args)
        target = Target(argv, self.workdir, stdin=stdin)
        self.pids.append(target.pid)
        return target

    def check(self, label, name, fn, *args, needed_by=()):
        """Runs one check, unless -k leaves out both it and the checks that
        read what it leaves (NEEDED_BY)."""
        if not any(common.selected("%s %s" % (label, n), self.patterns)
                   for n in (name,) + tuple(needed_by)):
            return
        started = time.monotonic()
        try:
            detail = fn(*args) or ""
            status = "PASS"
        except Skip as skip:
            status, detail = "SKIP", str(skip)
        except AssertionError as error:
            status, detail = "FAIL", str(error)
        except Exception:
            status, detail = "FAIL", traceback.format_exc()
        finally:
            kill_all()
            del Target.started[:]
        line = "%s %s %s (%.1fs)%s" % (status, label, name, time.monotonic() - started,
                                      (": " + detail) if detail else "")
        print(line, flush=True)
        self.results.append((label, name, status, detail))

    def note(self, label, what, seconds):
        self.timings.setdefault(label, {})[what] = seconds

    # 6: tracing refused: the command run as `nobody`, the target root's.
    def refused(self, interp, problem):
        if problem:
            raise Skip(problem)
        target = self.start(interp, "idle.py")
        target.wait_ready()
        messages = []
        for command in ("dump", "attach"):
            result = taskleak(self.lib, command, target.pid, "--timeout", 5, user=NOBODY,
                              watch=target.pid)
            # dump reads /proc/PID/environ first: "Permission denied" there
            assert_refused(result, target.pid, ("another user", "may not be traced") +
                           (("Permission denied",) if command == "dump" else ()),
                           "%s as %s" % (command, NOBODY))
            messages.append("%s: %s" % (command, result_line(result)))
            target.assert_running("after a refused %s" % command)
            assert result.traced == 0, "the refused %s traced the target" % command
            assert library_loads(target.pid) == (0, set()), \
                "the library was loaded by a refused %s" % command
            uid = pwd.getpwnam(NOBODY).pw_uid
            assert not os.path.exists("/tmp/taskleak-attach-%d/%d" % (uid, target.pid))
        # untouched: a dump by root still works on it
        result = taskleak(self.lib, "dump", target.pid, watch=target.pid)
        assert_dump_ok(result, target)
        assert_task(result, "worker-0", "idle.py", "SUSPENDED-HERE", "flush")
        return "as %s: %s" % (NOBODY, "; ".join(messages))

    # 1: the idle loop, a hung shutdown.
    def idle(self, interp):
        target = self.start(interp, "idle.py")
        target.wait_ready()
        result = taskleak(self.lib, "dump", target.pid, watch=target.pid)
        assert_dump_ok(result, target)
        workers = [assert_task(result, "worker-%d" % i, "idle.py", "SUSPENDED-HERE", "flush")
                   for i in (0, 1)]
        if interp.minor >= (3, 11):
            for text in workers:
                assert "cancelled before taskleak was attached" in text, text
            assert "2 leaks so far (2 stuck_after_cancel)" in result.stdout, result.describe()
            verdict = "stuck verdict shown"
        else:
            verdict = "no Task.cancelling() before 3.11: task list only"
        target.assert_running("after the dump")
        self.note(interp.label, "idle dump", result.elapsed)
        self.note(interp.label, "idle traced", result.traced)
        return "dump %.2fs (ptrace-stopped %.3fs); %s" % (result.elapsed, result.traced, verdict)

    # The pause, from the target's own heartbeat.
    def pause(self, interp):
        target = self.start(interp, "idle.py", "heartbeat", stdin=True)
        target.wait_ready()
        target.send("gap\n")
        target.wait_line(lambda l: l.startswith("gap "), 10, '"gap"')
        result = taskleak(self.lib, "dump", target.pid, watch=target.pid)
        assert_dump_ok(result, target)
        assert_task(result, "worker-0", "idle.py", "SUSPENDED-HERE", "flush")
        target.send("gap\n")
        gap = float(target.wait_line(lambda l: l.startswith("gap "), 10, '"gap"').split()[1])
        self.note(interp.label, "pause", gap)
        self.note(interp.label, "pause traced", result.traced)
        assert gap < PAUSE_BOUND, "the target could not run Python for %.3fs (bound %gs)" % (
            gap, PAUSE_BOUND)
        target.assert_running("after the dump")
        return "dump %.2fs; longest heartbeat gap %.3fs; ptrace-stopped %.3fs" % (
            result.elapsed, gap, result.traced)

    # 2
    def busy(self, interp):
        target = self.start(interp, "busy.py")
        target.wait_ready()
        result = taskleak(self.lib, "dump", target.pid, watch=target.pid)
        assert_dump_ok(result, target)
        assert_task(result, "sleeper", "busy.py", "SUSPENDED-HERE", "sleeper")
        assert "Task-1" in task_blocks(result.stdout), result.describe()
        target.assert_running("after the dump")
        self.note(interp.label, "busy dump", result.elapsed)
        return "dump %.2fs (ptrace-stopped %.3fs)" % (result.elapsed, result.traced)

    # 3
    def gil(self, interp):
        target = self.start(interp, "gilheld.py", str(GIL_SECONDS))
        target.wait_ready()
        result = taskleak(self.lib, "dump", target.pid, "--timeout", GIL_TIMEOUT,
                          watch=target.pid)
        assert "awake" not in target.stdout, \
            "the target released the GIL before the dump ended: the check proves nothing " \
            "(%s)" % result.describe()
        assert result.returncode == 2, result.describe()
        lines = result.error_lines()
        assert len(lines) == 1 and "GIL" in lines[0], "not one line about the GIL: %r" % lines
        assert result.elapsed <= GIL_TIMEOUT + GIL_MARGIN, \
            "failed after %.2fs, beyond --timeout %g + %g" % (result.elapsed, GIL_TIMEOUT,
                                                               GIL_MARGIN)
        target.assert_running("after the failed dump")
        target.wait_line(lambda l: l == "awake", GIL_SECONDS + 15, '"awake"')
        second = taskleak(self.lib, "dump", target.pid, watch=target.pid)
        assert_dump_ok(second, target)
        assert_task(second, "sleeper", "gilheld.py", "SUSPENDED-HERE", "sleeper")
        target.assert_running("after the second dump")
        self.note(interp.label, "gil fail", result.elapsed)
        return "status 2 after %.2fs (--timeout %g): %s; then dump %.2fs" % (
            result.elapsed, GIL_TIMEOUT, lines[0], second.elapsed)

    # 4
    # (with the snapshot of an earlier process of this pid where the report goes)
    def threads(self, interp):
        target = self.start(interp, "threads.py")
        target.wait_ready()
        plant_earlier_snapshot(target.pid)
        result = taskleak(self.lib, "dump", target.pid, watch=target.pid)
        assert_dump_ok(result, target)
        for n in (1, 2):
            assert_task(result, "thread-%d-task" % n, "threads.py", "SUSPENDED-HERE", "waiter")
        target.assert_running("after the dump")
        return "dump %.2fs; both threads' tasks listed" % result.elapsed

    # 7
    def twice(self, interp):
        target = self.start(interp, "idle.py")
        target.wait_ready()
        paths = []
        for attempt in (1, 2):
            result = taskleak(self.lib, "attach", target.pid, watch=target.pid)
            assert result.returncode == 0, "attach #%d: %s" % (attempt, result.describe())
            found = re.search(r"reports go to (\S+)$", result.stdout.strip())
            assert found, "attach #%d printed no report path: %r" % (attempt, result.stdout)
            paths.append(found.group(1))
            loads, mapped = library_loads(target.pid)
            assert loads == 1 and len(mapped) == 1, \
                "after attach #%d the library is loaded %d times: %s" % (attempt, loads, mapped)
        assert paths[0] == paths[1], "two report paths: %s" % paths
        result = taskleak(self.lib, "dump", target.pid, watch=target.pid)
        assert_dump_ok(result, target)
        assert_task(result, "worker-1", "idle.py", "SUSPENDED-HERE", "flush")
        loads, mapped = library_loads(target.pid)
        assert loads == 1 and len(mapped) == 1, \
            "after attach, attach, dump: loaded %d times: %s" % (loads, mapped)
        target.assert_running("after attach, attach, dump")
        return "mapped once: %s" % mapped.pop()

    # 8 and 9: the same runs (plain, then attached).
    def run_unchanged(self, interp, attach):
        target = self.start(interp, "unchanged.py", stdin=True)
        target.wait_ready()
        report = None
        if attach:
            result = taskleak(self.lib, "attach", target.pid, watch=target.pid)
            assert result.returncode == 0, result.describe()
            found = re.search(r"reports go to (\S+)$", result.stdout.strip())
            assert found, "attach printed no report path: %r" % result.stdout
            report = found.group(1)
        target.send("go\n")
        status = target.finish(30)
        return target, status, report

    def unchanged(self, interp, shared):
        plain, plain_status, _ = self.run_unchanged(interp, False)
        attached, status, report = self.run_unchanged(interp, True)
        shared["report"], shared["pid"] = report, attached.pid
        assert plain_status == 3 and plain.stdout[-1:] == ["done"], \
            "the program itself misbehaves: status %s, stdout %r, stderr %r" % (
                plain_status, plain.stdout, plain.stderr)
        assert attached.stdout == plain.stdout, "stdout differs after an attach:\n%r\n%r" % (
            plain.stdout, attached.stdout)
        assert status == plain_status, "exit status %s after an attach, %s without" % (
            status, plain_status)
        noisy = [l for l in attached.stderr if "taskleak" in l.lower()]
        assert not noisy, "stderr has taskleak lines: %r" % noisy
        return "stdout (%d lines) and status %d identical" % (len(plain.stdout), status)

    def audited(self, interp, shared):
        if "report" not in shared:
            raise AssertionError("the attached run of unchanged.py did not get that far")
        path = shared["report"]
        assert path and path.endswith("taskleak.%d.json" % shared["pid"]) and \
            "/tmp/taskleak-attach-%d/%d/" % (os.getuid(), shared["pid"]) in path, path
        doc = common.read_json(path)
        assert doc.get("reason") == "exit", "the report is not the exit report: %r" % (
            doc.get("reason"))
        leaks = [l for l in doc.get("leaks", []) if l.get("task", {}).get("name") ==
                 "leaky-after-attach"]
        assert [l["kind"] for l in leaks] == ["swallowed_cancel"], \
            "leaks of leaky-after-attach: %r (all: %r)" % (
                [l.get("kind") for l in leaks],
                [(l.get("kind"), l.get("task", {}).get("name")) for l in doc.get("leaks", [])])
        created = leaks[0].get("created") or {}
        stack = created.get("python_stack") or []
        assert stack and not created.get("before_attach"), "no creation stack: %r" % created
        line = marker_line("unchanged.py", "CREATED-HERE")
        assert any(str(f.get("file", "")).endswith("unchanged.py") and f.get("line") == line
                   for f in stack), "creation stack lacks unchanged.py:%d: %r" % (line, stack)
        return "swallowed_cancel, created at unchanged.py:%d (%d frames)" % (line, len(stack))

    # 5, once
    def not_python(self):
        sleep = shutil.which("sleep") or "/bin/sleep"
        target = Target([sleep, "60"], self.workdir)
        for command in ("dump", "attach"):
            result = taskleak(self.lib, command, target.pid, watch=target.pid)
            assert_refused(result, target.pid, ("not a CPython process",), command)
            target.assert_running("after %s" % command)
            assert result.traced == 0, "%s traced a non-Python target" % command
            assert library_loads(target.pid) == (0, set())
        return result.error_lines()[0]


def nobody_problem(lib):
    """Why the command cannot run as `nobody` here, or None."""
    if os.getuid() != 0:
        return "runuser needs root"
    if not shutil.which("runuser"):
        return "no runuser"
    try:
        pwd.getpwnam(NOBODY)
    except KeyError:
        return "no user %s" % NOBODY
    probe = taskleak(lib, "dump", "--help", user=NOBODY, timeout=60)
    if probe.returncode != 0:
        return "%s cannot run scripts/taskleak: %s" % (
            NOBODY, (probe.error_lines() or ["status %d" % probe.returncode])[-1])
    return None


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common.runner_args(parser)
    args = parser.parse_args(argv)
    lib = os.path.abspath(args.lib)
    if not os.path.isfile(lib):
        print("attach: %s is absent (run make)" % lib)
        return 1
    started = time.monotonic()
    runner = Runner(lib, args.patterns)
    skipped_notes = []
    if not shutil.which("gdb"):
        skipped_notes.append("gdb is absent (apt-get install gdb): 3.8-3.13 cannot be attached")
    chosen = []
    if args.python:
        try:
            chosen, _ = common.discover(explicit=args.python)
        except common.PythonsError as e:
            print("attach: %s" % e)
            return 1
        wanted = []
    else:
        interps, notes = common.discover()
        wanted = WANTED
    for source, minor in wanted:
        found = [i for i in interps if i.source == source and i.minor == minor]
        label = "%s-%d.%d" % ({"system": "debian"}.get(source, source), minor[0], minor[1])
        if found:
            chosen.append(found[0])
        else:
            why = [n for n in notes if ("%d.%d" % minor) in n or source in n]
            skipped_notes.append("%s: absent%s" % (label, (" (" + why[0] + ")") if why else ""))
    for note in skipped_notes:
        print("SKIP", note)
        runner.results.append((note.split(":")[0], "interpreter", "SKIP", note))
    problem = nobody_problem(lib)
    if problem:
        print("note: tracing refused is skipped: %s" % problem)
    try:
        if not args.python:
            runner.check("any", "non-python target", runner.not_python)
        for interp in chosen:
            label = "%s (%s)" % (interp.label, interp.version_str)
            runner.check(label, "idle loop", runner.idle, interp)
            runner.check(label, "tracing refused", runner.refused, interp, problem)
            runner.check(label, "pause", runner.pause, interp)
            runner.check(label, "busy loop", runner.busy, interp)
            runner.check(label, "GIL held in C", runner.gil, interp)
            runner.check(label, "threads with their own loops", runner.threads, interp)
            runner.check(label, "attach twice", runner.twice, interp)
            shared = {}
            runner.check(label, "target unchanged", runner.unchanged, interp, shared,
                         needed_by=("audited after attach",))
            runner.check(label, "audited after attach", runner.audited, interp, shared)
    finally:
        kill_all()
        for pid in runner.pids:
            shutil.rmtree("/tmp/taskleak-attach-%d/%d" % (os.getuid(), pid), ignore_errors=True)
        shutil.rmtree(runner.workdir, ignore_errors=True)
    print()
    print("%-22s %10s %14s %12s %16s" % ("interpreter", "idle dump", "(ptrace-stop)",
                                         "busy dump", "pause (heartbeat)"))
    for interp in chosen:
        t = runner.timings.get(interp.label, {})
        cell = lambda key: ("%.3fs" % t[key]) if key in t else "-"
        print("%-22s %10s %14s %12s %16s" % (interp.label + " " + interp.version_str,
                                             cell("idle dump"), cell("idle traced"),
                                             cell("busy dump"), cell("pause")))
    counts = dict((s, sum(1 for r in runner.results if r[2] == s))
                  for s in ("PASS", "FAIL", "SKIP"))
    print("attach: %.0fs" % (time.monotonic() - started))
    print("%d passed, %d failed, %d skipped" % (counts["PASS"], counts["FAIL"], counts["SKIP"]))
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
