"""Helpers for scenarios that watch their own taskleak report while they run.

Not a scenario (the runner skips files starting with `_`).  A scenario imports
it from its own directory.  Standard library only, Python 3.8+.

The runner sets TASKLEAK_OPTIONS (report_path=<dir>/r.%p.json ...) and
TASKLEAK_E2E_DIR (a directory outside the report dir) in both runs, and
LD_PRELOAD only in the run with the library: scenarios wait for reports only
when preloaded() is true, so the run without the library does not wait for a
report that cannot come.  A wait that reaches its deadline ends the program
with status 70 and one `e2e: ...` line on stderr, which the runner shows.
"""

import asyncio
import json
import os
import sys
import time

DEADLINE = 20.0          # seconds; every wait below is a poll with a deadline
POLL = 0.01


def preloaded():
    return bool(os.environ.get("LD_PRELOAD"))


def option(key, default=None):
    for item in os.environ.get("TASKLEAK_OPTIONS", "").split(":"):
        k, sep, v = item.partition("=")
        if sep and k.strip() == key:
            default = v.strip()
    return default


def report_path(pid=None):
    path = option("report_path", "taskleak.%p.json")
    return path.replace("%p", str(os.getpid() if pid is None else pid))


def fail(msg):
    sys.stdout.flush()
    sys.stderr.write("e2e: %s\n" % msg)
    sys.stderr.flush()
    os._exit(70)


def read_report(path=None):
    """(parsed report, raw bytes), or (None, None) while there is none.  A
    report that is not whole JSON fails the program: writes are atomic."""
    path = path or report_path()
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None, None
    try:
        return json.loads(data.decode("utf-8")), data
    except ValueError as e:
        fail("%s is not whole JSON (%d bytes): %s" % (path, len(data), e))


def leaks(rep, kind=None, coro=None):
    return [e for e in (rep or {}).get("leaks", [])
            if (kind is None or e.get("kind") == kind)
            and (coro is None or (e.get("task") or {}).get("coro") == coro)]


def save(label, data):
    """Hands a report the program saw to the runner (`# observe: LABEL ...`)."""
    d = os.environ.get("TASKLEAK_E2E_DIR")
    if d:
        with open(os.path.join(d, label + ".json"), "wb") as f:
            f.write(data)


def note_child(pid):
    """Tells the runner about a forked child (`# children: N`)."""
    d = os.environ.get("TASKLEAK_E2E_DIR")
    if d:
        with open(os.path.join(d, "children"), "a") as f:
            f.write("%d\n" % pid)


def _check(pred, what, save_as, deadline, last):
    rep, data = read_report()
    if rep is not None:
        last[0] = rep
        if pred(rep):
            if save_as:
                save(save_as, data)
            return rep
    if time.monotonic() > deadline:
        got = last[0]
        fail("no report with %s within %gs; last report: %s" % (
            what, DEADLINE, "none" if got is None else "reason %s, leaks %s" % (
                got.get("reason"), [(e.get("kind"), e.get("task", {}).get("coro"))
                                    for e in got.get("leaks", [])])))
    return None


def wait_report(pred, what, save_as=None):
    """Blocks (time.sleep polls) until the report satisfies pred."""
    deadline, last = time.monotonic() + DEADLINE, [None]
    while True:
        rep = _check(pred, what, save_as, deadline, last)
        if rep is not None:
            return rep
        time.sleep(POLL)


async def await_report(pred, what, save_as=None):
    """Like wait_report, but lets the event loop run while it polls."""
    deadline, last = time.monotonic() + DEADLINE, [None]
    while True:
        rep = _check(pred, what, save_as, deadline, last)
        if rep is not None:
            return rep
        await asyncio.sleep(POLL)


def threads_in(*funcs):
    """Blocks (time.sleep polls) until each of funcs runs on a thread of its
    own (a function twice: on two threads): a thread started is not yet a
    thread that waits where the scenario says."""
    import collections
    want = collections.Counter(f.__code__ for f in funcs)
    deadline = time.monotonic() + DEADLINE
    while True:
        have = collections.Counter()
        for frame in sys._current_frames().values():
            codes = set()
            while frame is not None:
                codes.add(frame.f_code)
                frame = frame.f_back
            have.update(codes)
        if all(have[c] >= n for c, n in want.items()):
            return
        if time.monotonic() > deadline:
            fail("threads did not reach %s within %gs" % (
                [c.co_name for c in want], DEADLINE))
        time.sleep(POLL)


def on_stdin_closed(callback):
    """Calls callback() from a daemon thread once stdin reaches its end (the
    runner's `close-stdin` step): how a scenario that hangs on purpose is
    released, with or without the library."""
    import threading

    def watch():
        while sys.stdin.buffer.read(4096):
            pass
        callback()
    threading.Thread(target=watch, name="stdin-watch", daemon=True).start()


def helper(name):
    """A `# build-helper: NAME.c` library, loaded with ctypes.CDLL."""
    import ctypes
    return ctypes.CDLL(os.path.join(os.environ["TASKLEAK_E2E_BUILT"], name + ".so"))


async def ready_until_stdin_closes(rounds=3):
    """Let every task reach its wait (a few rounds of the loop: no timing),
    print "ready" (the runner's `wait-line ready`), then wait until stdin is
    closed (the runner's `close-stdin`)."""
    loop = asyncio.get_running_loop()
    eof = loop.create_future()
    loop.add_reader(sys.stdin.fileno(), lambda: eof.done() or eof.set_result(None))
    for _ in range(rounds):
        await asyncio.sleep(0)
    print("ready", flush=True)
    await eof
    loop.remove_reader(sys.stdin.fileno())
