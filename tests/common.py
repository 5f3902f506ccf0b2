#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What every test runner and the benchmarks share: the interpreters, the
environment a program runs in (under the library or not), running it, and
reading and waiting for what it writes.  Standard library only, Python 3.8+:
scripts/dev/check_layouts.py imports it under every interpreter, the sid
chroot's too.

    sys.path.insert(0, "<checkout>/tests"); import common

Interpreters: `interps, notes = discover(include_debug=False, explicit=None)`.
`interps` is a list of Interpreter (path, version, label, flags system /
pyenv / sid / debug, can_import(module)); `notes` are lines "SKIP WHAT: why"
for what was found but is not used, or was looked for and is absent.
Sources, in this order:

  1. /usr/bin/python3, Debian's (libpython linked into the executable), which
     must exist and run; label debian-3.11;
  2. every pyenv CPython, $(pyenv root)/versions/*/bin/python3 (else
     $PYENV_ROOT, else ~/.pyenv), oldest first; labels pyenv-3.12 (the full
     version, pyenv-3.12.1, when two share a minor);
  3. the interpreters of the Debian sid chroot, the wrappers that
     `scripts/dev/sid-pythons --list` prints; labels sid-3.14, and sid-3.14d
     for a CPython debug build.

The supported versions are 3.TL_PY_MINOR_MIN to 3.TL_PY_MINOR_MAX, read from
shim/cpython/versions.h (the only place that says so); others are skip notes,
as are interpreters that do not run, debug builds unless include_debug, the
minors of the range that no source provides, and an absent sid chroot.
`explicit` (a runner's --python PATH...) replaces discovery: those
interpreters in that order, debug builds too; one that does not run raises
PythonsError, as does a missing /usr/bin/python3 in discovery.
interpreter(path) is the one at PATH, whatever its version.

A sid wrapper runs its interpreter inside the chroot, in the caller's working
directory: the checkout and /tmp are bind-mounted at the same paths there, and
nothing else is.  Give these interpreters files under the checkout or /tmp
(mkdtemp() makes a directory under /tmp, SHARED_TMP) and a working directory
there too; visible_in_sid(path) says whether a path is one of those.  An
Interpreter's argv0 is the argv[0] the interpreter sees (the chroot's
/usr/bin/python3.X for a sid wrapper).

Environment and running:
  env(lib, options, drop, extra, **more)   a child's environment: never the
      runner's LD_PRELOAD or TASKLEAK_OPTIONS, nor what DROP names (default
      STEERING: PYTHON*, LD_*, TASKLEAK*); then the given variables, the
      library and its options
  options(*pairs, **kw)        a TASKLEAK_OPTIONS string "k=v:k=v"
  run(argv, ...) -> Completed  a program in a session of its own; its process
      group is killed at the timeout (kill_group)
  process_state(pid)           the state letter of /proc/PID/stat
Reports and waiting:
  SUMMARY_RE, SHUTDOWN_RE, REPORT_NAME_RE   the exit line `taskleak: N leaks
      (...); report: PATH`, the shutdown watchdog's `taskleak: shutdown blocked
      for S s ...; report: PATH`; a report written through report_path=<dir>/r.%p.json
  report_paths(dir, pattern), read_json(path), load_report(path),
  load_reports(dir, pattern)   a directory's report files, one JSON file, one
      report (Failure unless whole and taskleak's), {path: report}
  deadline(seconds), wait_for(condition, deadline, poll, cond)   what
      condition() returns once true, or None past the deadline: polling, or
      woken through a threading.Condition
  wait_for_item(list, predicate, start, deadline, cond)   the same for the
      next item of a list that another thread appends to
  LineReader(pipe)             a pipe's lines, and waiting for one
Checks: Failure (with notes), Skip, check(cond, msg), say(line).
Every runner's command line: runner_args(parser) adds --lib PATH (default
build/libtaskleak.so), -k PATTERN (repeatable: the checks whose name contains
one of them; selected(name, patterns)) and --python LABEL|PATH (repeatable:
a label as `python3 tests/pythons.py` prints it, or a path; discover() takes
either as `explicit`).

tests/pythons.py is the program that lists the interpreters
(`python3 tests/pythons.py [--debug]`, `--path LABEL`).
"""

import concurrent.futures
import glob
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.realpath(__file__))
ROOT = os.path.dirname(HERE)
VERSIONS_H = os.path.join(ROOT, "shim", "cpython", "versions.h")
SID_PYTHONS = os.path.join(ROOT, "scripts", "dev", "sid-pythons")
SYSTEM_PYTHON = "/usr/bin/python3"
# The one directory outside the checkout that every interpreter (the sid
# chroot's too) sees at the same path.
SHARED_TMP = "/tmp"
PROBE_TIMEOUT = 60
PROBE = ("import sys; i = getattr(sys, 'implementation', None); "
         "sys.stdout.write('%d %d %d %d %s\\n%s\\n%s\\n' % (tuple(sys.version_info[:3]) + "
         "(hasattr(sys, 'gettotalrefcount'), i.name if i else 'cpython', "
         "sys.version.split()[0], sys.executable)))")


def restore_default_signals():
    """A run started in the background of a shell without job control (`make
    test &`, nohup, some CI steps) inherits SIGINT and SIGQUIT ignored, and so
    would every program it starts: a scenario's own Ctrl-C would do nothing,
    and the scenario would hang.  The runner takes Python's usual handlers, so
    its children start with the defaults."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGQUIT, signal.SIG_DFL)


restore_default_signals()


# ---------------------------------------------------------------- checks

class Failure(Exception):
    """A check failed; the message is the one-line reason (notes: lines worth
    printing under it, such as measured latencies)."""

    def __init__(self, msg, notes=None):
        Exception.__init__(self, msg)
        self.notes = notes or []


class Skip(Exception):
    """The check does not apply here; the message says why."""


def check(cond, msg):
    if not cond:
        raise Failure(msg)


_print_lock = threading.Lock()


def say(line):
    """LINE on stdout at once, whole, whichever thread prints."""
    with _print_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


# ------------------------------------------------------- command lines

DEFAULT_LIB = os.path.join(ROOT, "build", "libtaskleak.so")


def runner_args(parser, what="checks", lib=True):
    """The options every runner takes: --lib PATH (unless LIB is false),
    -k PATTERN (args.patterns) and --python LABEL|PATH (args.python)."""
    if lib:
        parser.add_argument("--lib", default=DEFAULT_LIB, metavar="PATH",
                            help="libtaskleak.so to test (default: build/libtaskleak.so "
                                 "of this checkout)")
    parser.add_argument("-k", dest="patterns", action="append", default=[], metavar="PATTERN",
                        help="only the %s whose name contains PATTERN (repeatable)" % what)
    parser.add_argument("--python", action="append", default=[], metavar="LABEL|PATH",
                        help="only this interpreter: a label as `python3 tests/pythons.py` "
                             "prints it (debian-3.11, pyenv-3.8, sid-3.14) or a path "
                             "(repeatable; replaces the discovery)")


def selected(name, patterns):
    """Whether the check NAME is kept by -k PATTERNS (every check when none)."""
    return not patterns or any(p in name for p in patterns)


# ----------------------------------------------------------- environment

# Whatever steers an interpreter, preloads or relinks something, or
# configures taskleak: what env() leaves out unless told otherwise.
STEERING = ("PYTHON*", "LD_*", "TASKLEAK*")
# Never inherited: the runner's own library and its options.
PRELOAD = ("LD_PRELOAD", "TASKLEAK_OPTIONS")


def options(*pairs, **kw):
    """The TASKLEAK_OPTIONS string "k=v:k=v" of (key, value) PAIRS, then KW."""
    return ":".join("%s=%s" % (k, v) for k, v in list(pairs) + list(kw.items()))


def _dropped(name, drop):
    return any(name.startswith(d[:-1]) if d.endswith("*") else name == d for d in drop)


def env(lib=None, options=None, drop=STEERING, extra=None, **more):
    """This process's environment for a child: without LD_PRELOAD and
    TASKLEAK_OPTIONS ever, nor the variables DROP names (NAME, or PREFIX* for
    every name that starts so); then EXTRA and MORE; then LD_PRELOAD=LIB and
    TASKLEAK_OPTIONS=OPTIONS (a string, or (key, value) pairs) when not None."""
    e = {k: v for k, v in os.environ.items()
         if k not in PRELOAD and not _dropped(k, drop)}
    e.update(extra or {})
    e.update(more)
    if lib is not None:
        e["LD_PRELOAD"] = lib
    if options is not None:
        e["TASKLEAK_OPTIONS"] = options if isinstance(options, str) else \
            ":".join("%s=%s" % kv for kv in options)
    return e


def mkdtemp(prefix):
    """A new directory under /tmp, which the sid interpreters see too."""
    return tempfile.mkdtemp(prefix=prefix, dir=SHARED_TMP)


def visible_in_sid(path):
    """Whether PATH is the same file inside the sid chroot (under the checkout
    or /tmp, which are bind-mounted there)."""
    real = os.path.realpath(path)
    return any(real == d or real.startswith(d + os.sep)
               for d in (os.path.realpath(ROOT), os.path.realpath(SHARED_TMP)))


# --------------------------------------------------------------- running

class Completed:
    """What run() returns: returncode, stdout, stderr (as the pipes gave them:
    bytes, text, or None when not piped), pid, timed_out."""

    def __init__(self, returncode, stdout, stderr, pid, timed_out):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr
        self.pid, self.timed_out = pid, timed_out


def kill_group(proc):
    """SIGKILL to the process group PROC leads (a child started in a session
    of its own and not reaped yet, so that id is still its)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass


def run(argv, env=None, cwd=None, timeout=60, stdin=subprocess.DEVNULL, input=None,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec=None, on_start=None):
    """Runs ARGV in a session of its own, writes INPUT to its stdin (given
    stdin=PIPE) and waits for it; on_start(proc) runs once it exists.  A
    Completed.  At the TIMEOUT its process group is killed (timed_out is then
    set), as it is when on_start or the wait raise (the exception goes on)."""
    p = subprocess.Popen(argv, env=env, cwd=cwd, stdin=stdin, stdout=stdout, stderr=stderr,
                         start_new_session=True, preexec_fn=preexec)
    try:
        if on_start:
            on_start(p)
        out, err = p.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(p)
        out, err = p.communicate()
        return Completed(p.returncode, out, err, p.pid, True)
    except BaseException:
        kill_group(p)
        p.communicate()
        raise
    return Completed(p.returncode, out, err, p.pid, False)


def process_state(pid):
    """The state letter of /proc/PID/stat (R, S, Z, T...), None if PID is gone."""
    try:
        with open("/proc/%d/stat" % pid) as stream:
            return stream.read().rpartition(")")[2].split()[0]
    except OSError:
        return None


# ------------------------------------------------------ reports, waiting

# The library's exit line, on stderr of a process that leaks.
SUMMARY_RE = re.compile(r"^taskleak: (\d+) leaks? \(([^)]*)\); report: (.+)$")
# The shutdown watchdog's line: `taskleak: shutdown blocked for 10.0 s after
# SIGTERM by Task-3 (...) and thread T (...); report: PATH`.
SHUTDOWN_RE = re.compile(r"^taskleak: shutdown blocked for (\d+\.\d) s(.*?)"
                         r"; (?:report: (.+)|the report could not be written to (.+?): .*)$")
# A report written through report_path=<dir>/r.%p.json.
REPORT_NAME_RE = re.compile(r"^r\.\d+\.json$")
ANY_JSON = re.compile(r"^.*\.json$")


def report_paths(directory, pattern=ANY_JSON):
    """The report files of DIRECTORY, sorted: regular files (not symlinks)
    whose name PATTERN (a compiled regular expression) matches."""
    return sorted(p for p in (os.path.join(directory, n) for n in os.listdir(directory)
                              if pattern.match(n))
                  if os.path.isfile(p) and not os.path.islink(p))


def read_json(path):
    """The JSON document in the file PATH (OSError, ValueError)."""
    with open(path, "rb") as f:
        return json.loads(f.read().decode("utf-8"))


def load_report(path):
    """The report at PATH; Failure unless it is a whole taskleak report."""
    try:
        r = read_json(path)
    except (OSError, ValueError) as e:
        raise Failure("%s is not a whole JSON report: %s" % (path, e))
    check(isinstance(r, dict) and r.get("tool") == "taskleak",
          "%s is not a taskleak report" % path)
    return r


def load_reports(directory, pattern=ANY_JSON):
    """{path: report} of report_paths(DIRECTORY, PATTERN)."""
    return {p: load_report(p) for p in report_paths(directory, pattern)}


def deadline(seconds):
    """The time.monotonic() value SECONDS from now."""
    return time.monotonic() + seconds


def wait_for(condition, deadline, poll=0.01, cond=None):
    """What CONDITION() returns once it is true, or None when time.monotonic()
    reaches DEADLINE first (CONDITION is asked at least once).  Between two
    calls it sleeps POLL seconds; given COND, a threading.Condition that
    whoever changes what CONDITION looks at notifies, it calls CONDITION with
    COND held and waits on COND (POLL at most), so it sees a change at once."""
    if cond is None:
        pause = time.sleep
    else:
        cond.acquire()
        pause = cond.wait
    try:
        while True:
            got = condition()
            if got:
                return got
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            pause(min(left, poll))
    finally:
        if cond is not None:
            cond.release()


_ENDED = object()


def wait_for_item(items, predicate, start, deadline, cond, ended=None):
    """The index after the first of ITEMS (a list that others append to
    holding COND, and notify it) from index START on that PREDICATE accepts;
    None at DEADLINE, or once ended() is true and no such item came."""
    seen = [start]

    def found():
        while seen[0] < len(items):
            seen[0] += 1
            if predicate(items[seen[0] - 1]):
                return seen[0]
        return _ENDED if ended and ended() else None
    got = wait_for(found, deadline, poll=0.05, cond=cond)
    return None if got is _ENDED else got


class LineReader:
    """Collects the lines of a pipe (as it gives them: bytes or text, with
    their newline) in a thread of its own; wait() waits for one."""

    def __init__(self, pipe):
        self.lines = []
        self.eof = False
        self.cond = threading.Condition()
        self._pipe = pipe
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        for line in self._pipe:
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def wait(self, predicate, start, deadline):
        """The index after the first line from index START on that PREDICATE
        accepts; None at DEADLINE, or when the pipe ends first."""
        return wait_for_item(self.lines, predicate, start, deadline, self.cond,
                             lambda: self.eof)

    def join(self, timeout):
        """Waits (TIMEOUT at most) for the end of the pipe; its lines."""
        self._thread.join(timeout)
        with self.cond:
            return list(self.lines)


# ---------------------------------------------------------- interpreters

class PythonsError(Exception):
    """An interpreter that must run does not (the message says which, why)."""


def supported_minors():
    """(MIN, MAX): the 3.x minors shim/cpython/versions.h declares supported."""
    with open(VERSIONS_H, encoding="utf-8") as f:
        text = f.read()
    found = dict(re.findall(r"^#define\s+TL_PY_MINOR_(MIN|MAX)\s+(\d+)\s*$", text, re.M))
    if set(found) != {"MIN", "MAX"}:
        raise PythonsError("%s: no TL_PY_MINOR_MIN/TL_PY_MINOR_MAX lines" % VERSIONS_H)
    return int(found["MIN"]), int(found["MAX"])


MINOR_MIN, MINOR_MAX = supported_minors()
SUPPORTED = "3.%d to 3.%d" % (MINOR_MIN, MINOR_MAX)


def supported(version):
    return version[0] == 3 and MINOR_MIN <= version[1] <= MINOR_MAX


class Interpreter:
    """One interpreter: path, version (a 3-tuple), label, and the flags system
    (/usr/bin/python3), pyenv, sid (a chroot wrapper), debug (a debug build)."""

    def __init__(self, path, version, debug, source, version_str=None, executable=None):
        self.path = path
        self.version = version
        self.version_str = version_str or "%d.%d.%d" % version   # "3.15.0a1+"
        # argv[0] as the interpreter itself sees it: a sid wrapper runs the
        # chroot's /usr/bin/python3.X
        self.argv0 = executable if source == "sid" and executable else path
        self.debug = debug
        self.source = source                 # system, pyenv, sid or other
        self.system = source == "system"
        self.pyenv = source == "pyenv"
        self.sid = source == "sid"
        self.label = self.base_label()
        self._modules = {}
        self._lock = threading.Lock()

    @property
    def minor(self):
        return self.version[:2]

    def base_label(self, full=False):
        prefix = {"system": "debian", "other": "python"}.get(self.source, self.source)
        v = self.version_str if full else "%d.%d" % self.minor
        return "%s-%s%s" % (prefix, v, "d" if self.debug else "")

    def can_import(self, module):
        """Whether `import MODULE` works in this interpreter (asked once)."""
        with self._lock:
            if module not in self._modules:
                try:
                    r = subprocess.run([self.path, "-c", "import " + module],
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL, env=env(), cwd="/",
                                       timeout=PROBE_TIMEOUT)
                    self._modules[module] = r.returncode == 0
                except (OSError, subprocess.SubprocessError):
                    self._modules[module] = False
            return self._modules[module]

    def __repr__(self):
        return "Interpreter(%r, %s, %s)" % (self.path, self.version_str, self.label)


def probe(path):
    """{"version": 3-tuple, "debug": bool, "version_str": "3.14.0", "executable":
    sys.executable}, or the reason why PATH does not run (a str)."""
    try:
        r = subprocess.run([path, "-c", PROBE], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env(),
                           cwd="/", timeout=PROBE_TIMEOUT, universal_newlines=True)
    except subprocess.TimeoutExpired:
        return "no answer in %ds" % PROBE_TIMEOUT
    except OSError as e:
        return str(e)
    lines = r.stdout.split("\n")
    m = re.match(r"^(\d+) (\d+) (\d+) ([01]) (\S+)$", lines[0])
    if r.returncode != 0 or not m or len(lines) < 3:
        return (r.stderr.strip().splitlines() or ["exit status %d" % r.returncode])[-1]
    if m.group(5) != "cpython":
        return "%s, not CPython" % m.group(5)
    return {"version": tuple(int(x) for x in m.groups()[:3]), "debug": m.group(4) == "1",
            "version_str": lines[1], "executable": lines[2]}


def interpreter(path):
    """The Interpreter at PATH, whatever its version; PythonsError if it does
    not run."""
    found = probe(path)
    if isinstance(found, str):
        raise PythonsError("%s does not run: %s" % (path, found))
    return Interpreter(path, source=source_of(path), **found)


def pyenv_root():
    try:
        r = subprocess.run(["pyenv", "root"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, timeout=30, universal_newlines=True)
        if r.returncode == 0 and r.stdout.strip():
            return r.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")


def pyenv_pythons():
    found = []
    for d in sorted(glob.glob(os.path.join(pyenv_root(), "versions", "*"))):
        for name in ("python3", "python"):     # 2.7 has no python3
            exe = os.path.join(d, "bin", name)
            if os.access(exe, os.X_OK):
                found.append(exe)
                break
    return found


def sid_pythons():
    """The sid chroot's wrappers, when the chroot is ready and mounted."""
    try:
        r = subprocess.run([SID_PYTHONS, "--list"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           timeout=60, universal_newlines=True)
    except (OSError, subprocess.SubprocessError):
        return []
    return [l.strip() for l in r.stdout.splitlines() if l.strip()]


def sid_bin_dir():
    return (os.environ.get("TASKLEAK_SID_ROOT") or "/var/cache/taskleak/sid") + ".bin"


def source_of(path):
    real = os.path.realpath(path)
    if os.path.exists(SYSTEM_PYTHON) and real == os.path.realpath(SYSTEM_PYTHON):
        return "system"
    if os.path.dirname(real) == os.path.realpath(sid_bin_dir()):
        return "sid"
    if real.startswith(os.path.realpath(os.path.join(pyenv_root(), "versions")) + os.sep):
        return "pyenv"
    return "other"


LABEL_RE = re.compile(r"^[a-z]+-\d+\.\d+(\.\d+)?d?$")


def python_paths(specs):
    """SPECS (a runner's --python LABEL|PATH values) as paths: a label
    (debian-3.11, pyenv-3.8, sid-3.14, sid-3.14d) is looked up among every
    interpreter discovery finds, debug builds too; anything else is a path or
    a command.  PythonsError for a label that names no interpreter."""
    labels = [s for s in specs if os.sep not in s and LABEL_RE.match(s)]
    if not labels:
        return list(specs)
    found, _ = discover(include_debug=True)
    by_label = {it.label: it.path for it in found}
    missing = [s for s in labels if s not in by_label]
    if missing:
        raise PythonsError("no interpreter labelled %s (there are: %s)"
                           % (", ".join(missing), ", ".join(it.label for it in found)))
    return [by_label.get(s, s) if s in labels else s for s in specs]


def discover(include_debug=False, explicit=None):
    """(interpreters, skip notes); see the module's docstring.  EXPLICIT:
    labels or paths (python_paths)."""
    notes = []
    if explicit:
        explicit = python_paths(explicit)
        candidates = [(os.path.abspath(p) if os.sep in p else p, source_of(p)) for p in explicit]
    else:
        if not os.path.exists(SYSTEM_PYTHON):
            raise PythonsError("%s is absent" % SYSTEM_PYTHON)
        candidates = [(SYSTEM_PYTHON, "system")]
        candidates += [(p, "pyenv") for p in pyenv_pythons()]
        sid = sid_pythons()
        candidates += [(p, "sid") for p in sid]
    seen, unique = set(), []
    for path, source in candidates:
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            unique.append((path, source))
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as ex:
        probed = list(ex.map(lambda c: probe(c[0]), unique))
    interps = []
    for (path, source), found in zip(unique, probed):
        if isinstance(found, str):
            if explicit or source == "system":
                raise PythonsError("%s does not run: %s" % (path, found))
            notes.append("SKIP %s: does not run: %s" % (path, found))
            continue
        it = Interpreter(path, source=source, **found)
        if not supported(it.version):
            notes.append("SKIP %s: unsupported (%s)" % (it.version_str, SUPPORTED))
        elif it.debug and not include_debug and not explicit:
            notes.append("SKIP %s: debug build, left out (slow)" % it.label)
        else:
            interps.append(it)
    if not explicit:
        interps.sort(key=lambda i: (["system", "pyenv", "sid"].index(i.source), i.debug,
                                    i.version))
        if not sid:
            notes.append("SKIP sid: the Debian sid chroot's interpreters are absent "
                         "(scripts/dev/sid-pythons creates them: root and debootstrap)")
        minors = {i.minor for i in interps}
        for minor in range(MINOR_MIN, MINOR_MAX + 1):
            if (3, minor) not in minors:
                notes.append("SKIP python3.%d: absent" % minor)
    for i in interps:
        if [j.label for j in interps].count(i.label) > 1:
            i.label = i.base_label(full=True)
    for i in interps:
        if [j.label for j in interps].count(i.label) > 1:
            i.label = "%s (%s)" % (i.label, i.path)
    return interps, notes
