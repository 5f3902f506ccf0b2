# SPDX-License-Identifier: MIT
"""The HTML renderer without a browser (tests/cli/html_browser.py drives
one): the page is self-contained and small, report text cannot become
markup, the page's data says what the reports say (groups, tasks, the
spec's section 8 fields when present, nothing when absent), and the
`report --format html`, `run --html` entry points write it."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "scripts", "python"))
from taskleak.model import Report, group_leaks, parse_report  # noqa: E402
from taskleak.render.html import HtmlRenderer, PageModel  # noqa: E402
from taskleak.render.html_assets import CSS, SCRIPT  # noqa: E402

FIXTURES = os.path.join(HERE, "fixtures")
SCRIPT_PATH = os.path.join(REPO, "scripts", "taskleak")
ROOT = "/srv/shop"


def fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as stream:
        return Report(name, parse_report(stream.read()))


def page_data(page):
    match = re.search(r'<script type="application/json" id="taskleak-data">(.*?)</script>',
                      page, re.S)
    return json.loads(match.group(1))


def render(*names):
    return HtmlRenderer(ROOT).render([fixture(n) for n in names])


class SelfContained(unittest.TestCase):

    def test_nothing_fetched(self):
        page = render("swallowed.json", "section8/hang.json")
        self.assertFalse(re.search(r"<(link|img|iframe|object|embed)\b", page, re.I))
        self.assertFalse(re.search(r"\b(src|href)\s*=\s*[\"']?(https?:|//)", page, re.I))
        self.assertNotIn("@import", CSS)
        for call in ("fetch(", "XMLHttpRequest", "import(", "WebSocket", "EventSource"):
            self.assertNotIn(call, SCRIPT)

    def test_small(self):
        self.assertLess(len(CSS) + len(SCRIPT), 64 * 1024)
        self.assertLess(len(render("swallowed.json")), 80 * 1024)

    def test_report_text_cannot_become_markup(self):
        report = fixture("swallowed.json")
        evil = "</script><script>alert(1)</script><!--"
        report.doc["leaks"][0]["task"]["coro"] = evil
        report.doc["leaks"][0]["task"]["name"] = "<img src=x onerror=alert(1)>"
        report.doc["argv"] = ["python3", "<b>x</b>"]
        page = HtmlRenderer(ROOT).render([report])
        self.assertEqual(page.count("</script>"), 2)     # the data's end and the script's
        self.assertNotIn("<img", page)
        self.assertNotIn("<b>x", page)
        data = page_data(page)
        self.assertIn(evil, [t["co"] for t in data["tasks"]])
        self.assertNotIn("innerHTML", SCRIPT)
        self.assertNotIn("insertAdjacentHTML", SCRIPT)


class Data(unittest.TestCase):

    def test_groups_and_tasks_are_the_reports(self):
        reports = [fixture(n) for n in ("swallowed.json", "parent.json", "child.json",
                                        "stuck.json", "destroyed.json")]
        data = page_data(HtmlRenderer(ROOT).render(reports))
        groups = group_leaks(reports, ROOT)
        self.assertEqual([(g["k"], g["co"], g["site"], len(g["m"])) for g in data["groups"]],
                         [(k, c, s, len(m)) for k, c, s, m in groups])
        leaks = [(r.pid_of(l), l["task"]["id"], l["kind"]) for r in reports for l in r.leaks]
        self.assertEqual(sorted((t["p"], t["id"], t["k"]) for t in data["tasks"] if "k" in t),
                         sorted(leaks))
        for group in data["groups"]:
            for index in group["m"]:
                self.assertEqual(data["tasks"][index]["k"], group["k"])

    def test_stacks_are_interned(self):
        report = fixture("swallowed.json")
        one = report.doc["leaks"][0]
        report.doc["leaks"] = [dict(one, task=dict(one["task"], id=i)) for i in range(2000)]
        report.leaks = report.doc["leaks"]
        page = HtmlRenderer(ROOT).render([report])
        data = page_data(page)
        self.assertEqual(len([t for t in data["tasks"] if "k" in t]), 2000)
        self.assertLessEqual(len(data["stacks"]), 4)
        self.assertLess(len(page), 2000 * 400)

    def test_section_8_fields(self):
        data = page_data(render("section8/hang.json"))
        tasks = dict((t["id"], t) for t in data["tasks"])
        self.assertEqual(tasks[2]["w"]["kind"], "lock")
        self.assertEqual(tasks[2]["w"]["held_by"], [3])
        self.assertIn("deadlock", tasks[2]["w"]["never"])
        self.assertEqual(tasks[1]["w"]["tasks"], [2, 3, 4, 5])
        self.assertEqual(tasks[6]["w"]["deadline"], 16.0)
        self.assertEqual(tasks[5]["k"], "stuck_after_cancel")   # a leak, live in the snapshot too
        self.assertEqual(tasks[5]["live"], 1)
        self.assertEqual(tasks[2]["by"], 1)
        proc = data["procs"][0]
        self.assertEqual(proc["r"], "shutdown")
        self.assertEqual(proc["dl"][0]["tasks"], [2, 3])
        self.assertEqual(proc["dl"][0]["edges"][0]["from"], 2)
        self.assertEqual(proc["th"][0]["f"]["exit_waits"], True)

    def test_without_section_8_fields(self):
        data = page_data(render("signal.json", "swallowed.json"))
        self.assertFalse([t for t in data["tasks"] if "w" in t])
        self.assertFalse([p for p in data["procs"] if "dl" in p or "th" in p])

    def test_pytest_session(self):
        report = fixture("swallowed.json")
        leak = report.leaks[0]
        report.doc["pytest"] = {"mode": "fail", "tests": {"test_app.py::test_one": [
            {"kind": leak["kind"], "task_id": leak["task"]["id"], "task": leak["task"]["name"],
             "coro": leak["task"]["coro"], "context": None, "verdict": "fail"}]},
            "outside_tests": [], "problem": None}
        data = page_data(HtmlRenderer(ROOT).render([report]))
        self.assertEqual(data["tests"], [["test_app.py::test_one", {leak["kind"]: 1}, ["fail"]]])
        tested = [t for t in data["tasks"] if t.get("te")]
        self.assertEqual([(t["id"], t["te"], t["v"]) for t in tested],
                         [(leak["task"]["id"], "test_app.py::test_one", "fail")])

    def test_odd_values_do_not_break_it(self):
        report = fixture("swallowed.json")
        leak = report.doc["leaks"][0]
        leak["created"]["t"] = float("nan")
        leak["cancels"][0]["python_stack"] = "not a list"
        leak["task"]["id"] = None
        report.doc["deadlocks"] = [{"tasks": "x", "edges": [[1, 2], "odd", {"from": 1}]}]
        report.doc["threads"] = ["odd", {"name": 5}]
        data = page_data(HtmlRenderer(ROOT).render([report]))
        self.assertIsNone(data["tasks"][0]["ct"])


class EntryPoints(unittest.TestCase):

    def test_report_format_html(self):
        done = subprocess.run([sys.executable, SCRIPT_PATH, "report", "--format", "html",
                               os.path.join(FIXTURES, "swallowed.json")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertTrue(done.stdout.startswith("<!DOCTYPE html>"))
        self.assertIn("SUMMARY: taskleak: 2 leaks (2 swallowed_cancel) in 1 process",
                      done.stdout)

    def test_run_html(self):
        tmp = tempfile.mkdtemp(prefix="taskleak-html-")
        self.addCleanup(shutil.rmtree, tmp, True)
        library = os.path.join(REPO, "build", "libtaskleak.so")
        if not os.path.exists(library):
            self.skipTest("no %s (make)" % library)
        page = os.path.join(tmp, "out", "page.html")
        done = subprocess.run([sys.executable, SCRIPT_PATH, "run", "--report-dir",
                               os.path.join(tmp, "r"), "--html", page, "--",
                               sys.executable, os.path.join(REPO, "tests", "demo",
                                                            "leaky_worker.py")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp,
                              env=dict(os.environ, TASKLEAK_LIB=library),
                              universal_newlines=True, timeout=120)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("taskleak: HTML report: %s" % page, done.stderr)
        with open(page, encoding="utf-8") as stream:
            data = page_data(stream.read())
        self.assertEqual([(g["k"], g["co"]) for g in data["groups"]],
                         [("swallowed_cancel", "leaky_worker")])


if __name__ == "__main__":
    unittest.main()
