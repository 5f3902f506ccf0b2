# A leaky program that exits with status 3 via SystemExit: the report is still
# written at exit and the status is unchanged by the library.
# exit: 3
# expect: swallowed_cancel coro=leaky_worker state=finished result_type=NoneType
import asyncio
import sys


async def leaky_worker(started: asyncio.Event) -> None:
    started.set()
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        print("cleaning up...")


async def main() -> None:
    started = asyncio.Event()
    t = asyncio.create_task(leaky_worker(started))  # <- create
    await started.wait()
    t.cancel()  # <- cancel
    await t


asyncio.run(main())
sys.stdout.flush()
sys.exit(3)
