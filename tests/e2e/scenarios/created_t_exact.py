# created.t is exact: every task's creation time lies between two readings
# of time.monotonic() taken around its create_task() (converted with the
# report's t0_monotonic), to well under a millisecond; so is a cancel's t
# (a stamp the hook keeps, turned into seconds only for the report).  The pytest plugin
# gives a task to the test whose time window holds created.t on 3.8-3.11;
# a stamp a few milliseconds early moves a fast test's task into the test
# before (a coarse clock did).  The tasks are created, and every third one
# cancelled, over more than a second, across the collector's heartbeats.
# observe: snapshot snapshot
# expect-none
import asyncio
import ctypes
import time

import _e2e

N = 150
SLACK = 0.0005      # seconds: the conversion's error is microseconds


async def sleeper(event):
    await event.wait()


def check(rep, marks, cancel_marks):
    t0 = rep.get("t0_monotonic")
    live = sorted((t for t in rep.get("live_tasks", []) if t["task"]["coro"] == "sleeper"),
                  key=lambda t: t["task"]["id"])
    if not isinstance(t0, float) or len(live) != N:
        _e2e.fail("t0_monotonic %r, %d sleepers live" % (t0, len(live)))
    for i, (entry, (before, after)) in enumerate(zip(live, marks)):
        t = entry["created"]["t"]
        if not before - t0 - SLACK <= t <= after - t0 + SLACK:
            _e2e.fail("task %d: created.t %.6f outside [%.6f, %.6f]"
                      % (i, t, before - t0, after - t0))
        cancels = entry.get("cancels") or []
        if i not in cancel_marks:
            if cancels:
                _e2e.fail("task %d: never cancelled, has cancels %r" % (i, cancels))
            continue
        before, after = cancel_marks[i]
        t = cancels[0]["t"] if len(cancels) == 1 else None
        if not isinstance(t, float) or not before - t0 - SLACK <= t <= after - t0 + SLACK:
            _e2e.fail("task %d: cancels %r, t not in [%.6f, %.6f]"
                      % (i, cancels, before - t0, after - t0))


async def main():
    event = asyncio.Event()
    tasks, marks = [], []
    for _ in range(N):
        before = time.monotonic()
        tasks.append(asyncio.ensure_future(sleeper(event)))
        marks.append((before, time.monotonic()))
        time.sleep(0.005)
    cancel_marks = {}
    for i in range(0, N, 3):  # still pending at the snapshot: no await yet
        before = time.monotonic()
        tasks[i].cancel()
        cancel_marks[i] = (before, time.monotonic())
        time.sleep(0.01)
    if _e2e.preloaded():
        if ctypes.PyDLL(None).taskleak_snapshot_now() != 0:
            _e2e.fail("taskleak_snapshot_now returned non-zero")
        rep, data = _e2e.read_report()
        _e2e.save("snapshot", data)
        check(rep, marks, cancel_marks)
    event.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    print("done")


asyncio.run(main())
