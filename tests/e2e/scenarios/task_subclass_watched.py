# Cancelled tasks of Task subclasses, which the sweeps follow through weak
# references (an _asyncio.Task's own record is proof it is alive; a
# subclass may hide its destruction behind a __del__ that does not chain to
# Task's).  A subclass's task stuck after its cancel is reported by a sweep,
# then resolved cancelled.  A task of a subclass with such a __del__, done
# after swallowing its cancel, is reported by a sweep while it lives; freed
# without the hooks seeing it, it is left alone by later sweeps while 2,000
# new tasks reuse addresses.
# options: grace=0.2:interval=0.05
# observe: seen periodic
# expect-observed: seen stuck_after_cancel coro=stubborn state=pending resolved=null cancels=1 await_chain=stubborn cancel=stubborn
# expect-observed: seen swallowed_cancel coro=hidden state=finished result_repr="'hidden'" cancels=1 caught=hidden cancel=hidden
# expect: stuck_after_cancel coro=stubborn state=pending resolved=cancelled cancels=1 await_chain=stubborn cancel=stubborn
# expect: swallowed_cancel coro=hidden state=finished result_repr="'hidden'" cancels=1 caught=hidden cancel=hidden
import asyncio
import gc

import _e2e

released = None


class Plain(asyncio.Task):
    pass


class Hiding(asyncio.Task):
    def __del__(self):  # does not chain to Task.__del__: its hooks never see it
        pass


async def stubborn(started: asyncio.Event) -> None:
    started.set()
    try:
        await asyncio.Event().wait()
    finally:
        await released.wait()  # <- await:stubborn


async def hidden(started: asyncio.Event) -> str:
    started.set()
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:  # <- caught:hidden
        pass  # BUG: swallowed
    return "hidden"


def both_seen(rep):
    stuck = [e for e in _e2e.leaks(rep, "stuck_after_cancel") if e["resolved"] is None]
    return len(stuck) == 1 and len(_e2e.leaks(rep, "swallowed_cancel")) == 1


async def nothing() -> None:
    pass


async def main() -> None:
    global released
    released = asyncio.Event()
    s1, s2 = asyncio.Event(), asyncio.Event()
    a = Plain(stubborn(s1))
    b = Hiding(hidden(s2))
    await s1.wait()
    await s2.wait()
    a.cancel()  # <- cancel:stubborn
    b.cancel()  # <- cancel:hidden
    print("hidden:", await b)
    if _e2e.preloaded():
        await _e2e.await_report(both_seen, "one stuck, one swallowed", save_as="seen")
    del b
    gc.collect()
    for _ in range(20):
        await asyncio.gather(*(asyncio.create_task(nothing()) for _ in range(100)))
        await asyncio.sleep(0.01)
    released.set()
    try:
        await a
    except asyncio.CancelledError:
        print("stubborn: cancelled")


asyncio.run(main())
