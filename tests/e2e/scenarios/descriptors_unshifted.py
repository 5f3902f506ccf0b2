# The library's own descriptors never shift the program's: a descriptor the
# program opens gets the same number with and without the library (the
# runner compares stdout), after tasks were made and cancelled (native
# stacks unwound) and a report was written (taskleak_report_now, from this
# thread: periodic ones from the collector's could be in flight at the
# open, a race of microseconds that no test can pin down).
# options: interval=0
# expect: swallowed_cancel coro=swallower state=finished
import asyncio
import ctypes
import os
import socket


async def swallower() -> None:
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        pass


async def main() -> None:
    t = asyncio.create_task(swallower())
    await asyncio.sleep(0)
    t.cancel()
    await t
    report_now = getattr(ctypes.PyDLL(None), "taskleak_report_now", None)
    if report_now:  # with the library
        assert report_now() == 0
    fd = os.open(os.devnull, os.O_RDONLY)
    a, b = socket.socketpair()
    print("new descriptors:", fd, a.fileno(), b.fileno())
    os.close(fd)
    a.close()
    b.close()


asyncio.run(main())
