# Seed step 1: cleanup catches CancelledError and returns instead of re-raising.
# expect: swallowed_cancel coro=leaky_worker state=finished result_type=NoneType result_repr=None message=null
import asyncio


async def leaky_worker(started: asyncio.Event) -> None:
    started.set()
    try:
        while True:
            await asyncio.sleep(0.1)  # cancelled here
    except asyncio.CancelledError:
        # BUG: caught to "clean up" but never re-raised.
        print("cleaning up...")
        return


async def main() -> None:
    started = asyncio.Event()
    t = asyncio.create_task(leaky_worker(started))  # <- create
    await started.wait()
    t.cancel()  # <- cancel
    await t  # completes "normally": no CancelledError propagates
    print("task.cancelled() ->", t.cancelled())


asyncio.run(main())
