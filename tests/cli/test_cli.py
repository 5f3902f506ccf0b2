# SPDX-License-Identifier: MIT
"""Tests of scripts/taskleak, the command-line tool.

Standard library only. From the repository root:

    python3 -m unittest discover -s tests/cli -v

The text renderings are compared with tests/cli/golden/*.txt; after an
intended change of the output, regenerate them and review the diff:

    TASKLEAK_REGEN=1 python3 -m unittest discover -s tests/cli

`run` and `dump` are tested without the real library: TASKLEAK_LIB points
at an empty shared object compiled here (those tests are skipped when there
is no C compiler), and fixtures/fake_app.py writes fixture reports the way
the library would.  The tests that start such a target run it with this
interpreter and again with the Debian sid chroot's python3.14 when
tests/common.py finds it (a skipped subtest otherwise).
"""

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests"))
import common  # noqa: E402  (tests/common.py: interpreters, environment, reports)
sys.path.insert(0, os.path.join(REPO, "scripts", "python"))
from taskleak import contract  # noqa: E402  (the version, read from VERSION)

SCRIPT = os.path.join(REPO, "scripts", "taskleak")
PACKAGE = os.path.join(REPO, "scripts", "python", "taskleak")
FIXTURES = os.path.join(HERE, "fixtures")
GOLDEN = os.path.join(HERE, "golden")
FAKE_APP = os.path.join(FIXTURES, "fake_app.py")
SRC_ROOT = "/srv/shop"      # where the fixtures' programs lived
REGEN = os.environ.get("TASKLEAK_REGEN") == "1"
TIMEOUT = 60                # seconds: only a hang ever gets near it

KINDS = ["swallowed_cancel", "stuck_after_cancel", "destroyed_pending", "pending_at_exit"]
FIXES = {
    "swallowed_cancel": "fix: re-raise CancelledError (catch it narrowly and `raise`), "
                        "or use try/finally for cleanup",
    "stuck_after_cancel": "fix: bound awaits in cleanup with asyncio.timeout() and "
                          "asyncio.shield(); do not loop on CancelledError",
    "destroyed_pending": "fix: keep a reference to the task and await or cancel it "
                         "before dropping it",
    "pending_at_exit": "fix: cancel and await every task before the loop closes "
                       "(asyncio.run does this; a loop you manage must too)",
}


def fixture(name):
    return os.path.join(FIXTURES, name)


def clean_env(**extra):
    """The environment for a child: nothing of an enclosing taskleak run."""
    return common.env(drop=("TASKLEAK_LIB", "TASKLEAK_DEBUG", "TASKLEAK_REGEN"), extra=extra)


def taskleak(*args, **kwargs):
    """Run the script with this interpreter; a CompletedProcess with text."""
    script = kwargs.pop("script", SCRIPT)
    kwargs.setdefault("env", clean_env())
    kwargs.setdefault("timeout", TIMEOUT)
    return subprocess.run([sys.executable, script] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, **kwargs)


def wait_until(condition, what, timeout=TIMEOUT):
    """Poll CONDITION until it is true; fail the test at the deadline."""
    if not common.wait_for(condition, common.deadline(timeout)):
        raise AssertionError("timed out waiting for " + what)


def read_environ_text(pid):
    try:
        with open("/proc/%d/environ" % pid, "rb") as stream:
            return stream.read().decode("utf-8", "replace")
    except OSError:
        return ""


def compile_noop_library(path):
    """An empty shared object: harmless in LD_PRELOAD. False without cc."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        return False
    source = os.path.join(os.path.dirname(path), "noop.c")
    with open(source, "w") as stream:
        stream.write("/* stands in for libtaskleak.so in the CLI tests */\n"
                     "int taskleak_cli_test_noop;\n")
    result = subprocess.run([compiler, "-shared", "-fPIC", "-o", path, source],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return result.returncode == 0


_targets = []


def target_pythons():
    """[(label, path or None, why absent)]: the interpreters that run the
    target programs: this one, and the sid chroot's python3.14."""
    if not _targets:
        found, notes = common.discover()
        sid = [it for it in found if it.label == "sid-3.14"]
        _targets.append(("this python", sys.executable, None))
        _targets.append(("sid-3.14", sid[0].path if sid else None,
                         None if sid else "; ".join(n for n in notes if "sid" in n)
                         or "no sid python3.14"))
    return _targets


def walk(value):
    """Every value nested in a JSON document, with its key (or None)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            for pair in walk(item):
                yield pair
    elif isinstance(value, list):
        for item in value:
            for pair in walk(item):
                yield pair


class ScriptTestCase(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        # Under /tmp, which a sid interpreter sees at the same path.
        self._tmp = tempfile.TemporaryDirectory(prefix="taskleak-cli-", dir=common.SHARED_TMP)
        self.tmp = os.path.realpath(self._tmp.name)
        self.addCleanup(self._tmp.cleanup)

    def assertOneErrorLine(self, result, status, *fragments):
        self.assertEqual(result.returncode, status, result.stderr)
        self.assertNotIn("Traceback", result.stderr)
        lines = result.stderr.splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertTrue(lines[0].startswith("taskleak: "), lines[0])
        for fragment in fragments:
            self.assertIn(fragment, lines[0])


# ---------------------------------------------------------------------------
# report --format text: golden files

GOLDEN_CASES = [
    ("swallowed", ["swallowed.json"]),
    ("stuck", ["stuck.json"]),
    ("destroyed", ["destroyed.json"]),
    ("destroyed_native", ["--native", "destroyed.json"]),
    ("pending_at_exit", ["pending_at_exit.json"]),
    ("signal", ["signal.json"]),
    ("clean", ["clean.json"]),
    ("parent_child", ["parent.json", "child.json"]),
    ("minimal", ["minimal.json"]),
    ("swallowed_no_fold", ["--no-fold", "swallowed.json"]),
    ("max_tasks", ["--max-tasks", "1", "swallowed.json", "pending_at_exit.json"]),
]


class GoldenText(ScriptTestCase):
    """The text rendering, exactly, for each fixture."""

    def check_golden(self, name, args):
        result = taskleak("report", "--root", SRC_ROOT, *args, cwd=FIXTURES)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, "")
        golden = os.path.join(GOLDEN, name + ".txt")
        if REGEN:
            with open(golden, "w") as stream:
                stream.write(result.stdout)
            return
        with open(golden) as stream:
            self.assertEqual(result.stdout, stream.read(),
                             "output differs from %s (TASKLEAK_REGEN=1 rewrites it)" % golden)


for _name, _args in GOLDEN_CASES:
    setattr(GoldenText, "test_" + _name,
            lambda self, name=_name, args=_args: self.check_golden(name, args))


class TextContract(ScriptTestCase):
    """The lines the contract and the brief spell out, independent of goldens."""

    def render(self, *files):
        result = taskleak("report", "--root", SRC_ROOT, *files, cwd=FIXTURES)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout

    def test_swallowed_cancel(self):
        out = self.render("swallowed.json")
        self.assertIn("2 swallowed_cancel leaks of coroutine leaky_worker created at app.py:15\n", out)
        self.assertIn("  cancelled at app.py:18 in main (message: 'shutdown')", out)
        self.assertIn("  ended: returned NoneType None\n", out)
        self.assertIn("    (8 asyncio frames folded)\n", out)
        self.assertIn("caught at app.py:8 in leaky_worker", out)
        self.assertIn("  " + FIXES["swallowed_cancel"] + "\n", out)
        self.assertIn("Suppressions used:", out)
        self.assertIn("3  swallowed_cancel:*/vendor/*", out)
        self.assertNotIn("aiohttp/*", out)   # a suppression with no hits was not used
        self.assertTrue(out.endswith("SUMMARY: taskleak: 2 leaks (2 swallowed_cancel) in 1 process\n"))

    def test_stuck_after_cancel(self):
        out = self.render("stuck.json")
        self.assertIn("(by asyncio.timeouts)", out)
        self.assertIn("  resolved at t=9.0s: cancelled\n", out)
        self.assertIn("  still pending, suspended at shutdown.py:10 in Heartbeat.run\n", out)
        self.assertIn(FIXES["stuck_after_cancel"], out)

    def test_failed_and_merged_processes(self):
        out = self.render("parent.json", "child.json")
        self.assertIn("2 swallowed_cancel leaks of coroutine leaky_worker created at jobs.py:15\n", out)
        self.assertIn("  ended: raised ValueError: boom\n", out)
        self.assertIn("  ended: returned int 0\n", out)
        self.assertIn(" in pid 5000", out)
        self.assertIn(" in pid 5001", out)
        self.assertIn(FIXES["pending_at_exit"], out)
        self.assertTrue(out.endswith(
            "SUMMARY: taskleak: 3 leaks (2 swallowed_cancel, 1 pending_at_exit) in 2 processes\n"))

    def test_destroyed_and_native(self):
        out = self.render("destroyed.json")
        self.assertIn(FIXES["destroyed_pending"], out)
        self.assertNotIn("native stack", out)
        self.assertIn(".venv/lib/python3.8/site-packages/statsd/client.py:88 in post", out)
        native = self.render("--native", "destroyed.json")
        self.assertIn("#7 0x7fe0c5c3e2a8 in PyObject_Call+120", native)
        self.assertNotIn("Py_RunMain", native)          # only 8 native frames
        self.assertIn("(3 more native frames not shown)", native)

    def test_omitted_and_incomplete(self):
        out = self.render("pending_at_exit.json")
        self.assertIn("3 more leaks in pid 31337 were counted but not kept in full (max_leaks=2)", out)
        self.assertIn("taskleak: report pending_at_exit.json is incomplete: the interpreter was finalizing", out)
        self.assertIn("SUMMARY: taskleak: 5 leaks (5 pending_at_exit) in 1 process", out)

    def test_no_leaks(self):
        self.assertEqual(self.render("clean.json"), "SUMMARY: taskleak: no leaks in 1 process\n")

    def test_signal_snapshot_lists_live_tasks(self):
        out = self.render("signal.json")
        self.assertIn("Task-3 (coroutine drain, id 3) pending", out)
        self.assertIn("awaited by Task-1 (id 1)", out)

    def test_paths_relative_to_the_working_directory(self):
        # The fixture, moved under a real directory, rendered from there.
        with open(fixture("swallowed.json")) as stream:
            doc = stream.read().replace(SRC_ROOT + "/", self.tmp + "/")
        with open(os.path.join(self.tmp, "report.json"), "w") as stream:
            stream.write(doc)
        inside = taskleak("report", "report.json", cwd=self.tmp)
        self.assertIn("created at app.py:15\n", inside.stdout)
        outside = taskleak("report", os.path.join(self.tmp, "report.json"), cwd=FIXTURES)
        self.assertIn("created at %s/app.py:15\n" % self.tmp, outside.stdout)

    def test_directory_argument_reads_its_reports(self):
        for name, pid in (("parent.json", 5000), ("child.json", 5001)):
            shutil.copy(fixture(name), os.path.join(self.tmp, "taskleak.%d.json" % pid))
        result = taskleak("report", "--root", SRC_ROOT, self.tmp)
        self.assertEqual(result.returncode, 0, result.stderr)
        with open(os.path.join(GOLDEN, "parent_child.txt")) as stream:
            self.assertEqual(result.stdout, stream.read())

    def test_fail_flag(self):
        self.assertEqual(taskleak("report", "--fail", fixture("clean.json")).returncode, 0)
        self.assertEqual(taskleak("report", "--fail", fixture("stuck.json")).returncode, 23)

    def test_garbage_fields_render_without_error(self):
        for fmt in ("text", "json", "sarif"):
            result = taskleak("report", "--format", fmt, "--native", fixture("garbage.json"))
            self.assertEqual(result.returncode, 0, fmt + ": " + result.stderr)
            self.assertEqual(result.stderr, "")
            if fmt != "text":
                json.loads(result.stdout)


# ---------------------------------------------------------------------------
# report: inputs that are not reports

class NotAReport(ScriptTestCase):

    def check_rejected(self, path, reason):
        for fmt in ("text", "json", "sarif"):
            result = taskleak("report", "--format", fmt, path)
            self.assertOneErrorLine(result, 2, "taskleak: %s: not a taskleak report (" % path, reason)
            self.assertEqual(result.stdout, "")

    def test_missing_file(self):
        self.check_rejected(os.path.join(self.tmp, "missing.json"), "No such file or directory")

    def test_not_json(self):
        self.check_rejected(fixture("not_json.txt"), "invalid JSON")

    def test_another_tools_json(self):
        self.check_rejected(fixture("other_tool.json"), '"tool" is "eslint"')

    def test_json_without_tool(self):
        self.check_rejected(fixture("no_tool.sarif"), 'no "tool" field')

    def test_wrong_schema(self):
        self.check_rejected(fixture("wrong_schema.json"), '"schema" is 2')

    def test_empty_file_array_and_binary(self):
        cases = [("empty.json", b"", "invalid JSON"), ("array.json", b"[1, 2]", "not a JSON object"),
                 ("binary.json", b"\xff\xfe\x00garbage", "not UTF-8"),
                 ("deep.json", b"[" * 100000, "invalid JSON")]
        for name, data, reason in cases:
            path = os.path.join(self.tmp, name)
            with open(path, "wb") as stream:
                stream.write(data)
            self.check_rejected(path, reason)

    def test_unreadable_directory(self):
        self.check_rejected(self.tmp, "directory")

    def test_one_bad_file_among_good_ones(self):
        result = taskleak("report", fixture("clean.json"), fixture("not_json.txt"))
        self.assertOneErrorLine(result, 2, "not_json.txt")
        self.assertEqual(result.stdout, "")

    def test_huge_numbers_never_trace_back(self):
        path = os.path.join(self.tmp, "huge.json")
        with open(path, "w") as stream:
            stream.write('{"tool": "taskleak", "schema": 1, "pid": 1%s, "t": 1e999}' % ("0" * 5000))
        result = taskleak("report", path)
        self.assertNotIn("Traceback", result.stderr)
        self.assertIn(result.returncode, (0, 2))

    def test_broken_pipe_is_quiet(self):
        process = subprocess.Popen([sys.executable, SCRIPT, "report", "--format", "sarif",
                                    fixture("swallowed.json")] + [fixture("stuck.json")] * 200,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean_env())
        process.stdout.close()     # nobody reads: the write fails with EPIPE
        stderr = process.communicate(timeout=TIMEOUT)[1].decode()
        self.assertEqual(stderr, "")
        self.assertIn(process.returncode, (0, 141))


# ---------------------------------------------------------------------------
# report --format json

class JsonMerge(ScriptTestCase):

    def merged(self, *names):
        result = taskleak("report", "--format", "json", *[fixture(n) for n in names])
        self.assertEqual(result.returncode, 0, result.stderr)
        return json.loads(result.stdout)

    def test_merge_of_parent_and_child(self):
        doc = self.merged("parent.json", "child.json")
        self.assertEqual((doc["tool"], doc["schema"], doc["merged"]), ("taskleak", 1, True))
        self.assertEqual([r["pid"] for r in doc["reports"]], [5000, 5001])
        self.assertEqual(doc["reports"][1]["ppid"], 5000)
        for header in doc["reports"]:
            for key in ("pid", "ppid", "argv", "python", "reason", "t", "time"):
                self.assertIn(key, header)
        stats = doc["stats"]
        self.assertEqual(stats["tasks_created"], 3 + 4)
        self.assertEqual(stats["tasks_done"], 3 + 3)
        self.assertEqual(stats["cancel_requests"], 2)
        self.assertEqual(stats["leaks"], {"swallowed_cancel": 2, "stuck_after_cancel": 0,
                                          "destroyed_pending": 0, "pending_at_exit": 1})
        self.assertEqual([(l["pid"], l["kind"]) for l in doc["leaks"]],
                         [(5000, "swallowed_cancel"), (5001, "swallowed_cancel"),
                          (5001, "pending_at_exit")])
        self.assertEqual(doc["leaks"][1]["exception"], {"type": "ValueError", "message": "boom"})

    def test_merge_sums_every_stat(self):
        doc = self.merged("swallowed.json", "stuck.json", "destroyed.json",
                          "pending_at_exit.json", "signal.json", "clean.json")
        self.assertEqual(doc["stats"]["tasks_created"], 5 + 6 + 3 + 9 + 3 + 4)
        self.assertEqual(doc["stats"]["leaks_omitted"], 3)
        self.assertEqual(doc["stats"]["leaks"]["stuck_after_cancel"], 3)
        self.assertEqual(len(doc["leaks"]), 2 + 2 + 1 + 2 + 1)
        self.assertEqual(len(doc["live_tasks"]), 3)
        self.assertEqual(doc["suppressions"][0]["hits"], 3)

    def test_merged_document_is_itself_a_report(self):
        path = os.path.join(self.tmp, "merged.json")
        with open(path, "w") as stream:
            json.dump(self.merged("parent.json", "child.json"), stream)
        result = taskleak("report", "--root", SRC_ROOT, path)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(" in pid 5001", result.stdout)
        self.assertIn("in 2 processes", result.stdout)


# ---------------------------------------------------------------------------
# report --format sarif

class Sarif(ScriptTestCase):
    ALL = ["swallowed.json", "stuck.json", "destroyed.json", "pending_at_exit.json",
           "signal.json", "clean.json", "parent.json", "child.json"]

    def sarif(self, *names, **kwargs):
        root = kwargs.get("root", SRC_ROOT)
        result = taskleak("report", "--format", "sarif", "--root", root,
                          *[fixture(n) for n in names])
        self.assertEqual(result.returncode, 0, result.stderr)
        return json.loads(result.stdout)

    def test_log_structure_and_rules(self):
        log = self.sarif(*self.ALL)
        self.assertEqual(log["$schema"], "https://json.schemastore.org/sarif-2.1.0.json")
        self.assertEqual(log["version"], "2.1.0")
        self.assertEqual(len(log["runs"]), 1)
        driver = log["runs"][0]["tool"]["driver"]
        self.assertEqual(driver["name"], "taskleak")
        self.assertEqual(driver["version"], contract.VERSION)
        self.assertEqual([rule["id"] for rule in driver["rules"]], KINDS + ["deadlock"])
        for rule in driver["rules"][:-1]:
            self.assertTrue(rule["shortDescription"]["text"])
            self.assertTrue(rule["fullDescription"]["text"])
            fix = FIXES[rule["id"]][len("fix: "):]
            self.assertIn(fix, rule["help"]["text"])
            self.assertIn(fix, rule["help"]["markdown"])
        self.assertEqual(log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"],
                         "file:///srv/shop/")

    def test_results(self):
        log = self.sarif(*self.ALL)
        run = log["runs"][0]
        rules = run["tool"]["driver"]["rules"]
        results = run["results"]
        self.assertEqual(len(results), 2 + 2 + 1 + 2 + 1 + 0 + 1 + 2)
        for result in results:
            self.assertEqual(rules[result["ruleIndex"]]["id"], result["ruleId"])
            expected = "error" if result["ruleId"] in KINDS[:2] else "warning"
            self.assertEqual(result["level"], expected)
            self.assertTrue(result["message"]["text"])
            physical = result["locations"][0]["physicalLocation"]
            self.assertEqual(physical["artifactLocation"]["uriBaseId"], "%SRCROOT%")
            self.assertFalse(physical["artifactLocation"]["uri"].startswith("/"))
            self.assertIsInstance(physical["region"]["startLine"], int)
            ids = [loc["id"] for loc in result.get("relatedLocations", [])]
            self.assertEqual(len(ids), len(set(ids)))
            for location in result.get("relatedLocations", []):
                self.assertIsInstance(location["id"], int)
                self.assertTrue(location["message"]["text"])
        for key, value in walk(log):
            if key == "startLine":
                self.assertIs(type(value), int)
                self.assertGreaterEqual(value, 1)

    def test_locations_creation_cancel_and_caught(self):
        results = self.sarif("swallowed.json")["runs"][0]["results"]

        def line(location):
            return location["physicalLocation"]["region"]["startLine"]

        caught, plain = results
        # A cancel with caught_at: the primary location is where it was caught.
        self.assertEqual(caught["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "app.py")
        self.assertEqual(line(caught["locations"][0]), 8)
        self.assertEqual([line(l) for l in caught["relatedLocations"]], [15, 18])
        # Otherwise the creation site, with the cancel sites related.
        self.assertEqual(line(plain["locations"][0]), 15)
        self.assertEqual([line(l) for l in plain["relatedLocations"]], [18])
        self.assertIn("shutdown", plain["relatedLocations"][0]["message"]["text"])

    def test_paths_outside_the_root_are_file_uris(self):
        results = self.sarif("swallowed.json", root=self.tmp)["runs"][0]["results"]
        artifact = results[1]["locations"][0]["physicalLocation"]["artifactLocation"]
        self.assertEqual(artifact, {"uri": "file:///srv/shop/app.py"})

    def test_unknown_line_has_no_region(self):
        results = self.sarif("minimal.json")["runs"][0]["results"]
        self.assertEqual([r["ruleId"] for r in results],
                         ["swallowed_cancel", "stuck_after_cancel", "orphaned_future"])
        for key, value in walk(results):
            self.assertNotEqual(key, "region")


# ---------------------------------------------------------------------------
# --help and --version

class Help(ScriptTestCase):

    def test_version(self):
        result = taskleak("--version")
        self.assertEqual((result.returncode, result.stdout.strip()), (0, contract.VERSION))

    def test_help(self):
        cases = [([], ["run", "report", "dump", "TASKLEAK_OPTIONS"]),
                 (["run"], ["--report-dir", "--grace", "--interval", "--shutdown-timeout",
                            "--no-native",
                            "--suppressions", "--fail", "CMD", "23"]),
                 (["report"], ["--format", "text,json,sarif", "--native", "FILE"]),
                 (["dump"], ["PID", "--timeout"])]
        for words, expected in cases:
            result = taskleak(*(words + ["--help"]))
            self.assertEqual(result.returncode, 0, result.stderr)
            for option in expected:
                self.assertIn(option, result.stdout, words)

    def test_usage_errors(self):
        for words in ([], ["frobnicate"], ["report"], ["dump", "x"], ["run"]):
            result = taskleak(*words)
            self.assertEqual(result.returncode, 2, words)
            self.assertNotIn("Traceback", result.stderr)


# ---------------------------------------------------------------------------
# run and dump, with a no-op library and fake_app.py in place of the library

class WithNoopLibrary(ScriptTestCase):
    """Compiles the no-op libraries once for the class."""

    @classmethod
    def setUpClass(cls):
        cls._libdir = tempfile.TemporaryDirectory(prefix="taskleak-lib-", dir=common.SHARED_TMP)
        libdir = os.path.realpath(cls._libdir.name)
        cls.lib = os.path.join(libdir, "libtaskleak.so")
        cls.other1 = os.path.join(libdir, "libother1.so")
        cls.other2 = os.path.join(libdir, "libother2.so")
        if not all(compile_noop_library(path) for path in (cls.lib, cls.other1, cls.other2)):
            cls._libdir.cleanup()
            raise unittest.SkipTest("no C compiler to build a no-op shared object")

    @classmethod
    def tearDownClass(cls):
        cls._libdir.cleanup()

    python = sys.executable         # the target programs' interpreter

    def app(self, *args):
        return [self.python, FAKE_APP] + list(args)

    def each_python(self):
        """for label in self.each_python(): with self.subTest(python=label):
        ... runs the body with each of target_pythons() as self.python, in a
        fresh self.tmp; an absent one is a skipped subtest."""
        outer = self.tmp
        for n, (label, path, why) in enumerate(target_pythons()):
            if path is None:
                with self.subTest(python=label):
                    self.skipTest(why)
                continue
            self.python = path
            self.tmp = os.path.join(outer, "python%d" % n)
            os.mkdir(self.tmp)
            yield label
        self.python, self.tmp = type(self).python, outer


class Run(WithNoopLibrary):

    def run_tl(self, *args, **kwargs):
        env = clean_env(TASKLEAK_LIB=self.lib)
        env.update(kwargs.pop("env", {}))
        kwargs.setdefault("cwd", self.tmp)
        return taskleak("run", *args, env=env, **kwargs)

    def reports_dir(self):
        return os.path.join(self.tmp, "reports")

    def test_summary_of_the_report(self):
        for label in self.each_python():
            with self.subTest(python=label):
                result = self.run_tl("--report-dir", "reports", "--",
                                     *self.app("--report", fixture("swallowed.json")))
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertIn("2 swallowed_cancel leaks of coroutine leaky_worker created at "
                              "/srv/shop/app.py:15\n", result.stdout)
                self.assertTrue(result.stdout.endswith(
                    "SUMMARY: taskleak: 2 leaks (2 swallowed_cancel) in 1 process\n"))
                names = os.listdir(self.reports_dir())
                self.assertEqual(len(names), 1)
                self.assertRegex(names[0], r"^taskleak\.\d+\.json$")

    def test_fail_with_leaks_is_23(self):
        result = self.run_tl("--fail", "--", *self.app("--report", fixture("stuck.json")))
        self.assertEqual(result.returncode, 23, result.stderr)

    def test_fail_without_leaks_is_0(self):
        result = self.run_tl("--fail", "--", *self.app("--report", fixture("clean.json")))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("SUMMARY: taskleak: no leaks in 1 process", result.stdout)

    def test_command_status_passes_through(self):
        result = self.run_tl("--fail", "--", *self.app("--report", fixture("stuck.json"),
                                                       "--exit", "3"))
        self.assertEqual(result.returncode, 3, result.stderr)
        self.assertIn("SUMMARY: taskleak: 2 leaks", result.stdout)

    def test_death_by_signal_is_128_plus_n(self):
        for label in self.each_python():
            with self.subTest(python=label):
                for name, number in (("SIGTERM", 15), ("SIGKILL", 9)):
                    result = self.run_tl("--", *self.app("--report", fixture("clean.json"),
                                                         "--kill", name))
                    self.assertEqual(result.returncode, 128 + number, result.stderr)

    def test_no_report_says_no_tasks_were_seen(self):
        result = self.run_tl("--", *self.app("--exit", "4"))
        self.assertEqual(result.returncode, 4)
        self.assertEqual(result.stderr, "taskleak: no asyncio tasks were seen\n")
        self.assertEqual(result.stdout, "")

    def test_reports_from_before_the_run_are_ignored(self):
        os.makedirs(self.reports_dir())
        shutil.copy(fixture("stuck.json"), os.path.join(self.reports_dir(), "taskleak.1.json"))
        result = self.run_tl("--report-dir", "reports", "--fail", "--", *self.app())
        self.assertEqual(result.returncode, 0)
        self.assertIn("no asyncio tasks were seen", result.stderr)

    def test_whole_process_tree(self):
        for label in self.each_python():
            with self.subTest(python=label):
                result = self.run_tl("--", *self.app("--report", fixture("parent.json"),
                                                     "--child", fixture("child.json")))
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertIn("2 swallowed_cancel leaks of coroutine leaky_worker",
                              result.stdout)
                self.assertIn("SUMMARY: taskleak: 3 leaks (2 swallowed_cancel, "
                              "1 pending_at_exit) in 2 processes", result.stdout)

    def test_default_report_dir(self):
        result = self.run_tl("--", *self.app("--report", fixture("clean.json")))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(len(os.listdir(os.path.join(self.tmp, "taskleak-reports"))), 1)

    def test_ld_preload_is_prepended(self):
        for label in self.each_python():
            with self.subTest(python=label):
                record = os.path.join(self.tmp, "env.json")
                result = self.run_tl("--", *self.app("--record", record),
                                     env={"LD_PRELOAD": "%s %s" % (self.other1, self.other2)})
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertEqual(common.read_json(record)["LD_PRELOAD"],
                                 ":".join([self.lib, self.other1, self.other2]))

    def test_ld_preload_alone(self):
        record = os.path.join(self.tmp, "env.json")
        self.run_tl("--", *self.app("--record", record))
        self.assertEqual(common.read_json(record)["LD_PRELOAD"], self.lib)

    def test_options_are_merged_and_flags_win(self):
        record = os.path.join(self.tmp, "env.json")
        suppressions = os.path.join(self.tmp, "supp.txt")
        with open(suppressions, "w") as stream:
            stream.write("swallowed_cancel:*/vendor/*\n")
        result = self.run_tl(
            "--report-dir", "out", "--grace", "0.5", "--interval", "0", "--no-native",
            "--shutdown-timeout", "2", "--suppressions", "supp.txt", "--",
            *self.app("--record", record),
            env={"TASKLEAK_OPTIONS": "grace=9:verbosity=2:report_path=/elsewhere/x.json"})
        self.assertEqual(result.returncode, 0, result.stderr)
        pieces = common.read_json(record)["TASKLEAK_OPTIONS"].split(":")
        options = dict(piece.split("=", 1) for piece in pieces)
        self.assertEqual(len(pieces), len(options))      # every key once
        self.assertEqual(options, {
            "grace": "0.5", "verbosity": "2", "interval": "0.0", "native": "0",
            "shutdown_timeout": "2.0",
            "report_path": os.path.join(self.tmp, "out", "taskleak.%p.json"),
            "suppressions": suppressions})
        self.assertTrue(os.path.isdir(os.path.join(self.tmp, "out")))

    def test_missing_suppressions_file(self):
        result = self.run_tl("--suppressions", "nope.txt", "--", *self.app())
        self.assertOneErrorLine(result, 2, "nope.txt")

    def test_command_not_found_is_127(self):
        result = self.run_tl("--", "/nonexistent/program", "arg")
        self.assertOneErrorLine(result, 127, "/nonexistent/program")
        self.assertEqual(result.stdout, "")

    def test_no_command(self):
        result = self.run_tl("--")
        self.assertEqual(result.returncode, 2)
        self.assertNotIn("Traceback", result.stderr)

    def install_script(self, script_dir, lib_dir=None, package_dir=None):
        """SCRIPT copied into SCRIPT_DIR, the library into LIB_DIR, and the
        package the script launches into PACKAGE_DIR (as make install does)."""
        os.makedirs(script_dir)
        script = os.path.join(script_dir, "taskleak")
        shutil.copy(SCRIPT, script)
        if package_dir:
            shutil.copytree(PACKAGE, os.path.join(package_dir, "taskleak"),
                            ignore=shutil.ignore_patterns("__pycache__", "lib"))
        if lib_dir:
            os.makedirs(lib_dir, exist_ok=True)
            shutil.copy(self.lib, os.path.join(lib_dir, "libtaskleak.so"))
        return script

    def check_layout(self, script, expected_lib):
        record = os.path.join(self.tmp, "env.json")
        result = taskleak("run", "--", *self.app("--record", record),
                          script=script, cwd=self.tmp)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(common.read_json(record)["LD_PRELOAD"], expected_lib)

    def test_installed_layout(self):
        prefix = os.path.join(self.tmp, "prefix")
        script = self.install_script(os.path.join(prefix, "bin"), os.path.join(prefix, "lib"),
                                     os.path.join(prefix, "lib", "taskleak", "python"))
        self.check_layout(script, os.path.join(prefix, "lib", "libtaskleak.so"))

    def test_source_tree_layout(self):
        tree = os.path.join(self.tmp, "tree")
        script = self.install_script(os.path.join(tree, "scripts"), os.path.join(tree, "build"),
                                     os.path.join(tree, "scripts", "python"))
        self.check_layout(script, os.path.join(tree, "build", "libtaskleak.so"))

    def test_library_not_found(self):
        alone = os.path.join(self.tmp, "alone")
        script = self.install_script(os.path.join(alone, "bin"), None,
                                     os.path.join(alone, "lib", "taskleak", "python"))
        result = taskleak("run", "--", *self.app(), script=script, cwd=self.tmp)
        self.assertOneErrorLine(result, 2, "cannot find libtaskleak.so", "TASKLEAK_LIB")

    def start_serving(self, *args, **kwargs):
        """taskleak run -- fake_app.py --serve READY; returns once the app
        has its signal handlers in place."""
        ready = os.path.join(self.tmp, "ready")
        process = subprocess.Popen(
            [sys.executable, SCRIPT, "run", "--"] + self.app("--serve", ready, *args),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
            env=clean_env(TASKLEAK_LIB=self.lib), cwd=self.tmp, **kwargs)
        self.addCleanup(lambda: process.poll() is None and process.kill())
        wait_until(lambda: os.path.exists(ready) or process.poll() is not None, "the app")
        if process.poll() is not None:
            self.fail("taskleak run ended early: %r" % (process.communicate(),))
        return process, ready

    def test_sigterm_and_sigint_are_forwarded(self):
        for label in self.each_python():
            with self.subTest(python=label):
                for signum in (signal.SIGTERM, signal.SIGINT):
                    process, ready = self.start_serving()
                    os.kill(process.pid, signum)
                    stdout, stderr = process.communicate(timeout=TIMEOUT)
                    # The app exited 100+N from its handler, and taskleak
                    # survived the signal to pass that status on.
                    self.assertEqual(process.returncode, 100 + signum, stderr)
                    self.assertIn("no asyncio tasks were seen", stderr)
                    os.unlink(ready)

    def test_terminal_sigint_is_not_sent_twice(self):
        try:
            import fcntl
            import pty
            import termios
            master, slave = pty.openpty()
        except (ImportError, OSError) as error:
            self.skipTest("no pseudo-terminal: %s" % error)
        self.addCleanup(os.close, master)

        def take_terminal():
            # New session with the pty as controlling terminal: taskleak and
            # the app become its foreground process group, as in a shell.
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        try:
            process, ready = self.start_serving("--count-sigints", stdin=slave,
                                                start_new_session=True,
                                                preexec_fn=take_terminal)
        except (OSError, subprocess.SubprocessError) as error:
            self.skipTest("cannot give the test a controlling terminal: %s" % error)
        finally:
            os.close(slave)
        os.write(master, b"\x03")        # Ctrl-C: the kernel signals the group
        wait_until(lambda: os.path.exists(ready + ".sigint1"), "the Ctrl-C")
        os.kill(process.pid, signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=TIMEOUT)
        # One SIGINT seen (the terminal's), none forwarded on top of it.
        self.assertEqual(process.returncode, 100 + signal.SIGTERM + 1, stderr)
        self.assertFalse(os.path.exists(ready + ".sigint2"))


class RunnerSignals(unittest.TestCase):
    """tests/common.py gives every runner, and so the programs it starts,
    SIGINT and SIGQUIT's defaults, even when the run itself was started with
    them ignored (a background job of a shell without job control)."""

    def test_runner_restores_ignored_signals(self):
        probe = ("import signal, sys; sys.path.insert(0, %r); import common; "
                 "print(signal.getsignal(signal.SIGINT) is signal.default_int_handler, "
                 "signal.getsignal(signal.SIGQUIT) == signal.SIG_DFL)"
                 % os.path.dirname(HERE))

        def ignore():
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGQUIT, signal.SIG_IGN)
        out = subprocess.run([sys.executable, "-c", probe], preexec_fn=ignore,
                             stdout=subprocess.PIPE, universal_newlines=True, timeout=TIMEOUT)
        self.assertEqual(out.stdout.split(), ["True", "True"], out)


class Dump(WithNoopLibrary):
    ready_files = itertools.count()

    def start_target(self, options, *args, **kwargs):
        """fake_app.py as a process 'under taskleak'; returns once it listens."""
        ready = os.path.join(self.tmp, "ready.%d" % next(self.ready_files))
        env = clean_env(TASKLEAK_OPTIONS=options)
        if kwargs.pop("preloaded", True):
            env["LD_PRELOAD"] = self.lib
        target = subprocess.Popen(self.app("--ready", ready, *args), env=env,
                                  cwd=kwargs.pop("cwd", self.tmp))
        self.addCleanup(target.wait)
        self.addCleanup(lambda: target.poll() is None and target.kill())
        wait_until(lambda: os.path.exists(ready) or target.poll() is not None, "the target")
        self.assertIsNone(target.poll())
        return target

    def dump(self, pid, *args):
        return taskleak("dump", str(pid), *args, cwd=self.tmp)

    def test_dump_prints_live_tasks(self):
        for label in self.each_python():
            with self.subTest(python=label):
                path = os.path.join(self.tmp, "tl.%p.json")
                target = self.start_target("report_path=%s:verbosity=0" % path,
                                           "--report", fixture("stuck.json"),
                                           "--snapshot", fixture("signal.json"))
                for attempt in range(2):      # the second waits for a newer snapshot
                    result = self.dump(target.pid, "--timeout", str(TIMEOUT))
                    self.assertEqual(result.returncode, 0, result.stderr)
                    out = result.stdout
                    self.assertTrue(out.startswith("taskleak: pid %d (python3 server.py): 3 live tasks at t="
                                                   % target.pid), out)
                    self.assertIn("\nTask-1 (coroutine main, id 1) pending\n", out)
                    self.assertIn("\nTask-2 (coroutine serve_client, id 2) pending\n", out)
                    self.assertIn("\nTask-3 (coroutine drain, id 3) pending\n", out)
                    self.assertIn("  created at /srv/shop/server.py:44 in main, t=0.003s\n", out)
                    self.assertIn("  suspended at /srv/shop/server.py:20 in flush\n"
                                  "    #0 /usr/lib/python3.11/asyncio/tasks.py:639 in sleep\n"
                                  "    #1 /srv/shop/server.py:20 in flush\n"
                                  "    #2 /srv/shop/server.py:38 in drain\n", out)
                    self.assertIn("  awaited by Task-1 (id 1)\n", out)
                    self.assertIn("  cancelled at /srv/shop/server.py:49 in main (message: 'shutdown'), t=10.0s\n", out)
                    self.assertIn("  never cancelled\n", out)
                    self.assertIn("1 leak so far (1 stuck_after_cancel)", out)

    def test_relative_report_path_and_named_signal(self):
        for label in self.each_python():
            with self.subTest(python=label):
                workdir = os.path.join(self.tmp, "work")
                os.makedirs(os.path.join(workdir, "reports"))
                target = self.start_target("report_path=reports/tl.%p.json:dump_signal=USR1",
                                           "--snapshot", fixture("signal.json"),
                                           "--dump-signal", "SIGUSR1", cwd=workdir)
                result = self.dump(target.pid, "--timeout", str(TIMEOUT))
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertIn("Task-3 (coroutine drain, id 3) pending", result.stdout)
                self.assertTrue(os.path.exists(os.path.join(workdir, "reports", "tl.%d.json" % target.pid)))

    def test_a_report_left_by_an_earlier_process_with_the_same_pid(self):
        # pids are reused: the report at the path may be a dead process's
        # snapshot, with a later "t" than any the new one writes.
        path = os.path.join(self.tmp, "tl.%p.json")
        target = self.start_target("report_path=%s:verbosity=0" % path,
                                   "--snapshot", fixture("signal.json"))
        with open(fixture("signal.json")) as stream:
            stale = json.load(stream)
        stale.update(pid=target.pid, t=86400.0, argv=["python3", "earlier.py"])
        with open(path.replace("%p", str(target.pid)), "w") as stream:
            json.dump(stale, stream)
        result = self.dump(target.pid, "--timeout", str(TIMEOUT))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(result.stdout.startswith("taskleak: pid %d (python3 server.py): "
                                                 % target.pid), result.stdout)

    def test_timeout_is_status_1(self):
        target = self.start_target("report_path=%s/tl.%%p.json" % self.tmp, "--ignore-dump")
        result = self.dump(target.pid, "--timeout", "0.3")
        self.assertOneErrorLine(result, 1, "process %d wrote no snapshot" % target.pid)

    def test_dumping_disabled(self):
        target = self.start_target("dump_signal=none", "--ignore-dump")
        result = self.dump(target.pid)
        self.assertOneErrorLine(result, 2, "dump_signal=none")

    def test_process_not_under_taskleak(self):
        # dump attaches to a process started without the library; this one
        # runs Python but no asyncio: one line, status 2, the process runs on.
        for label in self.each_python():
            with self.subTest(python=label):
                target = self.start_target("", "--ignore-dump", preloaded=False)
                result = self.dump(target.pid)
                self.assertOneErrorLine(result, 2, "process %d does not use asyncio" % target.pid)
                self.assertIsNone(target.poll())

    def test_never_kills_a_process_that_does_not_handle_the_signal(self):
        # LD_PRELOAD reaches every child, a shell or `sleep` too, where the
        # library does nothing: SIGUSR2 would terminate them.
        target = subprocess.Popen(["sleep", "60"], env=clean_env(LD_PRELOAD=self.lib))
        self.addCleanup(target.wait)
        self.addCleanup(target.kill)
        wait_until(lambda: self.lib in read_environ_text(target.pid), "the exec of sleep")
        result = self.dump(target.pid, "--timeout", "0.3")
        self.assertOneErrorLine(result, 2, "does not handle SIGUSR2")
        self.assertIsNone(target.poll())

    def test_no_such_process(self):
        with open("/proc/sys/kernel/pid_max") as stream:
            pid = int(stream.read())          # pids are always below pid_max
        result = self.dump(pid)
        self.assertOneErrorLine(result, 2, "no running process with pid %d" % pid)

    def test_exited_process(self):
        for label in self.each_python():
            with self.subTest(python=label):
                target = subprocess.Popen([self.python, "-c", "pass"],
                                          env=clean_env(LD_PRELOAD=self.lib))
                self.addCleanup(target.wait)
                wait_until(lambda: common.process_state(target.pid) == "Z", "the zombie")
                result = self.dump(target.pid)
                self.assertOneErrorLine(result, 2, "no running process with pid %d" % target.pid)


if __name__ == "__main__":
    unittest.main()
