# exitcode=23, a leak, and the program leaves with sys.exit(5): the status is
# 23.  Chosen semantics, LeakSanitizer's: when the final report has leaks the
# process exits with `exitcode` whatever status the program asked for (LSan's
# check runs at exit and calls _exit(exitcode)); without leaks the program's
# status stands (exitcode_no_leak_own_status).  Without the library: 5.
# options: exitcode=23
# exit: 5
# lib-exit: 23
# expect: swallowed_cancel coro=leaky_worker state=finished result_type=NoneType
import asyncio
import sys


async def leaky_worker(started: asyncio.Event) -> None:
    started.set()
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        print("cleaning up...")


async def main() -> None:
    started = asyncio.Event()
    t = asyncio.ensure_future(leaky_worker(started))  # <- create
    await started.wait()
    t.cancel()  # <- cancel
    await t


asyncio.run(main())
sys.stdout.flush()
sys.exit(5)
