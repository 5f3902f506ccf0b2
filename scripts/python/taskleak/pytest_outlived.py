# SPDX-License-Identifier: MIT
"""Tasks that outlive their test (or their module- or session-scoped
fixture): the settle before the check, and the text of what was found.

The settle is what a person's own check does before it counts the tasks
left behind (pytest-asyncio #1044, goleak's VerifyNone retries): let the
event loop run what is already due.  Each event loop of the process that is
neither running nor closed gets up to SETTLE_ITERATIONS iterations of
`loop.call_soon(loop.stop); loop.run_forever()`: one pass over the
callbacks that are ready (a cancelled task's wake-up, a done callback) and
the I/O that is ready without waiting, stopping early once nothing is ready
or due.  Nothing waits for time to pass: a task asleep, or waiting for an
Event nobody sets, stays pending.  A closed loop's tasks can never run
again; a running loop (another thread's) is left alone.  The settle runs
only when the snapshot found a task of the test still pending, so a test
that leaves nothing behind never has its loops run by the plugin."""

import asyncio
import gc

from .fields import dict_of, dicts_in, plural, text
from .frames import frame_place, site_frame
from .pytest_owners import entry_task
from .waits import tasks_of

SETTLE_ITERATIONS = 10
OUTLIVED = "outlived"        # the name @pytest.mark.taskleak(allow=[...]) takes


def idle_loops():
    """The event loops of this process that are neither running nor closed.
    By type, never through an object's own __class__ (a Mock spec'd as a
    loop is not one, and must not record a call)."""
    loops = []
    for obj in gc.get_objects():
        if issubclass(type(obj), asyncio.AbstractEventLoop):
            try:
                if not obj.is_running() and not obj.is_closed():
                    loops.append(obj)
            except Exception:
                pass
    return loops


def has_work(loop):
    """Whether LOOP has callbacks ready or timers due (asyncio's own loop
    says; for another loop, such as uvloop's, assume it has)."""
    ready = getattr(loop, "_ready", None)
    scheduled = getattr(loop, "_scheduled", None)
    if ready is None or scheduled is None:
        return True
    if ready:
        return True
    try:
        return bool(scheduled) and scheduled[0].when() <= loop.time()
    except Exception:
        return True


def settle():
    """Let each idle event loop run what is due (see the module's head).
    Returns the number of loops that ran."""
    ran = 0
    for loop in idle_loops():
        iterations = 0
        while iterations < SETTLE_ITERATIONS and has_work(loop):
            loop.call_soon(loop.stop)
            try:
                loop.run_forever()
            except Exception:
                break       # a loop that will not run here: leave it
            iterations += 1
        ran += iterations > 0
    return ran


def pending(report):
    """The pending live tasks of a snapshot report."""
    return [task for task in report.live_tasks if text(task.get("state"), "pending") == "pending"]


def task_id(entry):
    return entry_task(entry).get("id")


def task_line(entry):
    task = entry_task(entry)
    return "%s (coroutine %s, id %s)" % (text(task.get("name"), "<unnamed task>"),
                                         text(task.get("coro"), "<unknown>"),
                                         text(task.get("id"), "?"))


def outlived_text(renderer, entries, report, owner, what):
    """The failure text: a head naming OWNER, then each task as a snapshot
    shows it (created at, suspended at, what it waits for and holds)."""
    lines = ["taskleak: %s outlived %s: still pending after %s (the event loop settled first)"
             % (plural(len(entries), "task"), owner, what)]
    tasks = tasks_of(report)
    for entry in entries:
        lines += renderer.live_task_lines(entry, report.live_tasks, "  ", report, tasks)
    return "\n".join(lines)


def live_summary(entry, root, **more):
    """One live task in the session report: who, created and suspended
    where, what it waits for."""
    task = entry_task(entry)
    created = site_frame(dicts_in(dict_of(entry.get("created")).get("python_stack")))
    awaiting = site_frame(dicts_in(entry.get("awaiting")))
    summary = {"task_id": task.get("id"), "task": task.get("name"), "coro": task.get("coro"),
               "created_at": frame_place(created, root) if created else None,
               "suspended_at": frame_place(awaiting, root) if awaiting else None,
               "waits_for": entry.get("waits_for"), "context": entry.get("context")}
    summary.update(more)
    return summary
