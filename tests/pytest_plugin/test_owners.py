# SPDX-License-Identifier: MIT
"""The gate's logic without pytest sessions or the library: which test or
wide fixture a task belongs to (context, windows, the test's own frame on
the creation stack, the test thread), the settle on a real event loop, the
tasks a hung test's explanation shows, the session report's summaries."""

import asyncio
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "scripts", "python"))

from taskleak import pytest_outlived as outlived  # noqa: E402
from taskleak.pytest_owners import Attribution, fixture_owner, is_fixture_owner  # noqa: E402

try:
    import pytest  # noqa: F401
except ImportError:
    pytest = None

MAIN = 100
TEST_FILE = "/src/tests/test_x.py"


def task(task_id, t, context=None, frames=(), thread=MAIN, state="pending", waits=None):
    entry = {"task": {"id": task_id, "name": "Task-%d" % task_id, "coro": "c%d" % task_id,
                      "thread_id": thread},
             "state": state,
             "created": {"t": t, "python_stack": [
                 {"function": "BaseEventLoop.create_task",
                  "file": "/usr/lib/python3.11/asyncio/base_events.py", "line": 436}]
                 + [{"function": f, "file": path, "line": 1} for f, path in frames]}}
    if context is not None:
        entry["context"] = context
    if waits is not None:
        entry["waits_for"] = waits
    return entry


class Code:
    co_filename = TEST_FILE
    co_name = "test_b"
    co_qualname = "test_b"


SERVER = fixture_owner("module", "tests/test_x.py", "server")


class Owners(unittest.TestCase):

    def windows(self, use_windows=True):
        a = Attribution(use_windows, thread_id=MAIN)
        a.start("tests/test_x.py::test_a", 1.0)
        a.start(SERVER, 1.1)                      # set up during test_a
        a.end(SERVER, 1.2)
        a.end("tests/test_x.py::test_a", 2.0)
        a.start("tests/test_x.py::test_b", 3.0)
        a.test_function("tests/test_x.py::test_b", Code)
        return a

    def test_fixture_ids(self):
        self.assertEqual(SERVER, "tests/test_x.py::server (module-scoped fixture)")
        self.assertEqual(fixture_owner("session", "", "db", 1), "db[1] (session-scoped fixture)")
        self.assertTrue(is_fixture_owner(SERVER))
        self.assertFalse(is_fixture_owner("tests/test_x.py::test_a[module]"))

    def test_windows_nest_fixtures_in_tests(self):
        a = self.windows()
        owners = [a.owner(task(i, t)) for i, t in enumerate((0.5, 1.05, 1.15, 1.5, 2.5, 3.5))]
        self.assertEqual(owners, [None, "tests/test_x.py::test_a", SERVER,
                                  "tests/test_x.py::test_a", None, "tests/test_x.py::test_b"])

    def test_only_the_test_thread_counts_for_outlived(self):
        a = self.windows()
        other = task(7, 3.5, thread=MAIN + 1)
        self.assertEqual(a.owner(other), "tests/test_x.py::test_b")        # leaks, as before
        self.assertIsNone(a.owner(other, same_thread=True))                 # outlived: no

    def test_context_wins_and_names_fixtures(self):
        a = self.windows(use_windows=False)
        self.assertEqual(a.owner(task(1, 3.5, {"taskleak.test": "t::a"})), "t::a")
        self.assertEqual(a.owner(task(2, 3.5, {"taskleak.test": "t::a",
                                               "taskleak.fixture": SERVER})), SERVER)
        self.assertIsNone(a.owner(task(3, 3.5)))

    def test_the_tests_own_frame_beats_a_fixtures_context(self):
        # anyio 4: every test runs inside the runner task a fixture made.
        a = self.windows(use_windows=False)
        context = {"taskleak.test": "tests/test_x.py::test_a", "taskleak.fixture": SERVER}
        made_by_test = task(1, 3.5, context, frames=[("test_b", TEST_FILE)])
        made_by_server = task(2, 3.5, context, frames=[("Server.accept", "/src/app.py")])
        made_before = task(3, 2.5, context, frames=[("test_b", TEST_FILE)])
        self.assertEqual(a.owner(made_by_test), "tests/test_x.py::test_b")
        self.assertEqual(a.owner(made_by_server), SERVER)
        self.assertEqual(a.owner(made_before), SERVER)      # not in test_b's window
        other_test = task(4, 3.5, {"taskleak.test": "tests/test_x.py::test_c"},
                          frames=[("test_b", TEST_FILE)])
        self.assertEqual(a.owner(other_test), "tests/test_x.py::test_c")  # a test's context stays

    def test_windows_before_the_first_report(self):
        a = Attribution(True, thread_id=MAIN)
        a.start("t::a", ("mono", 50.0))
        self.assertIsNone(a.owner(task(1, 10.5)))            # no library time yet: unknown
        a.fill(40.0)
        self.assertEqual(a.owner(task(1, 10.5)), "t::a")


class Settle(unittest.TestCase):

    def test_settle_ends_a_cancelled_task_and_leaves_a_sleeper(self):
        loop = asyncio.new_event_loop()
        self.addCleanup(loop.close)

        async def start():
            cancelled = asyncio.ensure_future(asyncio.sleep(3600))
            sleeper = asyncio.ensure_future(asyncio.sleep(3600))
            await asyncio.sleep(0)
            return cancelled, sleeper
        cancelled, sleeper = loop.run_until_complete(start())
        cancelled.cancel()              # as a test's last line, the loop idle after it
        self.assertFalse(cancelled.done())
        self.assertTrue(outlived.settle() >= 1)
        self.assertTrue(cancelled.cancelled())
        self.assertFalse(sleeper.done())
        sleeper.cancel()
        loop.run_until_complete(asyncio.sleep(0))

    def test_running_closed_and_fake_loops_are_left_alone(self):
        closed = asyncio.new_event_loop()
        closed.close()

        class Fake:            # a Mock spec'd as a loop says it is one: not by type
            __class__ = asyncio.AbstractEventLoop
        fake = Fake()
        self.assertIsInstance(fake, asyncio.AbstractEventLoop)
        loops = outlived.idle_loops()
        self.assertNotIn(closed, loops)
        self.assertFalse(any(loop is fake for loop in loops))

        async def inside():
            return asyncio.get_running_loop() in outlived.idle_loops()
        self.assertFalse(asyncio.run(inside()))


@unittest.skipIf(pytest is None, "pytest is not importable (Debian: python3-pytest)")
class HangSelection(unittest.TestCase):

    def test_related_tasks_and_deadlocks(self):
        from taskleak.pytest_plugin import related_tasks
        mine = task(1, 1.0, waits={"kind": "task", "tasks": [2]})
        live = [mine, task(2, 0.5, waits={"kind": "lock", "held_by": [3]}), task(3, 0.5),
                task(4, 0.5), task(5, 0.5), task(6, 0.5)]
        cycles = [{"tasks": [3, 5], "edges": []}, {"tasks": [4, 6], "edges": []}]
        shown, relevant = related_tasks([mine], live, cycles)
        self.assertEqual([e["task"]["id"] for e in shown], [1, 2, 3, 5])
        self.assertEqual(relevant, [cycles[0]])

    def test_live_summary(self):
        entry = task(1, 1.0, {"taskleak.test": "t::a"}, frames=[("test_a", "/src/t.py")],
                     waits={"kind": "event"})
        entry["awaiting"] = [{"function": "Event.wait",
                              "file": "/usr/lib/python3.11/asyncio/locks.py", "line": 213},
                             {"function": "waiter", "file": "/src/t.py", "line": 8}]
        summary = outlived.live_summary(entry, "/src", verdict="fail")
        self.assertEqual((summary["created_at"], summary["suspended_at"], summary["verdict"],
                          summary["waits_for"]), ("t.py:1", "t.py:8", "fail", {"kind": "event"}))


if __name__ == "__main__":
    unittest.main()
