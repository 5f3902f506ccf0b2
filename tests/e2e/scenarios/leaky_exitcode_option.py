# exitcode=23: a program that succeeds but leaks exits with 23 under the library
# (LeakSanitizer's convention), and 0 without it.
# options: exitcode=23
# lib-exit: 23
# expect: swallowed_cancel coro=leaky_worker state=finished result_type=NoneType
import asyncio


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
