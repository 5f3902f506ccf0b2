# The seed's leaky worker, in Python's development mode (asyncio debug mode on).
# args: -X dev
# expect: swallowed_cancel coro=leaky_worker state=finished result_type=NoneType
import asyncio


async def leaky_worker(started: asyncio.Event) -> None:
    started.set()
    try:
        while True:
            await asyncio.sleep(0.1)
    except asyncio.CancelledError:
        print("cleaning up...")
        return


async def main() -> None:
    started = asyncio.Event()
    t = asyncio.create_task(leaky_worker(started))  # <- create
    await started.wait()
    t.cancel()  # <- cancel
    await t
    print("task.cancelled() ->", t.cancelled())


asyncio.run(main())
