# taskleak_snapshot_now(), the pytest plugin's snapshot (outlived tasks, a
# timed-out test): a report with reason "snapshot" and every live task, from
# the main thread inside the running loop ("loop"), and from another thread
# while the main thread sits in the loop's select(), as pytest-timeout's
# timer thread calls it ("watchdog").  Both see the holder waiting for the
# Event and the waiter for the Lock the holder holds.  The watchdog also
# calls it right after a dump signal, so that it waits for the collector's
# own snapshot (the report lock taken without the GIL): no deadlock; and
# taskleak_report_now() still writes a "request" report without live tasks
# (the runner checks each observed report against its reason).
# observe: loop snapshot
# observe: watchdog snapshot
# observe: request request
# expect-none
import asyncio
import ctypes
import os
import signal
import threading
import time

import _e2e

lock = event = None     # made in the loop (3.8 and 3.9 bind them to one)


async def holder():
    async with lock:
        await event.wait()


async def waiter():
    async with lock:
        pass


def explained(rep):
    """The holder waits for the Event, the waiter for the holder's Lock."""
    live = {t["task"]["coro"]: t for t in rep.get("live_tasks", [])}
    if "holder" not in live or "waiter" not in live:
        _e2e.fail("%s: live tasks %s" % (rep.get("reason"), sorted(live)))
    hold, wait = live["holder"].get("waits_for") or {}, live["waiter"].get("waits_for") or {}
    if hold.get("kind") != "event" or wait.get("kind") != "lock" \
            or wait.get("held_by") != [live["holder"]["task"]["id"]]:
        _e2e.fail("waits_for: holder %s, waiter %s" % (hold, wait))


def take(function, label, reason):
    """Call FUNCTION; the report it wrote (reason REASON) is saved as LABEL.
    The collector may still write the signal's snapshot over it: again."""
    deadline = time.monotonic() + _e2e.DEADLINE
    while time.monotonic() < deadline:
        if function() != 0:
            _e2e.fail("%s returned non-zero" % label)
        rep, data = _e2e.read_report()
        if rep.get("reason") == reason:
            _e2e.save(label, data)
            return rep
    _e2e.fail("%s: no report with reason %s" % (label, reason))


def watchdog(loop, snapshot_now, report_now, done):
    os.kill(os.getpid(), signal.SIGUSR2)     # the collector's snapshot, at the same time
    if snapshot_now() != 0:
        _e2e.fail("snapshot_now returned non-zero during a dump signal")
    explained(take(snapshot_now, "watchdog", "snapshot"))
    take(report_now, "request", "request")
    loop.call_soon_threadsafe(done.set)


async def main():
    global lock, event
    lock, event = asyncio.Lock(), asyncio.Event()
    tasks = [asyncio.create_task(holder())]
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(waiter()))
    await asyncio.sleep(0)
    if _e2e.preloaded():
        library = ctypes.PyDLL(None)
        snapshot_now, report_now = library.taskleak_snapshot_now, library.taskleak_report_now
        rep = take(snapshot_now, "loop", "snapshot")
        explained(rep)
        done = asyncio.Event()
        thread = threading.Thread(target=watchdog, args=(asyncio.get_running_loop(),
                                                         snapshot_now, report_now, done))
        thread.start()
        await done.wait()                     # the main thread in select() meanwhile
        thread.join()
    event.set()
    await asyncio.gather(*tasks)
    print("done")


asyncio.run(main())
