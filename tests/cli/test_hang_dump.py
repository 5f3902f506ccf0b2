# SPDX-License-Identifier: MIT
"""`taskleak dump` explains the hang of the hang-explainer issue's program,
on Debian's python3, for a process started under the library and for one it
attaches to: the lock's holder, the Event nothing has set, the future that
can never complete, and the executor's worker stuck in blocking_job (and
that the exit waits for it).  Skipped, saying why, without build/ or gdb
(the attach to 3.11 goes through gdb)."""

import os
import shutil
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests"))
import common  # noqa: E402

LIB = os.path.join(REPO, "build", "libtaskleak.so")
PYTHON = "/usr/bin/python3"
APP = r'''
import asyncio, time
lock = asyncio.Lock(); ev = asyncio.Event(); q = asyncio.Queue()
async def holder():
    async with lock:
        await ev.wait()          # never set: the lock is never released
async def waiter(i):
    async with lock:             # waits for the lock holder() holds
        pass
async def consumer():
    while True:
        await q.get()            # nobody ever puts
async def orphan_future():
    fut = asyncio.get_running_loop().create_future()
    await fut                    # nothing else references fut: it can never complete
def blocking_job():
    time.sleep(3600)
async def main():
    tasks = [asyncio.create_task(holder())]
    await asyncio.sleep(0)
    tasks += [asyncio.create_task(waiter(i)) for i in range(2)]
    tasks += [asyncio.create_task(consumer()), asyncio.create_task(orphan_future())]
    asyncio.get_running_loop().run_in_executor(None, blocking_job)
    print("ready", flush=True)
    await asyncio.gather(*tasks)
asyncio.run(main())
'''

EXPECTED = [
    "waits for Lock app.lock, held by Task-2 (holder) inside `async with` at app.py:6 in holder",
    "waits for Event app.ev, not set",
    "waits for an item from Queue app.q",
    "waits for Future fut in orphan_future; it can never wake: nothing else references the "
    "future, so it can never complete",
    "the exit waits for 1 thread:",
    "default executor worker running a job, job app.py:17 in blocking_job",
]


class IssueProgramDump(unittest.TestCase):
    def setUp(self):
        if not os.path.exists(LIB):
            self.skipTest("no build/libtaskleak.so (run make)")
        self.tmp = common.mkdtemp("taskleak-hang-dump.")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        with open(os.path.join(self.tmp, "app.py"), "w") as f:
            f.write(APP)

    def dump(self, preloaded):
        lib = opts = None
        if preloaded:
            lib, opts = LIB, "report_path=%s/tl.%%p.json:verbosity=0" % self.tmp
        app = subprocess.Popen([PYTHON, "app.py"], stdout=subprocess.PIPE, text=True,
                               cwd=self.tmp, env=common.env(lib=lib, options=opts, drop=()))
        try:
            self.assertEqual(app.stdout.readline().strip(), "ready")
            deadline = time.monotonic() + 60
            while True:  # every task reaches its wait within a few loop rounds
                done = subprocess.run([sys.executable, os.path.join(REPO, "scripts", "taskleak"),
                                       "dump", "--timeout", "30", str(app.pid)],
                                      capture_output=True, text=True, timeout=90, cwd=self.tmp,
                                      env=common.env(extra={"TASKLEAK_LIB": LIB}))
                self.assertEqual(done.returncode, 0, done.stderr)
                if all(line in done.stdout for line in EXPECTED) or time.monotonic() > deadline:
                    return done.stdout
        finally:
            app.kill()
            app.wait()
            app.stdout.close()

    def check(self, preloaded):
        out = self.dump(preloaded)
        for line in EXPECTED:
            self.assertIn(line, out)
        self.assertIn("Blocking the others:", out)
        self.assertNotIn("deadlock", out)  # nothing here waits in a cycle

    def test_preloaded(self):
        self.check(True)

    def test_attached(self):
        if not shutil.which("gdb"):
            self.skipTest("no gdb: attaching to 3.11 needs it")
        self.check(False)


if __name__ == "__main__":
    unittest.main()
