# SPDX-License-Identifier: MIT
"""The pytest plugin's selection logic on report dicts, without the library:
which test a leak belongs to (its context, or its creation time on
3.8-3.11), which leaks are new, what the marker allows, the failure text,
and the option handling.  Needs pytest importable (the plugin imports it)."""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "scripts", "python"))

try:
    import pytest  # noqa: F401
except ImportError:
    pytest = None

if pytest is not None:
    from taskleak import pytest_plugin as plugin
    from taskleak.model import Report


def leak(task_id, kind="swallowed_cancel", test=None, t=1.0, coro="worker"):
    entry = {"kind": kind, "state": "finished", "result": {"type": "NoneType", "repr": "None"},
             "task": {"id": task_id, "name": "Task-%d" % task_id, "coro": coro,
                      "thread_id": 1, "address": "0x1"},
             "created": {"t": t, "native_stack": [], "python_stack": [
                 {"function": "BaseEventLoop.create_task",
                  "file": "/usr/lib/python3.11/asyncio/base_events.py", "line": 436},
                 {"function": "main", "file": "/src/tests/test_x.py", "line": 14},
                 {"function": "test_a", "file": "/src/tests/test_x.py", "line": 30},
                 {"function": "pytest_pyfunc_call",
                  "file": "/usr/lib/python3/dist-packages/_pytest/python.py", "line": 195},
                 {"function": "_multicall",
                  "file": "/usr/lib/python3/dist-packages/pluggy/_callers.py", "line": 39}]},
             "cancels": [{"t": t + 0.1, "message": None, "python_stack": [
                 {"function": "main", "file": "/src/tests/test_x.py", "line": 16}]}],
             "ended": {"t": t + 0.2}, "awaiting": None}
    if test is not None:
        entry["context"] = {"taskleak.test": test}
    return entry


class FakeMarker:
    def __init__(self, **kwargs):
        self.kwargs = kwargs


class FakeItem:
    def __init__(self, *markers):
        self.markers = markers

    def iter_markers(self, name):
        return iter(self.markers) if name == "taskleak" else iter(())


class FakeNamespace:
    def __init__(self, taskleak=None, plugins=None):
        self.taskleak = taskleak
        self.plugins = plugins


@unittest.skipIf(pytest is None, "pytest is not importable (Debian: python3-pytest)")
class Attribution(unittest.TestCase):

    def test_context_names_the_test(self):
        attribution = plugin.Attribution(use_windows=False)
        found = attribution.new_leaks([leak(2, test="t.py::a"), leak(3, test="t.py::b"), leak(4)])
        self.assertEqual([(owner, l["task"]["id"]) for owner, l in found],
                         [("t.py::a", 2), ("t.py::b", 3), (None, 4)])

    def test_each_leak_is_new_once(self):
        attribution = plugin.Attribution(use_windows=False)
        self.assertEqual(len(attribution.new_leaks([leak(2, test="a")])), 1)
        # The next report lists it again (and a stuck task resolved later too).
        again = attribution.new_leaks([leak(2, test="a"), leak(2, "stuck_after_cancel", "a")])
        self.assertEqual([l["kind"] for _, l in again], ["stuck_after_cancel"])

    def test_windows_by_creation_time(self):
        attribution = plugin.Attribution(use_windows=True)
        attribution.start_test("a", 1.0)
        attribution.end_test("a", 2.0)
        attribution.start_test("b", 2.5)
        found = attribution.new_leaks([leak(1, t=0.5), leak(2, t=1.5), leak(3, t=2.2),
                                       leak(4, t=3.0)])
        self.assertEqual([owner for owner, _ in found], [None, "a", None, "b"])

    def test_context_wins_over_windows(self):
        attribution = plugin.Attribution(use_windows=True)
        attribution.start_test("b", 0.0)
        owner, _ = attribution.new_leaks([leak(1, test="a", t=1.0)])[0]
        self.assertEqual(owner, "a")

    def test_no_windows_without_context_on_3_12(self):
        attribution = plugin.Attribution(use_windows=False)
        attribution.start_test("a", 0.0)
        self.assertEqual(attribution.new_leaks([leak(1, t=1.0)])[0][0], None)


@unittest.skipIf(pytest is None, "pytest is not importable (Debian: python3-pytest)")
class MarkersTextOptions(unittest.TestCase):

    def test_allowed_kinds(self):
        item = FakeItem(FakeMarker(allow=["swallowed_cancel"]), FakeMarker(allow="pending_at_exit"),
                        FakeMarker())
        self.assertEqual(plugin.allowed_kinds(item), {"swallowed_cancel", "pending_at_exit"})
        self.assertEqual(plugin.allowed_kinds(FakeItem()), set())

    def test_leak_text_names_coroutine_creation_line_cancel_and_fix(self):
        report = Report("r.json", {"tool": "taskleak", "schema": 1, "pid": 7, "leaks": []})
        text = plugin.leak_text(report, [leak(2, test="a")], "/src")
        lines = text.splitlines()
        self.assertEqual(lines[0],
                         "1 swallowed_cancel leak of coroutine worker created at tests/test_x.py:14")
        self.assertIn("    cancelled at tests/test_x.py:16 in main, t=1.1s", lines)
        self.assertTrue(lines[-1].startswith("  fix: re-raise CancelledError"), lines[-1])
        self.assertIn("#2 tests/test_x.py:30 in test_a", text)
        self.assertNotIn("_pytest", text)      # pytest's machinery is cut off
        self.assertNotIn("pluggy", text)

    def test_frames_below_pytest(self):
        frames = leak(1)["created"]["python_stack"]
        self.assertEqual([f["function"] for f in plugin.below_pytest(frames)],
                         ["BaseEventLoop.create_task", "main", "test_a"])

    def test_requested_mode(self):
        self.assertIsNone(plugin.requested_mode(FakeNamespace()))
        self.assertEqual(plugin.requested_mode(FakeNamespace("fail")), "fail")
        self.assertEqual(plugin.requested_mode(FakeNamespace("warn")), "warn")
        self.assertEqual(plugin.requested_mode(FakeNamespace(plugins=["taskleak"])), "warn")
        self.assertIsNone(plugin.requested_mode(FakeNamespace(plugins=["xdist"])))

    def test_bare_flag_before_a_path(self):
        args = ["--taskleak", "tests/", "-x"]
        plugin.normalize_args(args)
        self.assertEqual(args, ["--taskleak=warn", "tests/", "-x"])
        for kept in (["--taskleak", "fail", "tests/"], ["--taskleak"], ["--taskleak", "-x"],
                     ["--", "--taskleak", "t.py"]):
            args = list(kept)
            plugin.normalize_args(args)
            self.assertEqual(args, kept)


if __name__ == "__main__":
    unittest.main()
