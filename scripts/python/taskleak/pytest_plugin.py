# SPDX-License-Identifier: MIT
"""pytest plugin: the asyncio task leaks of each test, the tasks that
outlive it, and a hung test that explains itself (docs/pytest.md).

Off unless asked: `pytest --taskleak` (= warn), `--taskleak=fail|warn`, or
`-p taskleak`.  Registered as the pytest11 entry point `taskleak`.

- The library must be in the test process: when it is not, the plugin
  re-executes pytest under LD_PRELOAD (once; TASKLEAK_PYTEST_REEXEC guards
  against loops), interval=0 and verbosity=0, its reports beside the
  session report.
- Every task belongs to the test running when it was created, or to the
  module-, class-, package- or session-scoped fixture being set up then
  (pytest_owners.py: context variables on 3.12+, time windows before).
- Leaks: after each test's call (and again after its teardown) the plugin
  asks the library for a report now (taskleak_report_now) and takes the
  new leaks of this test, minus the kinds that
  `@pytest.mark.taskleak(allow=[KIND, ...])` allows.  fail: the test fails
  with the leaks' taskleak text; warn: one TaskLeakWarning per leak.  Leaks
  of an earlier test found later, and leaks outside any test, are warned
  about and summarized (fail: they make the session's exit status 1).
- Outlived tasks: after a test's function-scoped fixtures are torn down
  (an autouse fixture of the plugin's, set up before them all, torn down
  after them all: before any wider fixture's teardown, so the last test of
  a module-scoped loop is checked like the others), a snapshot
  (taskleak_snapshot_now); while a task of the test is still pending, the
  idle event loops settle (pytest_outlived.py), then garbage is collected,
  each followed by a snapshot: the last one decides.  A wide fixture's tasks are checked the same way
  right after that fixture's own teardown.  fail: the test errors at
  teardown; warn: one TaskLeakWarning per task; allow=["outlived"].
- Timeouts (pytest_hang.py): pytest-timeout's, or --taskleak-timeout=S.
- At the end: a terminal summary section, and the session's JSON report
  (every process's report merged, plus per-test attribution) where
  --taskleak-report says (default .taskleak/session.json; the processes'
  own reports go to the directory `reports` beside it), and with
  --taskleak-html=PATH the same as one HTML page.  Under pytest-xdist each
  worker sends what it found to the controller, which writes them.
"""

import contextvars
import ctypes
import gc
import inspect
import json
import os
import sys
import threading
import time
import warnings

import pytest

from .contract import KINDS
from .errors import CliError, NotAReport
from .fields import count, dict_of, dicts_in, plural
from .library import find_library
from .model import Report, group_leaks, load_report, parse_report, read_bytes, report_files_in
from .options import merge_options, parse_options, prepend_preload
from .pytest_hang import Timeouts
from .pytest_outlived import (OUTLIVED, live_summary, outlived_text, pending, settle, task_id,
                              task_line)
from .pytest_owners import (FIXTURE_VARIABLE, TEST_VARIABLE, Attribution, context_owner,
                            entry_task, fixture_owner, is_fixture_owner)
from .render.html import write_html
from .render.json import merged_document
from .render.text import TextRenderer

MODES = ("warn", "fail")
REEXEC_MARK = "TASKLEAK_PYTEST_REEXEC"   # set in the re-executed pytest: its report dir
DEFAULT_SESSION_REPORT = os.path.join(".taskleak", "session.json")
SESSION_STASH = "_taskleak_session"
WORKER_OUTPUT = "taskleak"               # pytest-xdist: a worker's findings for the controller

# Tasks copy the context at creation: every task created while a test runs
# carries its node id, and a wide fixture's, while one is set up, its owner
# id (3.12+ lets the library read them back).
current_test = contextvars.ContextVar(TEST_VARIABLE)
current_fixture = contextvars.ContextVar(FIXTURE_VARIABLE)

context_test = context_owner      # the name the plugin's tests knew


class TaskLeakWarning(pytest.PytestWarning):
    """A task of a test leaked or outlived it (taskleak's warn mode, or a
    leak found after its test had ended); -W
    error::taskleak.pytest_plugin.TaskLeakWarning turns them into errors."""


# ---------------------------------------------------------------------------
# Options and activation

def pytest_addoption(parser):
    group = parser.getgroup("taskleak", "asyncio task leaks (taskleak)")
    group.addoption("--taskleak", dest="taskleak", nargs="?", const="warn", default=None,
                    metavar="fail|warn",
                    help="report the asyncio tasks each test leaks or leaves running: warn "
                         "(the default when no value is given) or fail the test")
    group.addoption("--taskleak-report", dest="taskleak_report", metavar="PATH", default=None,
                    help="where to write the session's JSON report (default: "
                         "%s under the directory pytest was started in)"
                         % DEFAULT_SESSION_REPORT)
    group.addoption("--taskleak-html", dest="taskleak_html", metavar="PATH", default=None,
                    help="also write the session's report as one HTML page (the "
                         "tests, each leak with its test) to PATH")
    group.addoption("--taskleak-timeout", dest="taskleak_timeout", metavar="SECONDS",
                    type=float, default=None,
                    help="fail a test that runs longer than SECONDS, its live tasks "
                         "explained first (pytest-timeout's timeouts are explained "
                         "without it)")


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
        "markers", "taskleak(allow=[KIND, ...]): leak kinds this test may leak, and "
                   "'%s' for tasks it may leave running, without failing or warning (%s)"
                   % (OUTLIVED, ", ".join(KINDS + (OUTLIVED,))))
    mode = requested_mode(config.option)
    if mode is None:
        return
    session = LeakSession(config, mode)
    setattr(config, SESSION_STASH, session)
    config.pluginmanager.register(session, "taskleak-session")
    config.pluginmanager.register(session.timeouts, "taskleak-timeouts")
    if session.snapshot_now is not None:
        config.pluginmanager.register(OutlivedCheck, "taskleak-outlived")


class OutlivedCheck:
    """The autouse fixture that checks a test's tasks after its other
    function-scoped fixtures were torn down (registered only when the
    plugin is on)."""

    @staticmethod
    @pytest.fixture(autouse=True)
    def _taskleak_outlived(request):
        yield
        session = getattr(request.config, SESSION_STASH, None)
        if session is not None:
            session.check_test(request.node)


def test_code(item):
    """The code object of ITEM's test function (a unittest method too), or None."""
    function = getattr(item, "obj", None)
    try:
        function = inspect.unwrap(function)
    except Exception:
        pass
    function = getattr(function, "__func__", function)
    return getattr(function, "__code__", None)


# ---------------------------------------------------------------------------
# Selecting a test's leaks (no pytest, no library: unit-tested)

def allowed_kinds(item):
    """The kinds (and OUTLIVED) the test's taskleak markers allow."""
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
    task = entry_task(leak)
    return "%s of coroutine %s (%s, id %s)" % (leak.get("kind"), task.get("coro"),
                                              task.get("name"), task.get("id"))


def related_tasks(mine, live, deadlocks):
    """MINE, then the live tasks they wait for or whose locks they wait on,
    transitively, then those in a deadlock with any of them."""
    by_id = dict((task_id(entry), entry) for entry in live)
    chosen = [task_id(entry) for entry in mine]
    queue = list(chosen)
    while queue:
        waits = dict_of(by_id.get(queue.pop(0), {}).get("waits_for"))
        for other in (waits.get("tasks") or []) + (waits.get("held_by") or []):
            if other in by_id and other not in chosen:
                chosen.append(other)
                queue.append(other)
    cycles = [cycle for cycle in dicts_in(deadlocks)
              if set(cycle.get("tasks") or []) & set(chosen)]
    for cycle in cycles:
        chosen += [other for other in cycle.get("tasks") or []
                   if other in by_id and other not in chosen]
    return [by_id[i] for i in chosen], cycles


# ---------------------------------------------------------------------------
# The session

class LeakSession:

    def __init__(self, config, mode):
        self.config = config
        self.mode = mode
        self.root = str(config.invocation_params.dir)
        self.report_dir = os.environ.get(REEXEC_MARK) or None
        self.report_path = self.own_report_path()
        self.attribution = Attribution(use_windows=sys.version_info < (3, 12),
                                       thread_id=threading.get_native_id())
        self.renderer = TextRenderer(self.root)
        self.offset = None         # time.monotonic() - library t
        self.problem = None        # why there are no reports, once known
        self.limit = None          # what this library cannot do (no snapshot_now)
        self.last_report = None
        self.by_test = {}          # node id -> [(leak, verdict)]: failed, warned, allowed, late
        self.outside = []          # leaks of no test
        self.outlived = {}         # owner -> [(live task, verdict, node id reported in)]
        self.reported = set()      # ids of the tasks reported as outlived (or at a timeout)
        self.findings = {}         # node id -> [(owner, what, [live task], snapshot)] to report
        self.wide = {}             # id(fixturedef) -> owner of a wide fixture set up
        self.timed_out = {}        # node id -> the session report's entry of its timeout
        self.late_failures = 0
        self.workers = []          # pytest-xdist's controller: the workers' findings
        self.report_now, self.snapshot_now = self.bind()
        self.timeouts = Timeouts(self, config.getoption("taskleak_timeout", None))
        self.worker = hasattr(config, "workerinput")     # a pytest-xdist worker
        __import__("asyncio")   # the library activates once asyncio is imported

    def own_report_path(self):
        options = parse_options(os.environ.get("TASKLEAK_OPTIONS", ""))
        path = options.get("report_path") or "taskleak.%p.json"
        return os.path.abspath(path.replace("%p", str(os.getpid())))

    def bind(self):
        if not library_loaded():
            self.problem = "libtaskleak.so is not loaded in the test process"
            return None, None
        library = ctypes.PyDLL(None)
        try:
            report_now = library.taskleak_report_now
        except AttributeError:
            self.problem = ("the libtaskleak.so in this process has no taskleak_report_now "
                            "(a library older than the pytest plugin)")
            return None, None
        try:
            snapshot_now = library.taskleak_snapshot_now
        except AttributeError:
            self.limit = self.problem = (
                "the libtaskleak.so in this process has no taskleak_snapshot_now (older "
                "than the plugin): no outlived-task check, no timeout explanation")
            snapshot_now = None
        for function in (report_now, snapshot_now):
            if function is not None:
                function.restype = ctypes.c_int
                function.argtypes = []
        return report_now, snapshot_now

    # -- reports -------------------------------------------------------------

    def library_t(self):
        return None if self.offset is None else time.monotonic() - self.offset

    def ask(self, function, what):
        """Call FUNCTION (report_now or snapshot_now), read the report it
        wrote; None when the library cannot."""
        if function is None:
            return None
        before = time.monotonic()
        status = function()
        after = time.monotonic()
        if status != 0:
            self.problem = ("the library is not active in this process (%s returned %d; "
                            "asyncio not imported yet, or an interpreter it refuses)"
                            % (what, status))
            return None
        try:
            report = Report(self.report_path, parse_report(read_bytes(self.report_path)))
        except (OSError, NotAReport) as error:
            self.problem = "cannot read %s: %s" % (self.report_path, error)
            return None
        self.problem = self.limit
        if self.offset is None:
            t0, t = report.doc.get("t0_monotonic"), report.doc.get("t")
            if isinstance(t0, (int, float)):
                self.offset = t0           # the library's clock, exactly
            elif isinstance(t, (int, float)):
                self.offset = (before + after) / 2 - t   # an older library: about
            if self.offset is not None:
                self.attribution.fill(self.offset)
        return report

    def collect(self, collect_garbage=False):
        """A report now, and its new leaks; [] when the library cannot.
        COLLECT_GARBAGE (the session's end): when a task is still alive,
        garbage is collected first, so that a pending task in a reference
        cycle is destroyed and reported.  After a test the outlived check
        does that, and only when a task of the test is pending: a full
        collection of a test that left nothing would move other objects'
        finalizers (their unraisable-exception warnings) into its teardown,
        and costs tens of milliseconds in a large test process."""
        if self.report_now is None:
            return []
        report = self.ask(self.report_now, "taskleak_report_now")
        if collect_garbage and report is not None and count(report.stats.get("tasks_live")):
            gc.collect()
            report = self.ask(self.report_now, "taskleak_report_now")
        if report is None:
            return []
        self.last_report = report
        return self.attribution.new_leaks(report.leaks)

    def snapshot(self):
        return self.ask(self.snapshot_now, "taskleak_snapshot_now")

    def mark(self):
        """Now, in library time when known, else a monotonic stamp to convert."""
        t = self.library_t()
        return t if t is not None else ("mono", time.monotonic())

    # -- outlived tasks --------------------------------------------------------

    def still_pending(self, owner):
        """(snapshot, [pending tasks of OWNER not reported yet]) after the
        settle, or (None, []) when nothing of OWNER is pending."""
        report = self.snapshot()
        for step in (settle, gc.collect):   # garbage only when the settle did not do
            if report is None or not self.unreported(report, owner):
                break
            step()
            report = self.snapshot()
        if report is None:
            return None, []
        return report, self.unreported(report, owner)

    def unreported(self, report, owner):
        return [entry for entry in pending(report)
                if task_id(entry) not in self.reported
                and self.attribution.owner(entry, same_thread=True) == owner]

    def check_test(self, item):
        """After ITEM's function-scoped fixtures' teardown: its tasks still
        pending, kept for the teardown report."""
        if item.nodeid in self.timed_out:
            return          # its tasks were explained at the timeout
        report, tasks = self.still_pending(item.nodeid)
        if tasks:
            self.found(item.nodeid, item.nodeid, "the test and its fixtures' teardown",
                       report, tasks)

    def found(self, nodeid, owner, what, report, tasks):
        self.reported.update(task_id(entry) for entry in tasks)
        tasks = [without_pytest_frames(entry) for entry in tasks]
        self.findings.setdefault(nodeid, []).append((owner, what, tasks, report))

    def current_item_id(self):
        return getattr(self, "_current_item", None)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_fixture_setup(self, fixturedef, request):
        scope = getattr(fixturedef, "scope", "function")
        if scope == "function":
            yield
            return
        params = getattr(fixturedef, "params", None)
        owner = fixture_owner(scope, getattr(request.node, "nodeid", ""), fixturedef.argname,
                              getattr(request, "param_index", None) if params else None)
        token = current_fixture.set(owner)
        self.attribution.start(owner, self.mark())
        try:
            yield
        finally:
            self.attribution.end(owner, self.mark())
            current_fixture.reset(token)
            self.wide[id(fixturedef)] = owner

    @pytest.hookimpl(hookwrapper=True)
    def pytest_fixture_post_finalizer(self, fixturedef, request):
        yield
        owner = self.wide.pop(id(fixturedef), None)
        if owner is None or self.snapshot_now is None:
            return
        report, tasks = self.still_pending(owner)
        if tasks:
            self.found(self.current_item_id(), owner, "its teardown", report, tasks)

    # -- hooks -----------------------------------------------------------------

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        token = current_test.set(item.nodeid)
        self._current_item = item.nodeid
        self.attribution.test_function(item.nodeid, test_code(item))
        self.attribution.start(item.nodeid, self.mark())
        self.timeouts.start_own(item)
        try:
            yield
        finally:
            self.timeouts.cancel_own(item)
            self.attribution.end(item.nodeid, self.mark())
            self._current_item = None
            try:
                current_test.reset(token)
            except ValueError:      # another context: leave the test's id behind
                current_test.set(None)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if report.failed and item.nodeid in self.timeouts.texts:
            self.timeouts.attach(item, report)
            self.timed_out.setdefault(item.nodeid, True)
        messages = []
        if report.when in ("call", "teardown"):
            messages += self.leak_messages(item)
        if report.when == "teardown":
            messages += self.outlived_messages(item)
        if not messages or self.mode != "fail":
            return
        message = "\n\n".join(messages)
        if report.passed:
            report.outcome = "failed"
            report.longrepr = message
        else:
            report.sections.append(("taskleak", message))

    def leak_messages(self, item):
        """The new leaks of ITEM, and of the wide fixtures (whose tasks can
        leak while any test runs), as failure text or warnings."""
        messages = []
        for owner, leaks in self.sort_new_leaks(item):
            if self.mode == "fail":
                messages.append("taskleak: %s leaked %s:\n%s" % (
                    owner, plural(len(leaks), "task"),
                    leak_text(self.last_report, leaks, self.root)))
                continue
            for leak in leaks:
                item.warn(TaskLeakWarning("taskleak: %s%s\n%s" % (
                    leak_line(leak), "" if owner == item.nodeid else " of " + owner,
                    leak_text(self.last_report, [leak], self.root))))
        return messages

    def outlived_messages(self, item):
        """The outlived tasks found for ITEM so far (its own, and those of
        wide fixtures torn down while it ran), as failure text or warnings."""
        allowed = OUTLIVED in allowed_kinds(item)
        messages = []
        for owner, what, tasks, report in self.findings.pop(item.nodeid, []):
            verdict = "allowed" if allowed else self.mode
            self.outlived.setdefault(owner, []).extend((task, verdict, item.nodeid)
                                                       for task in tasks)
            if allowed:
                continue
            text = outlived_text(self.renderer, tasks, report, owner, what)
            if self.mode == "fail":
                messages.append(text)
            else:
                for task in tasks:
                    item.warn(TaskLeakWarning("taskleak: %s outlived %s\n%s" % (
                        task_line(task), owner,
                        outlived_text(self.renderer, [task], report, owner, what))))
        return messages

    def sort_new_leaks(self, item):
        """Record the new leaks; [(owner, [leak])] of those that count now:
        ITEM's, and the wide fixtures' (reported where they are found)."""
        allowed = allowed_kinds(item)
        mine = {}
        for owner, leak in self.collect():
            if owner is None:
                self.outside.append(leak)
                continue
            if self.consequence(leak):
                self.by_test.setdefault(owner, []).append((leak, OUTLIVED))
                continue
            if owner == item.nodeid or is_fixture_owner(owner):
                verdict = "allowed" if leak.get("kind") in allowed else self.mode
                self.by_test.setdefault(owner, []).append((leak, verdict))
                if verdict != "allowed":
                    mine.setdefault(owner, []).append(leak)
            else:
                self.late(owner, leak)
        return sorted(mine.items(), key=lambda pair: pair[0] != item.nodeid)

    def consequence(self, leak):
        """A task reported as outlived (or at a timeout) that then ended
        pending: the same finding, not reported again."""
        return (leak.get("kind") in ("destroyed_pending", "pending_at_exit")
                and entry_task(leak).get("id") in self.reported)

    def late(self, owner, leak):
        if self.consequence(leak):
            self.by_test.setdefault(owner, []).append((leak, OUTLIVED))
            return
        self.by_test.setdefault(owner, []).append((leak, "late"))
        if self.mode == "fail":
            self.late_failures += 1
        warn = TaskLeakWarning("taskleak: %s of %s, found after that %s had ended\n%s" % (
            leak_line(leak), owner, "fixture" if is_fixture_owner(owner) else "test",
            leak_text(self.last_report, [leak], self.root)))
        warnings.warn(warn)

    # -- a timed-out test (pytest_hang.py) -----------------------------------

    def hang_text(self, item, seconds, how):
        """The live tasks of ITEM (and those they wait for) at its timeout."""
        report = self.snapshot()
        head = "taskleak: %s timed out after %ss (%s)" % (item.nodeid, seconds, how)
        if report is None:
            return "%s; no snapshot: %s" % (head, self.problem)
        live = pending(report)
        mine = [entry for entry in live if self.attribution.owner(entry) == item.nodeid]
        shown, cycles = related_tasks(mine, live, report.doc.get("deadlocks"))
        self.reported.update(task_id(entry) for entry in shown)
        self.timed_out[item.nodeid] = {
            "timeout": seconds, "how": how,
            "tasks": [live_summary(entry, self.root, own=entry in mine) for entry in shown],
            "deadlocks": cycles}
        if not mine:
            return "%s; no live task of this test (%s in the process)" % (
                head, plural(len(live), "live task"))
        view = Report(report.path, dict(report.doc, argv=[], reason="timeout", leaks=[],
                                        live_tasks=[without_pytest_frames(e) for e in shown],
                                        deadlocks=cycles))
        extra = len(shown) - len(mine)
        return "%s; its live tasks%s:\n%s" % (
            head, " and %s they wait for" % plural(extra, "other task") if extra else "",
            "\n".join(self.renderer.snapshot_lines(view)))

    # -- the end ---------------------------------------------------------------

    def pytest_sessionfinish(self, session):
        for owner, leak in self.collect(collect_garbage=True):
            if owner is None:
                self.outside.append(leak)
            else:
                self.late(owner, leak)
        for nodeid in list(self.findings):          # found after the last report
            for owner, what, tasks, report in self.findings.pop(nodeid):
                self.outlived.setdefault(owner, []).extend((task, "late", None) for task in tasks)
                if self.mode == "fail":
                    self.late_failures += 1
                warnings.warn(TaskLeakWarning(outlived_text(self.renderer, tasks, report,
                                                            owner, what)))
        if self.worker:
            self.config.workeroutput[WORKER_OUTPUT] = json.dumps(self.session_data())
        else:
            self.session_report = self.write_session_report()
            self.html_report = self.write_html_report()
        if self.late_failures and session.exitstatus == 0:
            session.exitstatus = 1

    def pytest_testnodedown(self, node, error):
        """pytest-xdist's controller: a worker's findings."""
        data = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT)
        if not data:
            return
        self.workers.append(json.loads(data))

    def session_data(self):
        """What this process found, as the session report's "pytest" part."""
        return {
            "tests": dict((nodeid, [dict(leak_summary(leak), verdict=verdict)
                                    for leak, verdict in entries])
                          for nodeid, entries in self.by_test.items()),
            "outlived": dict((owner, [live_summary(task, self.root, verdict=verdict,
                                                   reported_in=where)
                                      for task, verdict, where in entries])
                             for owner, entries in self.outlived.items()),
            "timeouts": dict((nodeid, entry) for nodeid, entry in self.timed_out.items()
                             if isinstance(entry, dict)),
            "outside_tests": [leak_summary(leak) for leak in self.outside],
            "problem": self.problem,
        }

    def merged_data(self):
        data = self.session_data()
        for worker in self.workers:
            for key in ("tests", "outlived", "timeouts"):
                for owner, entries in dict_of(worker.get(key)).items():
                    if isinstance(entries, list):
                        data[key].setdefault(owner, []).extend(entries)
                    else:
                        data[key][owner] = entries
            data["outside_tests"] += dicts_in(worker.get("outside_tests"))
            data["problem"] = data["problem"] or worker.get("problem")
        return data

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
        doc["pytest"] = dict(self.merged_data(), mode=self.mode)
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
        if self.worker:
            return
        tr = terminalreporter
        tr.write_sep("=", "taskleak")
        data = self.session_doc["pytest"] if self.session_doc else self.merged_data()
        counts, outlived = {}, 0
        owners = sorted(set(data["tests"]) | set(data["outlived"]) | set(data["timeouts"]))
        for owner in owners:
            if not any(data[key].get(owner) for key in ("outlived", "timeouts")) and all(
                    e.get("verdict") == OUTLIVED for e in data["tests"].get(owner, [])):
                continue
            # A leak of a task already reported as outlived is the same finding.
            entries = [e for e in data["tests"].get(owner, []) if e.get("verdict") != OUTLIVED]
            kinds = {}
            verdicts = set()
            for entry in entries:
                kinds[entry.get("kind")] = kinds.get(entry.get("kind"), 0) + 1
                counts[entry.get("verdict")] = counts.get(entry.get("verdict"), 0) + 1
                verdicts.add(entry.get("verdict"))
            parts = []
            if entries:
                parts.append("%s (%s)" % (plural(len(entries), "leak"), ", ".join(
                    "%d %s" % (n, k) for k, n in sorted(kinds.items()))))
            left = data["outlived"].get(owner, [])
            if left:
                outlived += len(left)
                parts.append("%s outlived it" % plural(len(left), "task"))
                verdicts.update(entry.get("verdict") for entry in left)
            timeout = data["timeouts"].get(owner)
            if timeout:
                parts.append("timed out after %ss with %s" % (
                    timeout.get("timeout"), plural(sum(1 for t in timeout.get("tasks", [])
                                                       if t.get("own")), "live task")))
            verdicts.discard(None)
            tr.write_line("%s: %s%s" % (owner, ", ".join(parts),
                                        "" if not verdicts or verdicts == {self.mode}
                                        else " [%s]" % ", ".join(sorted(verdicts))))
        if data["outside_tests"]:
            tr.write_line("outside any test: %s" % ", ".join(
                "%s of coroutine %s (%s, id %s)" % (l.get("kind"), l.get("coro"), l.get("task"),
                                                    l.get("task_id"))
                for l in data["outside_tests"]))
        problem = self.problem or data.get("problem")
        if problem:
            tr.write_line("taskleak: " + problem)
        total = sum(counts.values())
        leaking = [owner for owner, entries in data["tests"].items()
                   if any(e.get("verdict") != OUTLIVED for e in entries)]
        summary = "taskleak: %s in %s" % (plural(total, "leak") if total else "no leaks",
                                          plural(len(leaking), "test"))
        if not total and (data["outlived"] or data["timeouts"]):
            summary = "taskleak: no leaks"
        if outlived:
            fixtures = sum(1 for owner in data["outlived"] if is_fixture_owner(owner))
            summary += "; %s outlived %s" % (plural(outlived, "task"), " and ".join(
                part for part in (plural(len(data["outlived"]) - fixtures, "test")
                                  if len(data["outlived"]) > fixtures else "",
                                  plural(fixtures, "fixture") if fixtures else "") if part))
        if data["timeouts"]:
            summary += "; %s explained" % plural(len(data["timeouts"]), "timeout")
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
    task = entry_task(leak)
    return {"kind": leak.get("kind"), "task_id": task.get("id"), "task": task.get("name"),
            "coro": task.get("coro"), "context": leak.get("context")}
