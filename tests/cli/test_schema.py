# SPDX-License-Identifier: MIT
"""docs/report.schema.json: a valid draft 2020-12 schema that every complete
report fixture matches, and that rejects the fixtures made to be broken.
(tests/e2e/run.py validates every report the library writes in the e2e
scenarios against it.)  Needs jsonschema (Debian: python3-jsonschema)."""

import copy
import json
import os
import unittest

try:
    import jsonschema
except ImportError:
    jsonschema = None

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(HERE, "fixtures")
SCHEMA = os.path.join(REPO, "docs", "report.schema.json")
VALID = ["child.json", "clean.json", "destroyed.json", "parent.json", "pending_at_exit.json",
         "shutdown.json", "signal.json", "stuck.json", "swallowed.json"]
INVALID = ["garbage.json", "minimal.json", "other_tool.json", "wrong_schema.json"]


def load(name):
    with open(os.path.join(FIXTURES, name)) as stream:
        return json.load(stream)


@unittest.skipIf(jsonschema is None, "jsonschema is not importable (Debian: python3-jsonschema)")
class ReportSchema(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        with open(SCHEMA) as stream:
            cls.schema = json.load(stream)
        jsonschema.Draft202012Validator.check_schema(cls.schema)
        cls.validator = jsonschema.Draft202012Validator(cls.schema)

    def errors(self, doc):
        return ["%s: %s" % ("/".join(map(str, e.absolute_path)), e.message)
                for e in self.validator.iter_errors(doc)]

    def test_every_json_fixture_is_classified(self):
        names = sorted(n for n in os.listdir(FIXTURES) if n.endswith(".json"))
        self.assertEqual(names, sorted(VALID + INVALID))

    def test_complete_reports_match(self):
        for name in VALID:
            with self.subTest(fixture=name):
                self.assertEqual(self.errors(load(name)), [])

    def test_broken_reports_do_not(self):
        for name in INVALID:
            with self.subTest(fixture=name):
                self.assertNotEqual(self.errors(load(name)), [])

    def test_extensions(self):
        doc = load("swallowed.json")
        leak = doc["leaks"][0]
        leak["created"].update(t=None, before_attach=True)
        leak["cancels"].append({"t": None, "message": None, "python_stack": [],
                                "before_attach": True})
        leak["context"] = {"taskleak.test": "tests/test_x.py::test_a"}
        leak["holds"] = [{"kind": "socket", "fd": 7, "variable": "sock", "function": "serve",
                          "family": "AF_INET", "local": "127.0.0.1:1", "peer": None},
                         {"kind": "file", "fd": 8, "variable": "f", "function": "flush",
                          "path": "/var/log/app.log"}]
        leak["cpython_bug"] = {"id": "gh-86296", "where": "asyncio.wait_for", "fixed_in": "3.12",
                               "summary": "s", "advice": "a"}
        leak["cancels"][0].update(scope=None, forwarded_from=3, caught_at=None,
                                  delivered_at=[{"function": "f", "file": "/a.py", "line": 1}])
        doc.update(reason="request", provenance={"caught_at": "recorded"}, incomplete=None,
                   suppressions=[{"kind": "swallowed_cancel", "pattern": "*/anyio/*", "hits": 2,
                                  "builtin": True, "reason": "anyio.to_process shutdown"},
                                 {"kind": "*", "pattern": "legacy_*", "hits": 0},
                                 {"kind": "scope", "pattern": "mylib.timeouts", "hits": 0}])
        hook = {"calls": 1, "ns": 10}
        doc["stats"]["hooks"] = dict((h, hook) for h in ("spawn", "cancel", "uncancel", "destroy",
                                                        "exception_handled", "total"))
        doc["stats"]["hooks"]["collect"] = {"calls": 3, "ns": 900, "max_ns": 400}
        self.assertEqual(self.errors(doc), [])

    def test_what_the_library_never_writes_is_rejected(self):
        base = load("swallowed.json")
        cases = {
            "an unknown kind": lambda d: d["leaks"][0].update(kind="leaked"),
            "an unknown top-level field": lambda d: d.update(extra=1),
            "a context variable not named taskleak.*": lambda d: d["leaks"][0].update(
                context={"request_id": "x"}),
            "a built-in suppression without its reason": lambda d: d.update(
                suppressions=[{"kind": "*", "pattern": "p", "hits": 0, "builtin": True}]),
            "an unknown reason": lambda d: d.update(reason="sometimes"),
            "a signal snapshot without live_tasks": lambda d: d.update(reason="signal"),
            "an asked-for snapshot without live_tasks": lambda d: d.update(reason="snapshot"),
            "a shutdown report without threads": lambda d: d.update(
                reason="shutdown", live_tasks=[], shutdown=load("shutdown.json")["shutdown"]),
            "a shutdown report without its shutdown": lambda d: d.update(
                reason="shutdown", live_tasks=[], threads=[]),
            "an unknown shutdown cause": lambda d: d.update(
                reason="shutdown", live_tasks=[], threads=[],
                shutdown=dict(load("shutdown.json")["shutdown"], cause="boredom")),
            "a thread with an unknown why": lambda d: d.update(
                reason="signal", live_tasks=[],
                threads=[dict(load("shutdown.json")["threads"][3], why="tired")]),
            "a finished task without result": lambda d: d["leaks"][0].pop("result"),
        }
        for what, change in cases.items():
            with self.subTest(case=what):
                doc = copy.deepcopy(base)
                change(doc)
                self.assertNotEqual(self.errors(doc), [], what)


if __name__ == "__main__":
    unittest.main()
