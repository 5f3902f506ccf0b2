# SPDX-License-Identifier: MIT
"""The hang explanation in words (taskleak.waits, the text renderer and
SARIF) on a snapshot shaped as the library writes it: a holder, a waiter,
a two-task deadlock, a never-ending future, a sleep and a ready task."""

import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "scripts", "python"))
from taskleak.model import Report  # noqa: E402
from taskleak.render.sarif import SarifRenderer  # noqa: E402
from taskleak.render.text import TextRenderer  # noqa: E402
from taskleak.waits import blocker_lines, deadlock_lines, tasks_of, wait_line  # noqa: E402

ROOT = "/srv/app"


def frame(fn, line):
    return {"function": fn, "file": "/srv/app/app.py", "line": line}


def task(i, coro, waits, locks=None, **more):
    entry = {"task": {"id": i, "name": "Task-%d" % i, "coro": coro, "thread_id": 1,
                      "address": "0x%x" % (0x1000 + i)},
             "state": "pending", "created": {"t": 0.1, "python_stack": [frame("main", 30)],
                                             "native_stack": []},
             "cancels": [], "ended": None, "awaiting": [frame(coro, 10 + i)],
             "waits_for": waits, "awaited_by": None}
    if locks:
        entry["locks_held"] = locks
    entry.update(more)
    return entry


def wait(kind, obj="0xa0", **more):
    w = {"kind": kind, "object": obj, "type": "asyncio.locks.Lock" if kind == "lock" else
         "asyncio.locks.Event", "call": None, "name": None, "deadline": None,
         "never_wakes": None}
    w.update(more)
    return w


SNAPSHOT = {
    "tool": "taskleak", "version": "1.0.0", "schema": 1, "pid": 42, "ppid": 1,
    "argv": ["python3", "app.py"], "python": "3.14.0", "reason": "signal", "t": 10.0,
    "leaks": [], "stats": {"leaks": {}},
    "live_tasks": [
        task(2, "holder", wait("event", "0xe0", name="app.closed"),
             locks=[{"object": "0xa0", "type": "asyncio.locks.Lock", "name": "app.lock",
                     "at": frame("holder", 8)}]),
        task(3, "waiter", wait("lock", name="app.lock", held_by=[2], holders="certain",
                               taken=True)),
        task(4, "left", wait("lock", "0xb1", name="app.b", held_by=[5], holders="certain",
                             never_wakes={"reason": "in a deadlock: what it waits for waits for it"}),
             locks=[{"object": "0xb0", "type": "asyncio.locks.Lock", "name": "app.a",
                     "at": frame("left", 20)}]),
        task(5, "right", wait("lock", "0xb0", name="app.a", held_by=[4], holders="certain",
                              never_wakes={"reason": "in a deadlock: what it waits for waits for it"}),
             locks=[{"object": "0xb1", "type": "asyncio.locks.Lock", "name": "app.b",
                     "at": frame("right", 25)}]),
        task(6, "orphan", dict(wait("future", "0xf0", name="fut", named_in="orphan"),
                               type="_asyncio.Future",
                               never_wakes={"reason": "nothing else references the future, "
                                                      "so it can never complete"})),
        task(7, "napper", dict(wait("sleep", "0xc0"), deadline=13.5)),
        task(8, "runner", None),
    ],
    "deadlocks": [{"tasks": [4, 5], "edges": [
        {"from": 4, "to": 5, "via": "lock", "object": "0xb1"},
        {"from": 5, "to": 4, "via": "lock", "object": "0xb0"}]}],
}


class HangInWords(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.report = Report("snap.json", json.loads(json.dumps(SNAPSHOT)))
        self.tasks = tasks_of(self.report)

    def line(self, task_id):
        return wait_line(self.tasks[task_id], self.tasks, 10.0, ROOT)

    def test_deadlock_first_in_one_sentence(self):
        self.assertEqual(deadlock_lines(self.report), [
            "Found 1 asyncio deadlock in pid 42:",
            "  Task-4 (left) waits for Lock app.b held by Task-5 (right), which waits for "
            "Lock app.a held by Task-4 (left)"])
        text = TextRenderer(ROOT).render([self.report])
        self.assertTrue(text.startswith("Found 1 asyncio deadlock in pid 42:"), text)
        self.assertEqual(text.count("Found 1 asyncio deadlock"), 1, text)

    def test_each_wait_in_words(self):
        self.assertEqual(self.line(2), "waits for Event app.closed, not set")
        self.assertEqual(self.line(3), "waits for Lock app.lock, held by Task-2 (holder) inside "
                                       "`async with` at app.py:8 in holder")
        self.assertEqual(self.line(6), "waits for Future fut in orphan; it can never wake: nothing "
                                       "else references the future, so it can never complete")
        self.assertEqual(self.line(7), "waits for asyncio.sleep(), until t=13.5s "
                                       "(3.5 s after this report)")
        self.assertEqual(self.line(8), "ready to run (it waits for nothing)")
        old = dict(self.tasks[3])
        del old["waits_for"]
        self.assertIsNone(wait_line(old, self.tasks, 10.0, ROOT))  # an older library says nothing

    def test_holder_unknown_and_inferred(self):
        entry = task(9, "w", wait("lock", holders="unknown", held_by=None, taken=True))
        self.assertEqual(wait_line(entry, self.tasks, 10.0, ROOT),
                         "waits for Lock 0xa0, holder unknown")
        entry = task(9, "w", wait("lock", holders="inferred", held_by=[2], taken=True))
        self.assertIn("held by Task-2 (holder) inside `async with` at app.py:8 in holder "
                      "(inferred: it keeps it after acquire())",
                      wait_line(entry, self.tasks, 10.0, ROOT))

    def test_blockers_are_where_to_look(self):
        self.assertEqual(blocker_lines(self.report, ROOT), [
            "Blocking the others:",
            "  Task-2 (holder), which Task-3 waits for: it waits for Event app.closed, not set"])

    def test_sarif_has_the_deadlock(self):
        log = json.loads(SarifRenderer(root=ROOT).render([self.report]))
        run = log["runs"][0]
        self.assertEqual(run["tool"]["driver"]["rules"][-1]["id"], "deadlock")
        results = [r for r in run["results"] if r["ruleId"] == "deadlock"]
        self.assertEqual(len(results), 1)
        self.assertEqual(results[0]["level"], "error")
        self.assertIn("Task-4 (left) waits for Lock app.b", results[0]["message"]["text"])
        self.assertEqual(results[0]["properties"]["tasks"], [4, 5])
        self.assertEqual(len(results[0]["locations"]) + len(results[0]["relatedLocations"]), 2)


if __name__ == "__main__":
    unittest.main()
