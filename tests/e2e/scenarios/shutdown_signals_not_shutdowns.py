# Signals a program handles and goes on: a Ctrl-C that asyncio.run turns
# into KeyboardInterrupt, which the program catches before running again
# (as CPython's test_asyncio does); a SIGHUP that reloads; a SIGQUIT that
# faulthandler answers with a dump.  None of them is a shutdown: the
# program runs on for three times shutdown_timeout after each, then exits
# at once, and no shutdown report or line comes.
# options: shutdown_timeout=0.5
# expect-none
# expect-no-shutdown
import asyncio
import faulthandler
import os
import signal
import time


async def interrupted() -> None:
    await asyncio.sleep(0)
    os.kill(os.getpid(), signal.SIGINT)
    await asyncio.sleep(3600)


async def serve(seconds: float) -> None:
    reloads = []
    asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, reloads.append, "reload")
    await asyncio.sleep(0)
    os.kill(os.getpid(), signal.SIGHUP)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    print("reloads:", reloads)


try:
    asyncio.run(interrupted())
except KeyboardInterrupt:
    print("interrupted, going on")
asyncio.run(serve(1.5))
with open(os.devnull, "w") as devnull:
    faulthandler.register(signal.SIGQUIT, file=devnull)
    os.kill(os.getpid(), signal.SIGQUIT)
    asyncio.run(serve(1.5))
    faulthandler.unregister(signal.SIGQUIT)
