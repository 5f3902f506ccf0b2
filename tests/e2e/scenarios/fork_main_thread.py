# fork() from the main thread of a parent with tasks: one pending in a loop
# that is stopped (not closed), one that swallowed a cancel.  The child runs
# its own asyncio.run() with a task that swallows a cancel and leaves through
# sys.exit(0) (so its atexit, and the library's exit report, run).  Two
# reports: the child's (pid = the child, ppid = the parent) holds only the
# child's leak, with task ids counted from 1 in the child, and not the
# parent's tasks, although their objects live on in the child's memory (their
# "Task was destroyed but it is pending!" at the child's exit is asyncio's,
# with and without the library, printed by the loop's exception handler
# without addresses); the parent's report is as without a fork.
# -W always::DeprecationWarning: on 3.12+ a fork from a multi-threaded process
# warns; the parent is single-threaded, so the library must not make it warn
# (stderr is compared with the run without the library; warnings are printed
# without the pid).  (-W error would not do: CPython clears that warning's
# exception after the fork, so nothing would show.)
# args: -W always::DeprecationWarning
# children: 1
# expect: pending_at_exit coro=parent_poller state=pending id=2 await_chain=poller create=poller
# expect: swallowed_cancel coro=parent_leak state=finished result_repr="'parent swallowed'" id=3 create=parent_leak cancel=parent_leak
# child-expect: swallowed_cancel coro=child_worker state=finished result_repr="'child swallowed'" id=2 cancels=1 create=child cancel=child main_thread=yes
import asyncio
import os
import re
import sys
import warnings

import _e2e


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    # Without the pid, which differs between the runs with and without the library.
    sys.stderr.write("%s: %s\n" % (category.__name__, re.sub(r"pid=\d+", "pid=N", str(message))))


warnings.showwarning = show_warning


async def parent_poller() -> None:
    await asyncio.sleep(3600)  # <- await:poller


async def parent_leak(started: asyncio.Event) -> str:
    started.set()
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        return "parent swallowed"


async def parent_main() -> str:
    global poller
    poller = asyncio.ensure_future(parent_poller())  # <- create:poller
    started = asyncio.Event()
    leak = asyncio.ensure_future(parent_leak(started))  # <- create:parent_leak
    await started.wait()
    leak.cancel()  # <- cancel:parent_leak
    return await leak


async def child_worker(started: asyncio.Event) -> str:
    started.set()
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        return "child swallowed"


async def child_main() -> str:
    started = asyncio.Event()
    t = asyncio.ensure_future(child_worker(started))  # <- create:child
    await started.wait()
    t.cancel()  # <- cancel:child
    return await t


def on_error(loop, context) -> None:
    # asyncio's message without the addresses that 3.8/3.9 put in a task's repr
    task = context.get("task")
    print(context["message"], task.get_coro().__qualname__ if task else "-", file=sys.stderr)


loop = asyncio.new_event_loop()
loop.set_exception_handler(on_error)
print("parent:", loop.run_until_complete(parent_main()))
sys.stdout.flush()
pid = os.fork()
if pid == 0:
    asyncio.set_event_loop(None)
    print("child:", asyncio.run(child_main()))
    sys.exit(0)
_e2e.note_child(pid)
_, status = os.waitpid(pid, 0)
print("child exit status:", os.WEXITSTATUS(status), "parent poller pending:", not poller.done())
