# Cancelling a task that awaits another task forwards the cancel to the awaited
# one (Task.cancel() cancels its _fut_waiter). The inner task swallows it and
# returns, so the outer one also finishes normally with its cancel outstanding:
# both are swallowed_cancel, the inner one's cancel is forwarded_from the outer.
# expect: swallowed_cancel coro=inner state=finished result_repr="'inner swallowed'" forwarded_from=outer create=inner
# expect: swallowed_cancel coro=outer state=finished result_repr="'inner swallowed'" forwarded_from=null create=outer
import asyncio


async def inner(started: asyncio.Event) -> str:
    started.set()
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        return "inner swallowed"


async def outer(started: asyncio.Event) -> str:
    t = asyncio.ensure_future(inner(started))  # <- create:inner
    return await t


async def main() -> None:
    started = asyncio.Event()
    o = asyncio.ensure_future(outer(started))  # <- create:outer
    await started.wait()
    await asyncio.sleep(0)  # the outer task is now suspended on the inner one
    print("cancel outer ->", o.cancel())  # <- cancel
    print(await o, "outer cancelled:", o.cancelled())


asyncio.run(main())
