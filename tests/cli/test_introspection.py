# SPDX-License-Identifier: MIT
"""CPython 3.14's own view of a running process's tasks,
`python3.14 -m asyncio ps PID` and `... pstree PID` (which read the process
from outside through the offsets the runtime publishes):

- it prints the same for a process running under libtaskleak.so as for one
  without it (the target is run twice, preloaded and not; task addresses and
  the process id are the only things that may differ, and are normalised);
- `taskleak dump PID` shows at least the frames it shows, in the same
  order, for the shutdown hang of a web service's lifespan (uvicorn and
  Starlette, an @asynccontextmanager waiting after its `yield`): the await
  chain goes through the async generator down to the line that waits, for a
  process started under the library and for one attached to.

Needs the Debian sid chroot's python3.14 (tests/common.py), uvicorn and
Starlette there, and build/libtaskleak.so; skipped, saying so, without them.
"""

import os
import re
import shutil
import signal
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
    # Addresses differ from run to run, and so does their width, which pads
    # the columns after them.
    text = re.sub(r"0x[0-9a-f]+ *", "0x? ", text)
    return text.replace(str(pid), "PID")


class AsyncioIntrospection(unittest.TestCase):
    def setUp(self):
        self.python = python314()
        if not self.python:
            self.skipTest("no CPython 3.14 (scripts/dev/sid-pythons provides one)")
        if not os.path.exists(LIB):
            self.skipTest("no build/libtaskleak.so (run make)")
        self.tmp = common.mkdtemp("taskleak-introspection.")
        self.addCleanup(shutil.rmtree, self.tmp, True)
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
            target.stdout.close()

    def test_ps_and_pstree_unchanged(self):
        plain = self.views(False)
        audited = self.views(True)
        self.assertIn("leaf-a", plain["ps"])      # the view saw the tasks at all
        self.assertIn("branch", plain["pstree"])
        self.assertEqual(plain, audited)


LIFESPAN_APP = r'''
import asyncio
import socket
from contextlib import asynccontextmanager

import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

closed = None


async def flush_metrics_forever():
    await closed.wait()  # nothing sets it: the shutdown hangs here


@asynccontextmanager
async def lifespan(app):
    global closed
    closed = asyncio.Event()
    yield
    await flush_metrics_forever()


async def hello(request):
    return PlainTextResponse("hello")


async def main():
    app = Starlette(routes=[Route("/", hello)], lifespan=lifespan)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    serving = asyncio.ensure_future(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    print("ready", flush=True)
    await serving


asyncio.run(main())
'''

# A frame of pstree's tree: "└──  Router.lifespan /usr/lib/.../routing.py:656".
PSTREE_FRAME = re.compile(r"^[\s│]*└──\s+(\S+) (\S+):(\d+)$")
# A frame of taskleak's text: "    #4 /usr/lib/.../routing.py:656 in Router.lifespan".
DUMP_FRAME = re.compile(r"^\s+#\d+ (\S+):(\d+) in (\S+)$")


def pstree_chains(text):
    """Each task's coroutine frames in pstree's tree (the frame lines under
    its `(T)` line), outermost first, as (function, file name, line)."""
    chains = []
    for line in text.splitlines():
        m = PSTREE_FRAME.match(line)
        if "(T)" in line:
            chains.append([])
        elif m and chains:
            chains[-1].append((m.group(1), os.path.basename(m.group(2)), int(m.group(3))))
    return chains


def dump_chains(text):
    """Each task's `suspended at` stack in taskleak dump's text, outermost
    first, as (function, file name, line)."""
    chains, current = [], None
    for line in text.splitlines():
        if "suspended at" in line:
            current = []
            chains.append(current)
            continue
        m = DUMP_FRAME.match(line)
        if m and current is not None:
            current.insert(0, (m.group(3), os.path.basename(m.group(1)), int(m.group(2))))
        elif not line.startswith("      "):
            current = None
    return chains


class LifespanHang(unittest.TestCase):
    def setUp(self):
        self.python = python314()
        if not self.python:
            self.skipTest("no CPython 3.14 (scripts/dev/sid-pythons provides one)")
        if not os.path.exists(LIB):
            self.skipTest("no build/libtaskleak.so (run make)")
        probe = subprocess.run([self.python, "-c", "import uvicorn, starlette"],
                               capture_output=True, text=True)
        if probe.returncode:
            self.skipTest("uvicorn or starlette cannot be imported by %s" % self.python)
        self.tmp = common.mkdtemp("taskleak-lifespan.")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.script = os.path.join(self.tmp, "app.py")
        with open(self.script, "w") as f:
            f.write(LIFESPAN_APP)

    def hung_views(self, preloaded):
        """(pstree, taskleak dump) of the app hung in its lifespan's shutdown."""
        lib = opts = None
        if preloaded:
            lib, opts = LIB, "report_path=%s/tl.%%p.json:verbosity=0" % self.tmp
        env = common.env(lib=lib, options=opts, drop=())
        app = subprocess.Popen([self.python, self.script], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env, cwd=self.tmp)
        try:
            self.assertEqual(app.stdout.readline().strip(), "ready")
            app.send_signal(signal.SIGTERM)  # uvicorn shuts down: the lifespan's exit hangs
            plain = dict(env, LD_PRELOAD="")

            # pstree reads the running process: a read in the middle of the
            # shutdown can join one task's frames to another's (seen under
            # load).  So the hang is the same tree read twice in a row.
            last = []

            def hung():
                tree = subprocess.run([self.python, "-m", "asyncio", "pstree", str(app.pid)],
                                      capture_output=True, text=True, timeout=60, env=plain)
                settled = "flush_metrics_forever" in tree.stdout and last == [tree.stdout]
                last[:] = [tree.stdout]
                return tree.stdout if settled else None
            tree = common.wait_for(hung, time.monotonic() + 30, poll=0.1)
            self.assertTrue(tree, "the app never reached flush_metrics_forever")
            dump = subprocess.run([sys.executable, os.path.join(REPO, "scripts", "taskleak"),
                                   "dump", "--timeout", "30", str(app.pid)],
                                  capture_output=True, text=True, timeout=90, cwd=self.tmp,
                                  env=common.env(extra={"TASKLEAK_LIB": LIB}))
            self.assertEqual(dump.returncode, 0, dump.stderr)
            return tree, dump.stdout
        finally:
            app.kill()
            app.communicate()

    def check_same_frames(self, preloaded):
        tree, dump = self.hung_views(preloaded)
        want = [c for c in pstree_chains(tree) if any(f[0] == "lifespan" for f in c)]
        self.assertEqual(len(want), 1, tree)
        want = want[0]
        lifespan = [c for c in dump_chains(dump) if any(f[0] == "lifespan" for f in c)]
        self.assertEqual(len(lifespan), 1, dump)
        lines = LIFESPAN_APP.splitlines()
        waits = [lines.index("    await closed.wait()  # nothing sets it: the shutdown hangs here"),
                 lines.index("    await flush_metrics_forever()")]
        self.assertIn(("flush_metrics_forever", "app.py", waits[0] + 1), want, tree)
        self.assertIn(("lifespan", "app.py", waits[1] + 1), want, tree)
        self.assertEqual(lifespan[0], want, "taskleak dump:\n%s\npstree:\n%s" % (dump, tree))
        # and more: what the lifespan waits for, what the server task holds
        self.assertIn("waits for Event app.closed, not set", dump)
        self.assertRegex(dump, r"holds a closed socket \(sock in main\)")

    def test_dump_of_a_preloaded_process(self):
        self.check_same_frames(True)

    def test_dump_of_an_attached_process(self):
        self.check_same_frames(False)


if __name__ == "__main__":
    unittest.main()
