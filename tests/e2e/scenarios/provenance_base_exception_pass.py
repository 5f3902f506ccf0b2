# Issue 7, the guide's pitfall: `except BaseException: pass` swallows the
# cancel; on 3.12+ the report names that handler's line.
# expect: swallowed_cancel coro=worker state=finished result_repr=42 caught= delivered=
import asyncio


async def worker(started: asyncio.Event) -> int:
    started.set()
    try:
        await asyncio.sleep(30)  # <- delivered
    except BaseException:  # <- caught
        pass
    return 42


async def main() -> None:
    started = asyncio.Event()
    t = asyncio.create_task(worker(started))  # <- create
    await started.wait()
    t.cancel()
    print(await t)


asyncio.run(main())
