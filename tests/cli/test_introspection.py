# SPDX-License-Identifier: MIT
"""CPython 3.14's own view of a running process's tasks,
`python3.14 -m asyncio ps PID` and `... pstree PID` (which read the process
from outside through the offsets the runtime publishes), prints the same for
a process running under libtaskleak.so as for one without it.

The target is run twice, preloaded and not; task addresses and the process
id are the only things that may differ, and are normalised.  Needs the
Debian sid chroot's python3.14 (tests/common.py) and build/libtaskleak.so;
skipped, saying so, without them.
"""

import os
import re
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests"))
import common  # noqa: E402  (tests/common.py: interpreters, environment, reports)

LIB = os.path.join(REPO, "build", "libtaskleak.so")
TARGET = r'''
import asyncio, sys

async def leaf(ev):
    await ev.wait()

async def branch(ev):
    async with asyncio.TaskGroup() as tg:
        tg.create_task(leaf(ev), name="leaf-a")
        tg.create_task(leaf(ev), name="leaf-b")

async def main():
    ev = asyncio.Event()
    t = asyncio.create_task(branch(ev), name="branch")
    await asyncio.sleep(0.05)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    ev.set()
    await t

asyncio.run(main())
'''


def python314():
    try:
        interps, _ = common.discover()
    except common.PythonsError:
        return None
    for it in interps:
        if it.version[:2] == (3, 14) and not it.debug:
            return it.path
    return None


def normalise(text, pid):
    text = re.sub(r"0x[0-9a-f]+", "0x?", text)
    return text.replace(str(pid), "PID")


class AsyncioIntrospection(unittest.TestCase):
    def setUp(self):
        self.python = python314()
        if not self.python:
            self.skipTest("no CPython 3.14 (scripts/dev/sid-pythons provides one)")
        if not os.path.exists(LIB):
            self.skipTest("no build/libtaskleak.so (run make)")
        self.tmp = common.mkdtemp("taskleak-introspection.")
        self.script = os.path.join(self.tmp, "target.py")
        with open(self.script, "w") as f:
            f.write(TARGET)

    def views(self, preloaded):
        lib = opts = None
        if preloaded:
            lib, opts = LIB, "report_path=%s/tl.%%p.json:verbosity=0" % self.tmp
        env = common.env(lib=lib, options=opts, drop=())
        target = subprocess.Popen([self.python, self.script], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, env=env, cwd=self.tmp)
        try:
            self.assertEqual(target.stdout.readline().strip(), "ready")
            out = {}
            for view in ("ps", "pstree"):
                done = subprocess.run([self.python, "-m", "asyncio", view, str(target.pid)],
                                      capture_output=True, text=True, timeout=60,
                                      cwd=self.tmp, env=dict(env, LD_PRELOAD=""))
                self.assertEqual(done.returncode, 0, done.stderr)
                out[view] = normalise(done.stdout, target.pid)
            target.stdin.close()
            self.assertEqual(target.wait(timeout=60), 0)
            if preloaded:  # the library audited this run: its exit report is there
                self.assertTrue(os.path.exists(os.path.join(self.tmp, "tl.%d.json" % target.pid)))
            return out
        finally:
            if target.poll() is None:
                target.kill()
                target.wait()

    def test_ps_and_pstree_unchanged(self):
        plain = self.views(False)
        audited = self.views(True)
        self.assertIn("leaf-a", plain["ps"])      # the view saw the tasks at all
        self.assertIn("branch", plain["pstree"])
        self.assertEqual(plain, audited)


if __name__ == "__main__":
    unittest.main()
