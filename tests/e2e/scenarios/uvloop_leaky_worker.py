# The seed's leaky worker under uvloop's event loop.
# requires-module: uvloop
# expect: swallowed_cancel coro=leaky_worker state=finished result_type=NoneType
import asyncio

import uvloop


async def leaky_worker(started: asyncio.Event) -> None:
    started.set()
    try:
        while True:
            await asyncio.sleep(0.1)
    except asyncio.CancelledError:
        print("cleaning up...")
        return


async def main() -> None:
    print("loop:", type(asyncio.get_running_loop()).__module__)
    started = asyncio.Event()
    t = asyncio.create_task(leaky_worker(started))  # <- create
    await started.wait()
    t.cancel()  # <- cancel
    await t
    print("task.cancelled() ->", t.cancelled())


asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
asyncio.run(main())
