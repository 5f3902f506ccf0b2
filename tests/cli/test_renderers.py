# SPDX-License-Identifier: MIT
"""The renderers, imported directly (taskleak.render): each format behind
the one interface, on the fixtures the golden CLI tests use.  The text
renderer must produce the golden files byte for byte, as `taskleak report`
does."""

import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "scripts", "python"))
from taskleak import render  # noqa: E402
from taskleak.contract import KINDS, SCHEMA  # noqa: E402
from taskleak.model import Report, group_leaks, parse_report, total_counts  # noqa: E402
from taskleak.render.json import JsonRenderer  # noqa: E402
from taskleak.render.sarif import SarifRenderer  # noqa: E402
from taskleak.render.text import TextRenderer  # noqa: E402

FIXTURES = os.path.join(HERE, "fixtures")
GOLDEN = os.path.join(HERE, "golden")
SRC_ROOT = "/srv/shop"


def fixture(name):
    """The fixture as a Report, named as `taskleak report` names it when run
    in the fixtures directory."""
    with open(os.path.join(FIXTURES, name), "rb") as stream:
        return Report(name, parse_report(stream.read()))


def golden(name):
    with open(os.path.join(GOLDEN, name + ".txt")) as stream:
        return stream.read()


class Interface(unittest.TestCase):

    def test_registry_order_and_classes(self):
        renderers = render.renderers()
        self.assertEqual(list(renderers), ["text", "json", "sarif", "html"])
        self.assertIs(renderers["text"], TextRenderer)
        for name, cls in renderers.items():
            self.assertTrue(issubclass(cls, render.Renderer), name)
            self.assertEqual(cls.name, name)

    def test_every_renderer_takes_every_report_option(self):
        reports = [fixture("swallowed.json")]
        for name in render.renderers():
            out = render.create(name, root=SRC_ROOT, native=True, fold=False,
                                max_tasks=0).render(reports)
            self.assertIsInstance(out, str)
            self.assertTrue(out.endswith("\n"), name)

    def test_unknown_format(self):
        with self.assertRaises(KeyError):
            render.create("xml")

    def test_base_class_is_abstract(self):
        with self.assertRaises(NotImplementedError):
            render.Renderer().render([])


class Text(unittest.TestCase):
    maxDiff = None

    def test_golden_files(self):
        cases = [("swallowed", ["swallowed.json"], {}),
                 ("stuck", ["stuck.json"], {}),
                 ("signal", ["signal.json"], {}),
                 ("shutdown", ["shutdown.json"], {}),
                 ("parent_child", ["parent.json", "child.json"], {}),
                 ("destroyed_native", ["destroyed.json"], {"native": True}),
                 ("swallowed_no_fold", ["swallowed.json"], {"fold": False}),
                 ("max_tasks", ["swallowed.json", "pending_at_exit.json"], {"max_tasks": 1})]
        for name, files, options in cases:
            with self.subTest(golden=name):
                out = TextRenderer(SRC_ROOT, **options).render([fixture(f) for f in files])
                self.assertEqual(out, golden(name))

    def test_an_opaque_awaitable_is_named_under_where_the_task_waits(self):
        report = fixture("stuck.json")
        leak = report.leaks[0]
        leak["awaiting_opaque"] = {"type": "_cython_3_1_6.coroutine_wrapper"}
        lines = TextRenderer(SRC_ROOT).render([report]).splitlines()
        at = [i for i, line in enumerate(lines) if "suspended at" in line][0]
        self.assertEqual(lines[at + 1].strip(), "awaiting a _cython_3_1_6.coroutine_wrapper, "
                                                "which taskleak cannot look into")
        log = json.loads(SarifRenderer(root=SRC_ROOT).render([report]))
        messages = [stack["message"]["text"] for result in log["runs"][0]["results"]
                    for stack in result.get("stacks", [])]
        self.assertIn("where the task is suspended (then awaiting a "
                      "_cython_3_1_6.coroutine_wrapper, which taskleak cannot look into)", messages)

    def test_group_lines_name_the_coroutine_site_and_fix(self):
        report = fixture("swallowed.json")
        renderer = TextRenderer(SRC_ROOT)
        groups = group_leaks([report], SRC_ROOT)
        lines = renderer.group_lines(groups[0])
        self.assertRegex(lines[0], r"^\d+ swallowed_cancel leaks? of coroutine \S+ created at \S+:\d+$")
        self.assertTrue(lines[-1].startswith("  fix: re-raise CancelledError"), lines[-1])


class Json(unittest.TestCase):

    def test_merged_document_is_a_report_of_both_processes(self):
        reports = [fixture("parent.json"), fixture("child.json")]
        doc = json.loads(JsonRenderer().render(reports))
        self.assertEqual((doc["tool"], doc["schema"], doc["merged"]), ("taskleak", SCHEMA, True))
        self.assertEqual([r["pid"] for r in doc["reports"]], [5000, 5001])
        self.assertEqual(sorted(set(leak["pid"] for leak in doc["leaks"])), [5000, 5001])
        self.assertEqual(sum(doc["stats"]["leaks"].values()),
                         sum(total_counts(reports).values()))
        self.assertEqual(set(doc["stats"]["leaks"]), set(KINDS))
        again = Report("-", parse_report(json.dumps(doc).encode()))
        self.assertEqual(again.processes, 2)


class Sarif(unittest.TestCase):

    def test_log(self):
        reports = [fixture("swallowed.json"), fixture("stuck.json")]
        log = json.loads(SarifRenderer(root=SRC_ROOT).render(reports))
        self.assertEqual(log["version"], "2.1.0")
        run = log["runs"][0]
        self.assertEqual([rule["id"] for rule in run["tool"]["driver"]["rules"]],
                         list(KINDS) + ["deadlock"])
        self.assertEqual(len(run["results"]), sum(len(r.leaks) for r in reports))
        self.assertEqual(run["originalUriBaseIds"]["%SRCROOT%"]["uri"], "file:///srv/shop/")
        for result in run["results"]:
            self.assertIn(result["ruleId"], KINDS)
            self.assertEqual(result["level"],
                             "error" if result["ruleId"] in ("swallowed_cancel",
                                                             "stuck_after_cancel") else "warning")
            location = result["locations"][0]["physicalLocation"]["artifactLocation"]
            self.assertEqual(location.get("uriBaseId"), "%SRCROOT%", location)

    def test_blocked_shutdown_is_a_result(self):
        """A shutdown report is one result of rule shutdown_blocked, at its
        first blocker (main's suspension), with the other blockers related
        and the waited threads' stacks."""
        log = json.loads(SarifRenderer(root=SRC_ROOT).render([fixture("shutdown.json")]))
        run = log["runs"][0]
        rules = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
        self.assertEqual(rules, list(KINDS) + ["deadlock", "shutdown_blocked"])
        blocked = [r for r in run["results"] if r["ruleId"] == "shutdown_blocked"]
        self.assertEqual(len(blocked), 1)
        result = blocked[0]
        self.assertEqual(result["ruleIndex"], len(KINDS) + 1)  # after the deadlock rule
        self.assertEqual(result["message"]["text"],
                         "Shutdown blocked for 10.0 s after SIGTERM by Task-1 (main), thread "
                         "asyncio_0, thread ThreadPoolExecutor-1_0, thread uploader.")
        where = result["locations"][0]["physicalLocation"]
        self.assertEqual((where["artifactLocation"]["uri"], where["region"]["startLine"]),
                         ("server.py", 52))
        related = [(l["physicalLocation"]["artifactLocation"]["uri"],
                    l["physicalLocation"]["region"]["startLine"]) for l in result["relatedLocations"]]
        self.assertEqual(related, [("jobs.py", 24), ("server.py", 12)])
        self.assertEqual(len(result["stacks"]), 3)
        # A periodic report has no such result, nor the rule.
        run = json.loads(SarifRenderer(root=SRC_ROOT).render([fixture("signal.json")]))["runs"][0]
        self.assertEqual(len(run["tool"]["driver"]["rules"]), len(KINDS) + 1)  # kinds, deadlock


if __name__ == "__main__":
    unittest.main()
