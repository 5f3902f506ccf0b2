# exitcode=23 and no leak: the process keeps its own status (0 here); the
# exit report is written, with no leaks.
# options: exitcode=23
# expect-none
import asyncio


async def worker(started: asyncio.Event) -> None:
    started.set()
    await asyncio.sleep(3600)


async def main() -> None:
    started = asyncio.Event()
    t = asyncio.ensure_future(worker(started))
    await started.wait()
    t.cancel()
    await asyncio.gather(t, return_exceptions=True)
    print("cancelled:", t.cancelled())


asyncio.run(main())
