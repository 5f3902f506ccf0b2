# The seed's pitfall: a cancelled worker whose `finally` awaits an Event that
# nobody sets, an unbounded await, so the task stays pending.  grace=0.2: the
# collector (interval=0.05) reports it as stuck_after_cancel, suspended at the
# await inside `finally` (the only frame of this file in `awaiting`, below
# asyncio's Event.wait).  The program polls its own report until that entry is
# written (saved as the observed report "stuck": pending, resolved null), then
# sets the Event: the task ends cancelled, and the exit report keeps the entry
# with resolved.state "cancelled".
# options: grace=0.2:interval=0.05
# observe: stuck periodic
# expect-observed: stuck stuck_after_cancel coro=worker state=pending resolved=null cancels=1 await_chain=finally create= cancel= waits=event waits_name=drained never=no
# expect: stuck_after_cancel coro=worker state=pending resolved=cancelled cancels=1 await_chain=finally create= cancel=
import asyncio

import _e2e


async def worker(started: asyncio.Event, drained: asyncio.Event) -> None:
    started.set()
    try:
        await asyncio.sleep(3600)
    finally:
        # BUG: unbounded wait during cleanup; a cancel cannot end it.
        await drained.wait()  # <- await:finally


def is_stuck(rep):
    return any(e["resolved"] is None for e in _e2e.leaks(rep, "stuck_after_cancel", "worker"))


async def main() -> None:
    started, drained = asyncio.Event(), asyncio.Event()
    t = asyncio.create_task(worker(started, drained))  # <- create
    await started.wait()
    t.cancel()  # <- cancel
    if _e2e.preloaded():
        await _e2e.await_report(is_stuck, "worker stuck_after_cancel", save_as="stuck")
    print("still pending after cancel:", not t.done())
    drained.set()
    await asyncio.gather(t, return_exceptions=True)
    print("cancelled:", t.cancelled())


asyncio.run(main())
