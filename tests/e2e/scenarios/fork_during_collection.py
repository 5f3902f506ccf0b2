# fork() while the collector is busy: periodic reports every 0.01 s, and the
# program forks right after 50 ms of Python computation, the moment a periodic
# collection waits for the GIL (sys.setswitchinterval(1.0): the GIL changes
# hands only when a thread blocks, as with a C extension that keeps it).
# fork() must stay as fast as without the library (each well under 0.5 s; it
# takes about a millisecond) and, on 3.12+, the library's threads must not
# make CPython warn that the process is multi-threaded (stderr is compared
# with the run without the library; warnings are printed without the pid).
# Two forks; each child ends at once through os._exit and makes no task: no
# report.  Between forks the loop runs a little (the collector runs then).
# The parent keeps one task pending: pending_at_exit.
# options: interval=0.01
# args: -W always::DeprecationWarning
# expect: pending_at_exit coro=idle state=pending
import asyncio
import os
import re
import sys
import time
import warnings


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    sys.stderr.write("%s: %s\n" % (category.__name__, re.sub(r"pid=\d+", "pid=N", str(message))))


warnings.showwarning = show_warning


def compute(seconds: float) -> int:
    n, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        n += 1
    return n


async def idle() -> None:
    await asyncio.sleep(3600)


loop = asyncio.new_event_loop()
task = loop.create_task(idle())
sys.setswitchinterval(1.0)
slowest = 0.0
for i in range(2):
    loop.run_until_complete(asyncio.sleep(0.03))  # the GIL is free: reports go on
    compute(0.05)  # the GIL is held: a periodic collection now waits for it
    sys.stdout.flush()
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    slowest = max(slowest, time.monotonic() - t0)
    os.waitpid(pid, 0)
print("2 forks, each under 0.5 s:", slowest < 0.5)
print("task pending:", not task.done())
