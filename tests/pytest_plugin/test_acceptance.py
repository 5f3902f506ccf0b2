# SPDX-License-Identifier: MIT
"""The pytest plugin end to end: `pytest --taskleak=fail` on the sample suite
(one test whose task swallows a cancel, one that destroys a pending task, two
clean ones) fails exactly the two leaking tests, each failure naming the
coroutine and its creation line, and passes the clean ones; with plain
asyncio.run (sample/test_sample_run.py) and with pytest-asyncio
(sample/test_sample_asyncio.py), on every interpreter tests/common.py finds
that can import pytest (Debian's 3.11, the sid chroot's 3.14).

The plugin is imported from scripts/python (-p taskleak.pytest_plugin) and
re-executes pytest under the library given by TASKLEAK_TEST_LIB (default
build/libtaskleak.so); skipped when that library has no taskleak_report_now.
TASKLEAK_TEST_PYTHONS (labels or paths, separated by ':') replaces the
interpreters; tests/pytest_plugin/run.py sets both from --lib and --python.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import unittest
import xml.etree.ElementTree as ElementTree

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests"))
import common  # noqa: E402  (tests/common.py: interpreters, environment, reports)

SAMPLE = os.path.join(HERE, "sample")
LIB = os.path.abspath(os.environ.get("TASKLEAK_TEST_LIB")
                      or os.path.join(REPO, "build", "libtaskleak.so"))
TIMEOUT = 300
LEAKING = {"test_swallows_cancel": ("swallower", "SWALLOW-CREATED"),
           "test_destroys_pending_task": ("forgotten", "DESTROY-CREATED")}
CLEAN = {"test_clean_await", "test_clean_cancel"}
_interpreters = []


def library_problem():
    """Why the acceptance test cannot run against LIB, or None."""
    if not os.path.isfile(LIB):
        return "%s does not exist (make, or TASKLEAK_TEST_LIB=...)" % LIB
    try:
        symbols = subprocess.run(["nm", "-D", LIB], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, universal_newlines=True).stdout
    except OSError as error:
        return "cannot run nm: %s" % error
    if not re.search(r"\bT taskleak_report_now\b", symbols):
        return "%s exports no taskleak_report_now (a library older than the plugin)" % LIB
    return None


def interpreters():
    if not _interpreters:
        explicit = [p for p in os.environ.get("TASKLEAK_TEST_PYTHONS", "").split(os.pathsep) if p]
        found, _ = common.discover(explicit=explicit or None)
        _interpreters.extend(found)
    return _interpreters


def creation_line(path, marker):
    with open(path) as stream:
        for number, line in enumerate(stream, 1):
            if marker in line:
                return number
    raise AssertionError("no %s in %s" % (marker, path))


def junit_outcomes(path):
    """{test name: (outcome, failure text)} from a JUnit XML file."""
    outcomes = {}
    for case in ElementTree.parse(path).iter("testcase"):
        outcome, text = "passed", ""
        for tag in ("failure", "error", "skipped"):
            element = case.find(tag)
            if element is not None:
                outcome = tag
                text = (element.get("message") or "") + "\n" + (element.text or "")
        outcomes[case.get("name")] = (outcome, text)
    return outcomes


def page_data(path):
    """The data of a taskleak HTML page (its #taskleak-data JSON)."""
    with open(path, encoding="utf-8") as stream:
        page = stream.read()
    match = re.search(r'<script type="application/json" id="taskleak-data">(.*?)</script>',
                      page, re.S)
    if not match:
        raise AssertionError("%s: no taskleak-data in the page" % path)
    return json.loads(match.group(1))


class PluginAcceptance(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        problem = library_problem()
        if problem:
            raise unittest.SkipTest(problem)

    def pytest(self, python, tmp, *args):
        env = common.env(drop=("TASKLEAK_PYTEST_REEXEC", "PYTEST_ADDOPTS"),
                         PYTHONPATH=os.path.join(REPO, "scripts", "python"), TASKLEAK_LIB=LIB)
        return subprocess.run([python.path, "-m", "pytest", "-p", "no:cacheprovider",
                               "-p", "taskleak.pytest_plugin"] + list(args),
                              cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, timeout=TIMEOUT)

    def each(self, sample, modules):
        """(python, tmp dir with SAMPLE copied) for each interpreter that can
        import MODULES; a skipped subtest for the others."""
        for python in interpreters():
            with self.subTest(python=python.label, sample=sample):
                missing = [m for m in modules if not python.can_import(m)]
                if missing:
                    self.skipTest("%s cannot import %s" % (python.label, ", ".join(missing)))
                if python.source == "sid" and not common.visible_in_sid(LIB):
                    self.skipTest("%s is not visible in the sid chroot" % LIB)
                tmp = common.mkdtemp("taskleak-pytest-accept-")
                self.addCleanup(shutil.rmtree, tmp, True)
                shutil.copy(os.path.join(SAMPLE, sample), tmp)
                yield python, tmp

    def check_fail_mode(self, sample, modules):
        for python, tmp in self.each(sample, modules):
            result = self.pytest(python, tmp, "--taskleak=fail", "--junitxml=junit.xml",
                                 "--taskleak-html=out/session.html", sample)
            self.assertEqual(result.returncode, 1, result.stdout)
            outcomes = junit_outcomes(os.path.join(tmp, "junit.xml"))
            self.assertEqual(set(outcomes), set(LEAKING) | CLEAN, result.stdout)
            for name in CLEAN:
                self.assertEqual(outcomes[name][0], "passed", (name, result.stdout))
            for name, (coro, marker) in LEAKING.items():
                outcome, text = outcomes[name]
                self.assertEqual(outcome, "failure", (name, result.stdout))  # a failure, not an error
                line = creation_line(os.path.join(tmp, sample), marker)
                self.assertIn("leak of coroutine %s created at %s:%d" % (coro, sample, line),
                              text, name)
                self.assertIn("  fix: ", text, name)
                # Only this test's leak, never another test's.
                other = [c for n, (c, _) in LEAKING.items() if n != name][0]
                self.assertNotIn("coroutine " + other, text, name)
            self.assertIn("taskleak: 2 leaks in 2 tests", result.stdout)
            session = common.read_json(os.path.join(tmp, ".taskleak", "session.json"))
            attributed = dict((nodeid.rpartition("::")[2], [l["kind"] for l in leaks])
                              for nodeid, leaks in session["pytest"]["tests"].items())
            self.assertEqual(attributed, {"test_swallows_cancel": ["swallowed_cancel"],
                                          "test_destroys_pending_task": ["destroyed_pending"]})
            # --taskleak-html: the same session as a page, each leak with its test.
            page = page_data(os.path.join(tmp, "out", "session.html"))
            self.assertIn("HTML: %s" % os.path.join(tmp, "out", "session.html"), result.stdout)
            tested = dict((task["te"].rpartition("::")[2], task["k"]) for task in page["tasks"]
                          if task.get("k"))
            self.assertEqual(tested, {"test_swallows_cancel": "swallowed_cancel",
                                      "test_destroys_pending_task": "destroyed_pending"})
            self.assertEqual(sorted(t[0].rpartition("::")[2] for t in page["tests"]),
                             sorted(LEAKING))

    def test_fail_mode_with_asyncio_run(self):
        self.check_fail_mode("test_sample_run.py", ["pytest"])

    def test_fail_mode_with_pytest_asyncio(self):
        self.check_fail_mode("test_sample_asyncio.py", ["pytest", "pytest_asyncio"])

    def test_warn_mode_bare_flag_before_a_path(self):
        sample = "test_sample_run.py"
        for python, tmp in self.each(sample, ["pytest"]):
            result = self.pytest(python, tmp, "--taskleak", sample)
            self.assertEqual(result.returncode, 0, result.stdout)
            self.assertIn("4 passed", result.stdout)
            self.assertEqual(result.stdout.count("TaskLeakWarning: taskleak: "), 2, result.stdout)
            self.assertIn("swallowed_cancel of coroutine swallower", result.stdout)
            self.assertIn("destroyed_pending of coroutine forgotten", result.stdout)

    def test_marker_allows_a_kind(self):
        sample = "test_sample_run.py"
        for python, tmp in self.each(sample, ["pytest"]):
            with open(os.path.join(tmp, "test_allowed.py"), "w") as stream:
                stream.write("import pytest\n"
                             "from test_sample_run import swallow_main, destroy_main\n"
                             "import asyncio\n\n"
                             "@pytest.mark.taskleak(allow=['swallowed_cancel'])\n"
                             "def test_allowed():\n"
                             "    asyncio.run(swallow_main())\n\n"
                             "@pytest.mark.taskleak(allow=['swallowed_cancel'])\n"
                             "def test_other_kind_still_fails():\n"
                             "    asyncio.run(destroy_main())\n")
            result = self.pytest(python, tmp, "--taskleak=fail", "--junitxml=junit.xml",
                                 "test_allowed.py")
            outcomes = junit_outcomes(os.path.join(tmp, "junit.xml"))
            self.assertEqual(outcomes["test_allowed"][0], "passed", result.stdout)
            self.assertEqual(outcomes["test_other_kind_still_fails"][0], "failure", result.stdout)


if __name__ == "__main__":
    unittest.main()
