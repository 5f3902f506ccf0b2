# A suppressions file silences the leaks created from one function (by glob on
# the function name) and leaves the other one reported.
# suppress: # third-party code we cannot fix
# suppress: swallowed_cancel:vendor_*
# suppress: destroyed_pending:*never_matches*
# expect: swallowed_cancel coro=our_worker state=finished result_type=NoneType
import asyncio


async def worker(started: asyncio.Event) -> None:
    started.set()
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        pass


async def our_worker(started: asyncio.Event) -> None:
    await worker(started)


async def vendor_spawn(started: asyncio.Event) -> asyncio.Task:
    return asyncio.ensure_future(worker(started))


async def main() -> None:
    s1, s2 = asyncio.Event(), asyncio.Event()
    suppressed = await vendor_spawn(s1)
    ours = asyncio.ensure_future(our_worker(s2))  # <- create
    await s1.wait()
    await s2.wait()
    suppressed.cancel()
    ours.cancel()  # <- cancel
    await asyncio.gather(suppressed, ours)
    print("both swallowed:", not suppressed.cancelled(), not ours.cancelled())


asyncio.run(main())
