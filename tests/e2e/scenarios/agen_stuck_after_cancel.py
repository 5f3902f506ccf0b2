# Tasks cancelled while suspended inside async generators, each then stuck in
# cleanup inside the generator: an @asynccontextmanager whose code after
# `yield` was draining (its `finally` waits for a flush), `async for` over a
# generator whose `finally` waits, a generator iterating another one whose
# `finally` waits, and `aclose()` whose `finally` loops on CancelledError.
# grace=0.2: each is stuck_after_cancel, with `awaiting` down to the waiting
# line inside the generator and the cancel's `delivered_at` at the line in
# the generator where the task was suspended when cancelled.  The program
# polls its own report until all four are written (saved as "stuck"), then
# sets the flush: three end cancelled; the looping one returns normally
# after its generator swallowed the cancel (swallowed_cancel, caught in the
# generator's `except` on 3.12+).
# options: grace=0.2:interval=0.05
# observe: stuck periodic
# expect-observed: stuck stuck_after_cancel coro=serve state=pending resolved=null cancels=1 await_chain=lifespan_flush,serve delivered=drain cancel=serve
# expect-observed: stuck stuck_after_cancel coro=consume state=pending resolved=null cancels=1 await_chain=ticks_flush,consume delivered=ticks cancel=consume
# expect-observed: stuck stuck_after_cancel coro=relay state=pending resolved=null cancels=1 await_chain=inner_flush,outer,relay delivered=inner cancel=relay
# expect-observed: stuck stuck_after_cancel coro=closer state=pending resolved=null cancels=1 await_chain=retry,aclose delivered=retry cancel=closer
# expect: stuck_after_cancel coro=serve state=pending resolved=cancelled cancels=1 await_chain=lifespan_flush,serve delivered=drain cancel=serve
# expect: stuck_after_cancel coro=consume state=pending resolved=cancelled cancels=1 await_chain=ticks_flush,consume delivered=ticks cancel=consume
# expect: stuck_after_cancel coro=relay state=pending resolved=cancelled cancels=1 await_chain=inner_flush,outer,relay delivered=inner cancel=relay
# expect: stuck_after_cancel coro=closer state=pending resolved=finished cancels=1 await_chain=retry,aclose delivered=retry cancel=closer
# expect: swallowed_cancel coro=closer state=finished result_repr="'closed'" cancels=1 caught=retry cancel=closer
import asyncio
from contextlib import asynccontextmanager

import _e2e

gate = flushed = None


async def drain() -> None:
    await gate.wait()


@asynccontextmanager
async def lifespan():
    yield
    try:
        await drain()  # <- delivered:drain
    finally:
        await flushed.wait()  # <- await:lifespan_flush


async def serve(started: asyncio.Event) -> None:
    async with lifespan():  # <- await:serve
        started.set()  # <- await:serve


async def ticks():
    try:
        while True:
            await gate.wait()  # <- delivered:ticks
            yield 1
    finally:
        await flushed.wait()  # <- await:ticks_flush


async def consume(started: asyncio.Event) -> None:
    started.set()
    async for _ in ticks():  # <- await:consume
        pass


async def inner():
    try:
        await gate.wait()  # <- delivered:inner
        yield 1
    finally:
        await flushed.wait()  # <- await:inner_flush


async def outer():
    async for x in inner():  # <- await:outer
        yield x


async def relay(started: asyncio.Event) -> None:
    started.set()
    async for _ in outer():  # <- await:relay
        pass


async def guarded():
    try:
        yield 1
    finally:
        while not flushed.is_set():
            try:
                await flushed.wait()  # <- await:retry <- delivered:retry
            except asyncio.CancelledError:  # <- caught:retry
                pass  # BUG: loops on CancelledError


async def closer(started: asyncio.Event) -> str:
    g = guarded()
    await g.__anext__()
    started.set()
    await g.aclose()  # <- await:aclose
    return "closed"


def all_stuck(rep):
    return len([e for e in _e2e.leaks(rep, "stuck_after_cancel") if e["resolved"] is None]) == 4


async def main() -> None:
    global gate, flushed
    gate, flushed = asyncio.Event(), asyncio.Event()
    workers = (serve, consume, relay, closer)
    started = [asyncio.Event() for _ in workers]
    tasks = [asyncio.ensure_future(w(s)) for w, s in zip(workers, started)]
    for ev in started:
        await ev.wait()
    await asyncio.sleep(0)
    for t in tasks:
        t.cancel()  # <- cancel:serve <- cancel:consume <- cancel:relay <- cancel:closer
    if _e2e.preloaded():
        await _e2e.await_report(all_stuck, "four stuck_after_cancel", save_as="stuck")
    print("pending after cancel:", sum(not t.done() for t in tasks))
    flushed.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    print([type(r).__name__ if isinstance(r, BaseException) else r for r in results])


asyncio.run(main())
