# Issue 7: the handler that decides is the last one.  An inner handler that
# cleans up and re-raises is not blamed; the outer one that swallows is.
# expect: swallowed_cancel coro=worker state=finished result_repr="'outer'" caught=
import asyncio


async def inner() -> None:
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        print("inner cleanup")
        raise


async def worker(started: asyncio.Event) -> str:
    started.set()
    try:
        await inner()
    except asyncio.CancelledError:  # <- caught
        return "outer"


async def main() -> None:
    started = asyncio.Event()
    t = asyncio.create_task(worker(started))  # <- create
    await started.wait()
    t.cancel()
    print(await t)


asyncio.run(main())
