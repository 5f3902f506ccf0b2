# SPDX-License-Identifier: MIT
"""`taskleak metrics` and taskleak.metrics: the exposition text of a report
is the library's (collector/metrics.c): the same program label (compared
with the library's own function, linked from the parts archive), families,
HELP texts and label escaping; promtool accepts it when installed."""

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
from taskleak import metrics  # noqa: E402
from taskleak.model import Report, parse_report  # noqa: E402

FIXTURES = os.path.join(HERE, "fixtures")
SCRIPT = os.path.join(REPO, "scripts", "taskleak")
PARTS = os.path.join(REPO, "build", "libtaskleak-parts.a")

ARGVS = [["python3", "app.py"],
         ["/usr/bin/python3.14", "-X", "dev", "-u", "/srv/shop/server.py", "--port", "1"],
         ["python3", "-m", "pytest", "-q"], ["python3", "-mpytest"],
         ["python3", "-c", "import x"], ["python3"], ["python3", "-W", "error", "-"],
         ["/usr/local/bin/gunicorn", "app:main"], ["python3.11d", "--", "x.py"], []]


def fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as stream:
        return Report(name, parse_report(stream.read()))


def cli(*args):
    return subprocess.run([sys.executable, SCRIPT] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=60)


HARNESS = r"""
#include <stdio.h>
#include <string.h>
#include "collector/metrics.h"
int main(int argc, char **argv)
{
    char joined[4096], out[256];
    for (int i = 1; i < argc; i++) {   /* each argument: words separated by \1 */
        size_t n = strlen(argv[i]);
        memcpy(joined, argv[i], n + 1);
        for (size_t k = 0; k < n; k++)
            if (joined[k] == 1)
                joined[k] = 0;
        tl_metrics_program(joined, n ? n + 1 : 0, out, sizeof out);
        printf("%s\n", out);
    }
    return 0;
}
"""


class ProgramLabel(unittest.TestCase):

    def test_same_as_the_library(self):
        compiler = shutil.which("cc")
        if compiler is None or not os.path.exists(PARTS):
            self.skipTest("needs cc and %s (make)" % PARTS)
        tmp = tempfile.mkdtemp(prefix="taskleak-metrics-")
        self.addCleanup(shutil.rmtree, tmp, True)
        with open(os.path.join(tmp, "h.c"), "w") as stream:
            stream.write(HARNESS)
        program = os.path.join(tmp, "h")
        built = subprocess.run([compiler, "-std=c11", "-D_GNU_SOURCE", "-I", os.path.join(REPO, "shim"),
                                "-I", REPO, "-o", program, os.path.join(tmp, "h.c"), PARTS,
                                "-lunwind", "-ljansson", "-ldl", "-lm", "-pthread"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               universal_newlines=True)
        self.assertEqual(built.returncode, 0, built.stdout)
        out = subprocess.run([program] + ["\1".join(a) for a in ARGVS], stdout=subprocess.PIPE,
                             universal_newlines=True, check=True).stdout.split("\n")
        for argv, library in zip(ARGVS, out):
            self.assertEqual(metrics.program_label(argv), library, argv)

    def test_cases(self):
        labels = [metrics.program_label(a) for a in ARGVS]
        self.assertEqual(labels, ["app.py", "server.py", "pytest", "pytest", "-c", "python3",
                                  "-", "gunicorn", "x.py", "unknown"])


class Exposition(unittest.TestCase):

    def test_families_and_values(self):
        report = fixture("stuck.json")
        report.stats["hooks"] = {"spawn": {"calls": 3, "ns": 1500000001},
                                 "cancel": {"calls": 1, "ns": 20}, "total": {"calls": 4, "ns": 1}}
        text = metrics.exposition([report])
        lines = text.splitlines()
        types = [l.split()[2] for l in lines if l.startswith("# TYPE ")]
        self.assertEqual(types, [n for n, _, _ in metrics.FAMILIES
                                 if n not in metrics.NOT_IN_A_REPORT])
        self.assertIn('taskleak_leaks_total{pid="7310",program="shutdown.py",'
                      'kind="stuck_after_cancel"} 2', lines)
        # one of the two was resolved (ended cancelled later): stuck now is 1
        self.assertIn('taskleak_stuck_tasks{pid="7310",program="shutdown.py"} 1', lines)
        self.assertIn('taskleak_hook_seconds_total{pid="7310",program="shutdown.py",'
                      'hook="spawn"} 1.500000001', lines)
        self.assertIn('taskleak_hook_calls_total{pid="7310",program="shutdown.py",'
                      'hook="cancel"} 1', lines)
        self.assertFalse([l for l in lines if 'hook="total"' in l])

    def test_help_texts_are_the_librarys(self):
        with open(os.path.join(REPO, "collector", "metrics.c")) as stream:
            source = stream.read()
        library = re.findall(r'family\(&t, "(\w+)", "(\w+)",\s*"([^"]+)"\);', source)
        self.assertEqual(tuple(library), metrics.FAMILIES)

    def test_one_series_set_per_process(self):
        text = metrics.exposition([fixture("parent.json"), fixture("child.json")])
        self.assertEqual(text.count("# TYPE taskleak_leaks_total counter"), 1)
        pids = set(re.findall(r'pid="(\d+)"', text))
        self.assertEqual(len(pids), 2)

    def test_label_escaping(self):
        self.assertEqual(metrics.escape_label('a"b\\c\nd'), 'a\\"b\\\\c\\nd')

    def test_promtool_accepts_it(self):
        if not shutil.which("promtool"):
            self.skipTest("promtool not installed (Debian: prometheus)")
        for names in (["swallowed.json"], ["parent.json", "child.json"], ["signal.json"],
                      ["section8/hang.json"]):
            text = metrics.exposition([fixture(n) for n in names])
            checked = subprocess.run(["promtool", "check", "metrics"], input=text,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     universal_newlines=True, timeout=60)
            self.assertEqual(checked.returncode, 0, checked.stdout)


class Docs(unittest.TestCase):

    def test_docs_metrics_md(self):
        """Its rules and config pass promtool; its table lists every family."""
        if not shutil.which("promtool"):
            self.skipTest("promtool not installed (Debian: prometheus)")
        with open(os.path.join(REPO, "docs", "metrics.md")) as stream:
            page = stream.read()
        blocks = re.findall(r"```yaml\n(.*?)```", page, re.S)
        rules = [b for b in blocks if b.startswith("# taskleak.rules.yml")]
        self.assertEqual(len(rules), 1, "docs/metrics.md: one taskleak.rules.yml block")
        tmp = tempfile.mkdtemp(prefix="taskleak-rules-")
        self.addCleanup(shutil.rmtree, tmp, True)
        path = os.path.join(tmp, "taskleak.rules.yml")
        with open(path, "w") as stream:
            stream.write(rules[0])
        checked = subprocess.run(["promtool", "check", "rules", path], stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, universal_newlines=True, timeout=60)
        self.assertEqual(checked.returncode, 0, checked.stdout)
        config = [b for b in blocks if b.startswith("# prometheus.yml")]
        with open(os.path.join(tmp, "prometheus.yml"), "w") as stream:
            stream.write(config[0])
        checked = subprocess.run(["promtool", "check", "config", "prometheus.yml"], cwd=tmp,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 universal_newlines=True, timeout=60)
        self.assertEqual(checked.returncode, 0, checked.stdout)
        families = re.findall(r"^\| `(taskleak_\w+)", page, re.M)
        self.assertEqual(families, [n for n, _, _ in metrics.FAMILIES])


class Command(unittest.TestCase):

    def test_prints_the_exposition(self):
        done = cli("metrics", os.path.join(FIXTURES, "swallowed.json"))
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout, metrics.exposition([fixture("swallowed.json")]))

    def test_merged_document_is_refused(self):
        tmp = tempfile.mkdtemp(prefix="taskleak-metrics-")
        self.addCleanup(shutil.rmtree, tmp, True)
        merged = os.path.join(tmp, "merged.json")
        with open(merged, "w") as stream:
            stream.write(cli("report", "--format", "json",
                             os.path.join(FIXTURES, "swallowed.json")).stdout)
        done = cli("metrics", merged)
        self.assertEqual(done.returncode, 2)
        self.assertIn("merged document", done.stderr)
        self.assertEqual(done.stdout, "")

    def test_not_a_report(self):
        done = cli("metrics", os.path.join(FIXTURES, "not_json.txt"))
        self.assertEqual(done.returncode, 2)
        self.assertEqual(done.stdout, "")


if __name__ == "__main__":
    unittest.main()
