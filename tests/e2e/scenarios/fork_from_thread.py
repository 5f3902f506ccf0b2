# fork() from a threading.Thread while the main thread's event loop runs with
# a pending task.  In the child only the forking thread exists: it runs its
# own asyncio.run() with a task that swallows a cancel and calls sys.exit(0),
# which ends that thread; as in CPython without the library, the process then
# ends with status 0 without running atexit (the last thread left), so the
# library's C-level fallback writes the child's exit report (`incomplete`
# allowed: the tasks were not judged at exit, and stacks may lack file and
# line, so no marker is checked in it).  The child's report has its own pid,
# the parent as ppid, only the child's leak (its task ids counted from 1) and
# not the parent's tasks; the parent's report is as without a fork.  On 3.12+
# CPython warns about the fork from a multi-threaded process in both runs
# (stderr is compared; warnings are printed without the pid).
# args: -W always::DeprecationWarning
# children: 1
# child-incomplete: allowed
# expect: swallowed_cancel coro=parent_leak state=finished result_repr="'parent swallowed'" create=parent_leak cancel=parent_leak main_thread=yes
# child-expect: swallowed_cancel coro=child_worker state=finished result_repr="'child swallowed'" id=2 cancels=1 create=none cancel=none
import asyncio
import os
import re
import sys
import threading
import warnings

import _e2e


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    # Without the pid, which differs between the runs with and without the library.
    sys.stderr.write("%s: %s\n" % (category.__name__, re.sub(r"pid=\d+", "pid=N", str(message))))


warnings.showwarning = show_warning


async def child_worker(started: asyncio.Event) -> str:
    started.set()
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        return "child swallowed"


async def child_main() -> str:
    started = asyncio.Event()
    t = asyncio.ensure_future(child_worker(started))
    await started.wait()
    t.cancel()
    return await t


def fork_in_thread(loop: asyncio.AbstractEventLoop, done: asyncio.Future) -> None:
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        print("child:", asyncio.run(child_main()))
        sys.stdout.flush()
        sys.exit(0)
    loop.call_soon_threadsafe(done.set_result, pid)


async def parent_leak(started: asyncio.Event) -> str:
    started.set()
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        return "parent swallowed"


async def main() -> None:
    loop = asyncio.get_running_loop()
    started = asyncio.Event()
    leak = asyncio.ensure_future(parent_leak(started))  # <- create:parent_leak
    await started.wait()
    done = loop.create_future()
    th = threading.Thread(target=fork_in_thread, args=(loop, done))
    th.start()
    pid = await done  # the leaking task is pending while the thread forks
    th.join()
    _e2e.note_child(pid)
    _, status = os.waitpid(pid, 0)
    print("child exit status:", os.WEXITSTATUS(status))
    leak.cancel()  # <- cancel:parent_leak
    print("parent:", await leak)


asyncio.run(main())
