# Issue 7: where the swallowed cancel was delivered (every version) and, on
# 3.12+, the exact handler that caught it (sys.monitoring EXCEPTION_HANDLED).
# expect: swallowed_cancel coro=worker state=finished result_repr="'swallowed'" caught= delivered=
import asyncio


async def worker(started: asyncio.Event) -> str:
    started.set()
    try:
        await asyncio.Event().wait()  # <- delivered
    except asyncio.CancelledError:  # <- caught
        return "swallowed"


async def main() -> None:
    started = asyncio.Event()
    t = asyncio.create_task(worker(started))  # <- create
    await started.wait()
    t.cancel()  # <- cancel
    print(await t)


asyncio.run(main())
