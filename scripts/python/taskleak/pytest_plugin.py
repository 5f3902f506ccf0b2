# SPDX-License-Identifier: MIT
"""pytest plugin: the asyncio task leaks of each test, at that test's end.

Off unless asked: `pytest --taskleak` (= warn), `--taskleak=fail|warn`, or
`-p taskleak`.  Registered as the pytest11 entry point `taskleak`.

- The library must be in the test process: when it is not, the plugin
  re-executes pytest under LD_PRELOAD (once; TASKLEAK_PYTEST_REEXEC guards
  against loops), interval=0 and verbosity=0, its reports beside the
  session report.
- Every task is attributed to the test running when it was created: the
  plugin sets the context variable `taskleak.test` to the test's node id for
  setup, call and teardown, and the library copies the task's `taskleak.*`
  variables into each leak's "context" when it judges the leak (3.12+).  On
  3.8-3.11 the library cannot read a task's context: a leak is attributed by
  its creation time (created.t) to the test whose time window holds it.
- After each test's call (and again after its teardown) the plugin collects
  garbage, asks the library for a report now (taskleak_report_now), and
  takes the new leaks of this test, minus the kinds that
  `@pytest.mark.taskleak(allow=[KIND, ...])` allows.  fail: the test fails
  with the leaks' taskleak text; warn: one TaskLeakWarning per leak.  Leaks
  of an earlier test found later, and leaks outside any test, are warned
  about and summarized (fail: they make the session's exit status 1).
- At the end: a terminal summary section, and the session's JSON report
  (every process's report merged, plus per-test attribution) where
  --taskleak-report says (default .taskleak/session.json; the processes'
  own reports go to the directory `reports` beside it), and with
  --taskleak-html=PATH the same as one HTML page (its tests, each leak with
  its test).
"""

import contextvars
import ctypes
import gc
import json
import os
import sys
import time
import warnings

import pytest

from .contract import KINDS
from .errors import CliError, NotAReport
from .fields import plural
from .library import find_library
from .model import Report, group_leaks, load_report, parse_report, read_bytes, report_files_in
from .options import merge_options, parse_options, prepend_preload
from .render.html import write_html
from .render.json import merged_document
from .render.text import TextRenderer

MODES = ("warn", "fail")
TEST_VARIABLE = "taskleak.test"
REEXEC_MARK = "TASKLEAK_PYTEST_REEXEC"   # set in the re-executed pytest: its report dir
DEFAULT_SESSION_REPORT = os.path.join(".taskleak", "session.json")
SESSION_STASH = "_taskleak_session"

# Tasks copy the context at creation: every task created while a test runs
# carries its node id (3.12+ lets the library read it back).
current_test = contextvars.ContextVar(TEST_VARIABLE)


class TaskLeakWarning(pytest.PytestWarning):
    """A task of a test leaked (taskleak's warn mode, or a leak found after
    its test had ended); -W error::taskleak.pytest_plugin.TaskLeakWarning
    turns them into errors."""


# ---------------------------------------------------------------------------
# Options and activation

def pytest_addoption(parser):
    group = parser.getgroup("taskleak", "asyncio task leaks (taskleak)")
    group.addoption("--taskleak", dest="taskleak", nargs="?", const="warn", default=None,
                    metavar="fail|warn",
                    help="report the asyncio tasks each test leaks: warn (the default "
                         "when no value is given) or fail the test")
    group.addoption("--taskleak-report", dest="taskleak_report", metavar="PATH", default=None,
                    help="where to write the session's JSON report (default: "
                         "%s under the directory pytest was started in)"
                         % DEFAULT_SESSION_REPORT)
    group.addoption("--taskleak-html", dest="taskleak_html", metavar="PATH", default=None,
                    help="also write the session's report as one HTML page (the "
                         "tests, each leak with its test) to PATH")


def normalize_args(args):
    """A bare `--taskleak` followed by a test path: argparse would take the
    path for the option's value; make it `--taskleak=warn` (in place)."""
    for i, arg in enumerate(args):
        if arg == "--":
            return
        if (arg == "--taskleak" and i + 1 < len(args)
                and args[i + 1] not in MODES and not args[i + 1].startswith("-")):
            args[i] = "--taskleak=warn"


def requested_mode(namespace):
    """'fail', 'warn', or None when the plugin was not asked for."""
    value = getattr(namespace, "taskleak", None)
    if value is not None:
        return value if value in MODES else "warn"
    plugins = getattr(namespace, "plugins", None) or []
    return "warn" if "taskleak" in plugins else None


def library_loaded():
    try:
        with open("/proc/self/maps") as maps:
            return any("libtaskleak" in line for line in maps)
    except OSError:
        return False


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_load_initial_conftests(early_config, parser, args):
    normalize_args(args)
    mode = requested_mode(early_config.known_args_namespace)
    if mode is not None and not library_loaded() and not os.environ.get(REEXEC_MARK):
        reexec_under_library(early_config)
    yield


def reexec_under_library(config):
    """Run this pytest again, with libtaskleak.so preloaded (never returns)."""
    try:
        library = find_library()
    except CliError as error:
        raise pytest.UsageError("taskleak: " + error.message)
    report_dir = process_report_dir(session_report_path(
        config.known_args_namespace, str(config.invocation_params.dir)))
    env = dict(os.environ)
    env["LD_PRELOAD"] = prepend_preload(env.get("LD_PRELOAD", ""), library)
    env["TASKLEAK_OPTIONS"] = merge_options(env.get("TASKLEAK_OPTIONS", ""), {
        "report_path": os.path.join(report_dir, "taskleak.%p.json"),
        "interval": "0", "verbosity": "0"})
    env[REEXEC_MARK] = report_dir
    params = config.invocation_params
    argv = [sys.executable, "-m", "pytest"] + [str(arg) for arg in params.args]
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is not None and capture.is_globally_capturing():
        capture.stop_global_capturing()   # fds 1 and 2 back to the terminal
    sys.stdout.flush()
    sys.stderr.flush()
    os.chdir(str(params.dir))
    os.execve(sys.executable, argv, env)


def session_report_path(namespace, root):
    path = getattr(namespace, "taskleak_report", None) or DEFAULT_SESSION_REPORT
    return os.path.join(root, path)


def process_report_dir(session_report):
    """The directory the processes of the session write their reports to,
    beside the session report, emptied of an earlier session's reports."""
    directory = os.path.join(os.path.dirname(os.path.abspath(session_report)), "reports")
    try:
        os.makedirs(directory, exist_ok=True)
        for path in report_files_in(directory):
            os.unlink(path)
    except OSError as error:
        raise pytest.UsageError("taskleak: cannot prepare %s: %s"
                                % (directory, error.strerror or error))
    if ":" in directory:
        raise pytest.UsageError("taskleak: the report directory %s contains ':', which "
                                "TASKLEAK_OPTIONS cannot carry" % directory)
    return directory


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "taskleak(allow=[KIND, ...]): leak kinds this test may leak "
                   "without failing or warning (%s)" % ", ".join(KINDS))
    mode = requested_mode(config.option)
    if mode is None:
        return
    session = LeakSession(config, mode)
    setattr(config, SESSION_STASH, session)
    config.pluginmanager.register(session, "taskleak-session")


# ---------------------------------------------------------------------------
# Selecting a test's leaks from a report (no pytest, no library: unit-tested)

def leak_key(leak):
    task = leak.get("task") if isinstance(leak.get("task"), dict) else {}
    return (task.get("id"), leak.get("kind"))


def context_test(leak):
    """The node id in the leak's context, or None."""
    context = leak.get("context")
    if isinstance(context, dict) and isinstance(context.get(TEST_VARIABLE), str):
        return context[TEST_VARIABLE]
    return None


def created_t(leak):
    created = leak.get("created") if isinstance(leak.get("created"), dict) else {}
    t = created.get("t")
    return t if isinstance(t, (int, float)) and not isinstance(t, bool) else None


class Attribution:
    """Which test each leak belongs to, and which leaks are new.

    Test windows are kept in the library's time (seconds since the library
    started, the reports' `t`), for interpreters whose leaks carry no
    context (3.8-3.11)."""

    def __init__(self, use_windows):
        self.use_windows = use_windows
        self.windows = []          # [node id, start t, end t or None]
        self.seen = set()

    def start_test(self, nodeid, t):
        self.windows.append([nodeid, t, None])

    def end_test(self, nodeid, t):
        for window in reversed(self.windows):
            if window[0] == nodeid and window[2] is None:
                window[2] = t
                return

    def owner(self, leak):
        nodeid = context_test(leak)
        if nodeid is not None or not self.use_windows:
            return nodeid
        t = created_t(leak)
        if t is None:
            return None
        for nodeid, start, end in reversed(self.windows):
            if start is not None and start <= t and (end is None or t <= end):
                return nodeid
        return None

    def new_leaks(self, leaks):
        """[(owner node id or None, leak)] of the leaks not seen before."""
        found = []
        for leak in leaks:
            key = leak_key(leak)
            if key in self.seen:
                continue
            self.seen.add(key)
            found.append((self.owner(leak), leak))
        return found


def allowed_kinds(item):
    """The kinds the test's taskleak markers allow."""
    allowed = set()
    for marker in item.iter_markers("taskleak"):
        kinds = marker.kwargs.get("allow", ())
        if isinstance(kinds, str):
            kinds = (kinds,)
        allowed.update(kinds)
    return allowed


PYTEST_FILES = ("/_pytest/", "/pluggy/", "/pytest_asyncio/")


def below_pytest(frames):
    """FRAMES (innermost first) up to the first frame of pytest's machinery:
    the test and what it called, not how pytest called the test."""
    if not isinstance(frames, list):
        return frames
    for i, frame in enumerate(frames):
        path = frame.get("file") if isinstance(frame, dict) else None
        if isinstance(path, str) and any(part in path for part in PYTEST_FILES):
            return frames[:i]
    return frames


def without_pytest_frames(leak):
    leak = dict(leak)
    if isinstance(leak.get("created"), dict):
        leak["created"] = dict(leak["created"],
                               python_stack=below_pytest(leak["created"].get("python_stack")))
    if isinstance(leak.get("cancels"), list):
        leak["cancels"] = [dict(c, python_stack=below_pytest(c.get("python_stack")))
                           if isinstance(c, dict) else c for c in leak["cancels"]]
    return leak


def leak_text(report, leaks, root):
    """The taskleak text of LEAKS (taken from REPORT): the groups the text
    renderer prints for them, each with its creation stack (pytest's own
    frames cut off), cancels and fix."""
    leaks = [without_pytest_frames(leak) for leak in leaks]
    view = Report(report.path, dict(report.doc, leaks=leaks, stats={}, live_tasks=[]))
    renderer = TextRenderer(root)
    return "\n".join("\n".join(renderer.group_lines(group))
                     for group in group_leaks([view], root))


def leak_line(leak):
    task = leak.get("task") if isinstance(leak.get("task"), dict) else {}
    return "%s of coroutine %s (%s, id %s)" % (leak.get("kind"), task.get("coro"),
                                              task.get("name"), task.get("id"))


# ---------------------------------------------------------------------------
# The session

class LeakSession:

    def __init__(self, config, mode):
        self.config = config
        self.mode = mode
        self.root = str(config.invocation_params.dir)
        self.report_dir = os.environ.get(REEXEC_MARK) or None
        self.report_path = self.own_report_path()
        self.attribution = Attribution(use_windows=sys.version_info < (3, 12))
        self.offset = None         # time.monotonic() - library t
        self.problem = None        # why there are no reports, once known
        self.last_report = None
        self.by_test = {}          # node id -> [(leak, verdict)]: failed, warned, allowed, late
        self.outside = []          # leaks of no test
        self.late_failures = 0
        self.report_now = self.bind()
        __import__("asyncio")   # the library activates once asyncio is imported

    def own_report_path(self):
        options = parse_options(os.environ.get("TASKLEAK_OPTIONS", ""))
        path = options.get("report_path") or "taskleak.%p.json"
        return os.path.abspath(path.replace("%p", str(os.getpid())))

    def bind(self):
        if not library_loaded():
            self.problem = "libtaskleak.so is not loaded in the test process"
            return None
        try:
            function = ctypes.PyDLL(None).taskleak_report_now
        except AttributeError:
            self.problem = ("the libtaskleak.so in this process has no taskleak_report_now "
                            "(a library older than the pytest plugin)")
            return None
        function.restype = ctypes.c_int
        function.argtypes = []
        return function

    # -- reports -------------------------------------------------------------

    def library_t(self):
        return None if self.offset is None else time.monotonic() - self.offset

    def collect(self):
        """gc, a report now, and its new leaks; [] when the library cannot."""
        if self.report_now is None:
            return []
        gc.collect()
        before = time.monotonic()
        status = self.report_now()
        after = time.monotonic()
        if status != 0:
            self.problem = ("the library is not active in this process (taskleak_report_now "
                            "returned %d; asyncio not imported yet, or an interpreter it "
                            "refuses)" % status)
            return []
        try:
            report = Report(self.report_path, parse_report(read_bytes(self.report_path)))
        except (OSError, NotAReport) as error:
            self.problem = "cannot read %s: %s" % (self.report_path, error)
            return []
        self.problem = None
        t = report.doc.get("t")
        if isinstance(t, (int, float)) and self.attribution.use_windows:
            self.offset = (before + after) / 2 - t
            self.fill_window_times()
        self.last_report = report
        return self.attribution.new_leaks(report.leaks)

    def fill_window_times(self):
        for window in self.attribution.windows:
            for i in (1, 2):
                if isinstance(window[i], tuple):        # ("mono", seconds)
                    window[i] = window[i][1] - self.offset

    def mark(self):
        """Now, in library time when known, else a monotonic stamp to convert."""
        t = self.library_t()
        return t if t is not None else ("mono", time.monotonic())

    # -- hooks -----------------------------------------------------------------

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        token = current_test.set(item.nodeid)
        self.attribution.start_test(item.nodeid, self.mark())
        try:
            yield
        finally:
            self.attribution.end_test(item.nodeid, self.mark())
            try:
                current_test.reset(token)
            except ValueError:      # another context: leave the test's id behind
                current_test.set(None)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if report.when not in ("call", "teardown"):
            return
        mine = self.sort_new_leaks(item)
        if not mine:
            return
        text = leak_text(self.last_report, [leak for leak, _ in mine], self.root)
        if self.mode == "fail":
            message = "taskleak: %s leaked %s:\n%s" % (
                item.nodeid, plural(len(mine), "task"), text)
            if report.passed:
                report.outcome = "failed"
                report.longrepr = message
            else:
                report.sections.append(("taskleak", message))
        else:
            for leak, _ in mine:
                item.warn(TaskLeakWarning("taskleak: %s\n%s" % (
                    leak_line(leak), leak_text(self.last_report, [leak], self.root))))

    def sort_new_leaks(self, item):
        """Record the new leaks; [(leak, verdict)] of ITEM's that count."""
        allowed = allowed_kinds(item)
        mine = []
        for owner, leak in self.collect():
            if owner is None:
                self.outside.append(leak)
                continue
            if owner == item.nodeid:
                verdict = "allowed" if leak.get("kind") in allowed else self.mode
                self.by_test.setdefault(owner, []).append((leak, verdict))
                if verdict != "allowed":
                    mine.append((leak, verdict))
            else:
                self.late(owner, leak)
        return mine

    def late(self, owner, leak):
        self.by_test.setdefault(owner, []).append((leak, "late"))
        if self.mode == "fail":
            self.late_failures += 1
        warn = TaskLeakWarning("taskleak: %s of %s, found after that test had ended\n%s" % (
            leak_line(leak), owner, leak_text(self.last_report, [leak], self.root)))
        warnings.warn(warn)

    def pytest_sessionfinish(self, session):
        for owner, leak in self.collect():
            if owner is None:
                self.outside.append(leak)
            else:
                self.late(owner, leak)
        self.session_report = self.write_session_report()
        self.html_report = self.write_html_report()
        if self.late_failures and session.exitstatus == 0:
            session.exitstatus = 1

    def write_session_report(self):
        path = session_report_path(self.config.option, self.root)
        reports = []
        paths = report_files_in(self.report_dir) if self.report_dir else []
        if self.report_path not in paths and os.path.exists(self.report_path):
            paths.append(self.report_path)
        for report_path in paths:
            try:
                reports.append(load_report(report_path))
            except NotAReport:
                pass
        doc = merged_document(reports)
        doc["pytest"] = {
            "mode": self.mode,
            "tests": dict((nodeid, [dict(leak_summary(leak), verdict=verdict)
                                    for leak, verdict in entries])
                          for nodeid, entries in self.by_test.items()),
            "outside_tests": [leak_summary(leak) for leak in self.outside],
            "problem": self.problem,
        }
        self.session_doc = doc
        try:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            with open(path, "w") as stream:
                json.dump(doc, stream, indent=2)
                stream.write("\n")
        except OSError as error:
            self.problem = "cannot write %s: %s" % (path, error.strerror or error)
            return None
        return path

    def write_html_report(self):
        """--taskleak-html PATH: the session's document as one HTML page."""
        path = getattr(self.config.option, "taskleak_html", None)
        if not path or self.session_doc is None:
            return None
        path = os.path.join(self.root, path)
        try:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            write_html([Report(path, self.session_doc)], path, self.root,
                       title="taskleak: pytest session in %s" % self.root)
        except (OSError, CliError) as error:
            self.problem = "cannot write %s: %s" % (path, getattr(error, "message", error))
            return None
        return path

    def pytest_terminal_summary(self, terminalreporter):
        tr = terminalreporter
        tr.write_sep("=", "taskleak")
        counts = {}
        for nodeid in sorted(self.by_test):
            entries = self.by_test[nodeid]
            kinds = {}
            for leak, verdict in entries:
                kinds[leak.get("kind")] = kinds.get(leak.get("kind"), 0) + 1
                counts[verdict] = counts.get(verdict, 0) + 1
            verdicts = sorted(set(verdict for _, verdict in entries))
            tr.write_line("%s: %s (%s)%s" % (
                nodeid, plural(len(entries), "leak"),
                ", ".join("%d %s" % (n, k) for k, n in sorted(kinds.items())),
                "" if verdicts == [self.mode] else " [%s]" % ", ".join(verdicts)))
        if self.outside:
            tr.write_line("outside any test: %s" % ", ".join(leak_line(l) for l in self.outside))
        if self.problem:
            tr.write_line("taskleak: " + self.problem)
        total = sum(counts.values())
        summary = "taskleak: %s in %s" % (plural(total, "leak") if total else "no leaks",
                                          plural(len(self.by_test), "test"))
        if counts.get("late"):
            summary += "; %d found after their test ended" % counts["late"]
        if self.session_report:
            summary += "; session report: %s" % self.session_report
        if self.html_report:
            summary += "; HTML: %s" % self.html_report
        tr.write_line(summary)

    session_report = None
    session_doc = None
    html_report = None


def leak_summary(leak):
    task = leak.get("task") if isinstance(leak.get("task"), dict) else {}
    return {"kind": leak.get("kind"), "task_id": task.get("id"), "task": task.get("name"),
            "coro": task.get("coro"), "context": leak.get("context")}

