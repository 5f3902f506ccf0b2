# The library's own descriptors never shift the program's: a descriptor the
# program opens gets the same number with and without the library (the
# runner compares stdout), after tasks were made and cancelled (native
# stacks unwound, periodic reports written).
# options: interval=0.05
# expect: swallowed_cancel coro=swallower state=finished
import asyncio
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
    await asyncio.sleep(0.2)  # a few periodic reports
    fd = os.open(os.devnull, os.O_RDONLY)
    a, b = socket.socketpair()
    print("new descriptors:", fd, a.fileno(), b.fileno())
    os.close(fd)
    a.close()
    b.close()


asyncio.run(main())
