# A task first passes through an expiring asyncio.timeout() (a cancel scope that
# uncancels what it issued), then swallows a real cancel: it is reported once,
# with both cancels recorded, the first one attributed to asyncio.timeouts.
# min-python: 3.11
# expect: swallowed_cancel coro=worker state=finished result_repr="'swallowed'" cancels=2 scope=asyncio.timeouts cancel=none
import asyncio


async def worker(started: asyncio.Event) -> str:
    try:
        async with asyncio.timeout(0.01):
            await asyncio.sleep(30)
    except TimeoutError:
        print("timed out, cancelling() =", asyncio.current_task().cancelling())
    started.set()
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        return "swallowed"


async def main() -> None:
    started = asyncio.Event()
    t = asyncio.create_task(worker(started))  # <- create
    await started.wait()
    t.cancel()
    print(await t)


asyncio.run(main())
