# SPDX-License-Identifier: MIT
"""The test gate end to end: real pytest sessions on the gate samples
(sample/test_gate_*.py) under `-p taskleak.pytest_plugin`, on every
interpreter tests/common.py finds that can import pytest and
pytest-asyncio (Debian's 3.11, the sid chroot's 3.13-3.15).

- Tasks that outlive their test: in a module-scoped loop exactly the two
  tests that leave a task error at teardown, each failure naming its
  creation line and where the task is suspended, nothing else; the last
  test of the module too; a task cancelled without being awaited ends in
  the settle; the marker allows one; a module-scoped fixture's long-lived
  task is never blamed on a test, and a fixture whose task outlives it is
  reported as the fixture's; session- and function-scoped loops; anyio's
  plugin (its runner kept by a module-scoped fixture), unittest's
  IsolatedAsyncioTestCase, asyncio.run, a loop left open; warn mode.
- A test that hangs on an Event: its waiting task, created and suspended
  where the sample says, before the failure: with pytest-timeout's signal
  method (and a deadlock's cycle in the session report), its thread
  method (the process ends, the explanation printed before
  pytest-timeout's stack dump), and --taskleak-timeout without it.
- pytest-xdist: the same findings from two workers, merged.
"""

import os
import re
import shutil
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_acceptance import LIB, SAMPLE, creation_line, interpreters, junit_outcomes, \
    library_problem  # noqa: E402
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests"))
import common  # noqa: E402

TIMEOUT = 300
HANG_SECONDS = "1.5"
SAMPLES = ["_loops.py", "test_gate_module.py", "test_gate_fixture.py", "test_gate_session.py",
           "test_gate_function.py", "test_gate_frameworks.py", "test_gate_hang.py"]
OUTLIVED_FILES = ["test_gate_module.py", "test_gate_fixture.py", "test_gate_session.py",
                  "test_gate_function.py"]
FIXTURE_OWNER = "test_gate_fixture.py::sloppy (module-scoped fixture)"
# test -> (file, creation marker) of the task that outlives it
OUTLIVING = {
    "test_gate_module.py::test_leaves_task": ("test_gate_module.py", "MODULE-CREATED"),
    "test_gate_module.py::test_last_leaves_task": ("test_gate_module.py", "LAST-CREATED"),
    "test_gate_session.py::test_session_leaves_task": ("test_gate_session.py", "SESSION-CREATED"),
    "test_gate_frameworks.py::test_anyio_leaves_task": ("test_gate_frameworks.py",
                                                        "ANYIO-CREATED"),
    "test_gate_frameworks.py::test_loop_left_open": ("test_gate_frameworks.py",
                                                     "OPEN-LOOP-CREATED"),
}
# never in any failure: the creation lines of fixtures' tasks ended in time,
# and of tasks that end (settled, allowed, cancelled by their runner)
NEVER_BLAMED = [("test_gate_module.py", "SERVER-CREATED"),
                ("test_gate_module.py", "ALLOWED-CREATED"),
                ("test_gate_frameworks.py", "ANYIO-FIXTURE-CREATED")]


def has_snapshot(lib):
    symbols = subprocess.run(["nm", "-D", lib], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, universal_newlines=True).stdout
    return re.search(r"\bT taskleak_snapshot_now\b", symbols) is not None


def failure_blocks(stdout):
    """{test name: its block of pytest's FAILURES / ERRORS sections}."""
    blocks, name, lines = {}, None, []
    for line in stdout.splitlines():
        match = re.match(r"^_{3,} (?:ERROR at teardown of )?(\S+) _{3,}$", line)
        if match or re.match(r"^={5,} ", line):
            if name:
                blocks[name] = blocks.get(name, "") + "\n".join(lines)
            name, lines = (match.group(1) if match else None), []
        elif name:
            lines.append(line)
    if name:
        blocks[name] = blocks.get(name, "") + "\n".join(lines)
    return blocks


class GateAcceptance(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        problem = library_problem()
        if problem is None and not has_snapshot(LIB):
            problem = "%s exports no taskleak_snapshot_now (older than the gate)" % LIB
        if problem:
            raise unittest.SkipTest(problem)

    def pytest(self, python, tmp, *args):
        env = common.env(drop=("TASKLEAK_PYTEST_REEXEC", "PYTEST_ADDOPTS"),
                         PYTHONPATH=os.path.join(REPO, "scripts", "python"), TASKLEAK_LIB=LIB)
        return subprocess.run([python.path, "-m", "pytest", "-p", "no:cacheprovider",
                               "-p", "taskleak.pytest_plugin"] + list(args),
                              cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, timeout=TIMEOUT)

    def each(self, modules):
        """(python, tmp dir with the gate samples) for each interpreter that
        can import MODULES; a skipped subtest for the others."""
        for python in interpreters():
            with self.subTest(python=python.label):
                missing = [m for m in modules if not python.can_import(m)]
                if missing:
                    self.skipTest("%s cannot import %s" % (python.label, ", ".join(missing)))
                if python.source == "sid" and not common.visible_in_sid(LIB):
                    self.skipTest("%s is not visible in the sid chroot" % LIB)
                tmp = common.mkdtemp("taskleak-pytest-gate-")
                self.addCleanup(shutil.rmtree, tmp, True)
                for name in SAMPLES:
                    shutil.copy(os.path.join(SAMPLE, name), tmp)
                try:
                    yield python, tmp
                except GeneratorExit:   # the caller's check failed: its failure says why
                    return

    def line(self, tmp, name, marker):
        return "%s:%d" % (name, creation_line(os.path.join(tmp, name), marker))

    def loop_scope(self, python):
        """Whether this pytest-asyncio has loop_scope (0.24+): its function
        loop then cancels what a test leaves at its end."""
        out = subprocess.run([python.path, "-c", "import pytest_asyncio as p; "
                              "print(tuple(map(int, p.__version__.split('.')[:2])) >= (0, 24))"],
                             stdout=subprocess.PIPE, universal_newlines=True, timeout=60)
        return out.stdout.strip() == "True"

    # -- tasks that outlive their test ----------------------------------------

    def expected_outlived(self, python, files):
        outliving = dict((test, where) for test, where in OUTLIVING.items()
                         if where[0] in files)
        if "test_gate_function.py" in files and not self.loop_scope(python):
            outliving["test_gate_function.py::test_function_loop_leaves_task"] = (
                "test_gate_function.py", "FUNCTION-CREATED")
        return outliving

    def check_outlived(self, python, tmp, result, files, outliving):
        session = common.read_json(os.path.join(tmp, ".taskleak", "session.json"))["pytest"]
        outcomes = junit_outcomes(os.path.join(tmp, "junit.xml"))
        blocks = failure_blocks(result.stdout)
        forever = self.line(tmp, "_loops.py", "FOREVER-AWAIT")
        errors = set(name for name, (outcome, _) in outcomes.items() if outcome != "passed")
        wanted = set(test.rpartition("::")[2] for test in outliving) | {"test_also_uses_sloppy"}
        self.assertEqual(errors, wanted, result.stdout)
        for test, (name, marker) in outliving.items():
            short = test.rpartition("::")[2]
            self.assertEqual(outcomes[short][0], "error", (test, result.stdout))  # at teardown
            text = blocks[short]
            self.assertIn("taskleak: 1 task outlived %s: still pending after the test" % test,
                          text)
            self.assertIn("created at %s in %s" % (self.line(tmp, name, marker), short), text)
            if marker != "FUNCTION-CREATED":       # its loop is closed: where, unknown
                self.assertIn("suspended at %s in forever" % forever, text)
            for other, (other_name, other_marker) in OUTLIVING.items():
                if other != test and other_name in files:
                    self.assertNotIn(self.line(tmp, other_name, other_marker), text)
            self.assertEqual([entry["created_at"] for entry in session["outlived"][test]],
                             [self.line(tmp, name, marker)])
            self.assertIn("%s: 1 task outlived it" % test, result.stdout)
        # The fixture's task: the fixture's, at its teardown, never the first test's.
        text = blocks["test_also_uses_sloppy"]
        self.assertIn("taskleak: 1 task outlived %s: still pending after its teardown"
                      % FIXTURE_OWNER, text)
        self.assertIn("created at %s in sloppy" % self.line(
            tmp, "test_gate_fixture.py", "FIXTURE-CREATED"), text)
        self.assertEqual(outcomes["test_sets_up_sloppy"][0], "passed", result.stdout)
        verdicts = dict((owner, [entry["verdict"] for entry in entries])
                        for owner, entries in session["outlived"].items())
        allowed = "test_gate_module.py::test_allowed_to_leave_task"
        self.assertEqual(verdicts.pop(allowed, ["allowed"]), ["allowed"])
        self.assertEqual(verdicts, dict((owner, ["fail"]) for owner in
                                        list(outliving) + [FIXTURE_OWNER]))
        for name, marker in NEVER_BLAMED:
            if name in files:
                self.assertNotIn(self.line(tmp, name, marker), result.stdout)

    def test_outlived_fail_mode(self):
        for python, tmp in self.each(["pytest", "pytest_asyncio", "anyio"]):
            files = OUTLIVED_FILES + ["test_gate_frameworks.py"]
            result = self.pytest(python, tmp, "--taskleak=fail", "--junitxml=junit.xml", *files)
            self.assertEqual(result.returncode, 1, result.stdout)
            self.check_outlived(python, tmp, result, files,
                                self.expected_outlived(python, files))

    def test_outlived_warn_mode(self):
        for python, tmp in self.each(["pytest", "pytest_asyncio"]):
            result = self.pytest(python, tmp, "--taskleak=warn", "test_gate_module.py")
            self.assertEqual(result.returncode, 0, result.stdout)
            self.assertIn("5 passed", result.stdout)
            warned = re.findall(r"TaskLeakWarning: taskleak: Task-\d+ \(coroutine forever, "
                                r"id \d+\) outlived (\S+)", result.stdout)
            self.assertEqual(sorted(warned), ["test_gate_module.py::test_last_leaves_task",
                                              "test_gate_module.py::test_leaves_task"],
                             result.stdout)
            for marker in ("MODULE-CREATED", "LAST-CREATED"):
                self.assertIn("created at %s" % self.line(tmp, "test_gate_module.py", marker),
                              result.stdout)
            self.assertIn("test_gate_module.py::test_leaves_task: 1 task outlived it",
                          result.stdout)

    def test_xdist_merges_workers(self):
        for python, tmp in self.each(["pytest", "pytest_asyncio", "xdist"]):
            files = OUTLIVED_FILES
            result = self.pytest(python, tmp, "-p", "xdist", "-n", "2", "--dist", "loadfile",
                                 "--taskleak=fail", "--junitxml=junit.xml", *files)
            self.assertEqual(result.returncode, 1, result.stdout)
            self.check_outlived(python, tmp, result, files,
                                self.expected_outlived(python, files))
            reports = [name for name in os.listdir(os.path.join(tmp, ".taskleak", "reports"))]
            self.assertGreaterEqual(len(reports), 3, reports)   # the controller, two workers

    # -- a test that hangs -----------------------------------------------------

    def check_explained(self, tmp, text, how):
        self.assertIn("taskleak: test_gate_hang.py::test_hangs_on_event timed out after %ss (%s)"
                      "; its live tasks" % (HANG_SECONDS, how), text)
        waiter = text[text.index("(coroutine waiter"):]
        self.assertIn("created at %s in wait_for_event" % self.line(
            tmp, "test_gate_hang.py", "HANG-CREATED"), waiter)
        self.assertIn("suspended at %s in waiter" % self.line(
            tmp, "test_gate_hang.py", "HANG-AWAIT"), waiter)

    def check_timeouts(self, tmp, tests):
        timeouts = common.read_json(os.path.join(tmp, ".taskleak", "session.json"))[
            "pytest"]["timeouts"]
        self.assertEqual(sorted(timeouts), sorted("test_gate_hang.py::" + t for t in tests))
        tasks = timeouts["test_gate_hang.py::test_hangs_on_event"]["tasks"]
        waiter = [task for task in tasks if task["coro"] == "waiter"]
        self.assertEqual(len(waiter), 1, tasks)
        self.assertEqual(waiter[0]["waits_for"]["kind"], "event")
        self.assertEqual(waiter[0]["suspended_at"],
                         self.line(tmp, "test_gate_hang.py", "HANG-AWAIT"))
        return timeouts

    def test_hang_with_pytest_timeout_signal(self):
        for python, tmp in self.each(["pytest", "pytest_timeout"]):
            result = self.pytest(python, tmp, "--taskleak=fail", "--junitxml=junit.xml",
                                 "--timeout=" + HANG_SECONDS, "test_gate_hang.py")
            self.assertEqual(result.returncode, 1, result.stdout)
            outcomes = junit_outcomes(os.path.join(tmp, "junit.xml"))
            self.assertEqual(dict((k, v[0]) for k, v in outcomes.items()),
                             {"test_hangs_on_event": "failure", "test_deadlock": "failure",
                              "test_after_the_hangs": "passed"}, result.stdout)
            self.assertIn("Timeout", outcomes["test_hangs_on_event"][1])   # pytest-timeout's
            block = failure_blocks(result.stdout)["test_hangs_on_event"]
            self.assertIn("taskleak: live tasks at the timeout", block)
            self.check_explained(tmp, block, "pytest-timeout, signal method")
            timeouts = self.check_timeouts(tmp, ["test_hangs_on_event", "test_deadlock"])
            deadlock = timeouts["test_gate_hang.py::test_deadlock"]
            crossing = sorted(t["task_id"] for t in deadlock["tasks"] if t["coro"] == "crossing")
            self.assertEqual([sorted(cycle["tasks"]) for cycle in deadlock["deadlocks"]],
                             [crossing], deadlock)

    def test_hang_with_pytest_timeout_thread(self):
        for python, tmp in self.each(["pytest", "pytest_timeout"]):
            result = self.pytest(python, tmp, "--taskleak=fail", "--timeout=" + HANG_SECONDS,
                                 "--timeout-method=thread", "test_gate_hang.py", "-k", "event")
            self.assertEqual(result.returncode, 1, result.stdout)   # pytest-timeout's os._exit
            explained = result.stdout.find("taskleak: test_gate_hang.py::test_hangs_on_event")
            banner = re.search(r"^\++ Timeout \++$", result.stdout, re.M)
            self.assertGreaterEqual(explained, 0, result.stdout)
            self.assertTrue(banner and banner.start() > explained, result.stdout)
            self.check_explained(tmp, result.stdout[explained:banner.start()],
                                 "pytest-timeout, thread method")

    def test_hang_with_taskleak_timeout(self):
        for python, tmp in self.each(["pytest"]):
            result = self.pytest(python, tmp, "-p", "no:timeout", "--taskleak=fail",
                                 "--junitxml=junit.xml", "--taskleak-timeout=" + HANG_SECONDS,
                                 "test_gate_hang.py", "-k", "event or after")
            self.assertEqual(result.returncode, 1, result.stdout)
            outcomes = junit_outcomes(os.path.join(tmp, "junit.xml"))
            self.assertEqual(outcomes["test_hangs_on_event"][0], "failure", result.stdout)
            self.assertEqual(outcomes["test_after_the_hangs"][0], "passed", result.stdout)
            self.assertIn("Timeout (>%ss) from taskleak." % HANG_SECONDS,
                          outcomes["test_hangs_on_event"][1])
            block = failure_blocks(result.stdout)["test_hangs_on_event"]
            self.check_explained(tmp, block, "--taskleak-timeout")
            self.check_timeouts(tmp, ["test_hangs_on_event"])


if __name__ == "__main__":
    unittest.main()
