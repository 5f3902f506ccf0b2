# A cancel that gives way to the process ending is not swallowed: a child of
# a TaskGroup raises KeyboardInterrupt (as Ctrl-C does) and another raises
# SystemExit (sys.exit() in a worker); the group cancels the parent, and
# the parent ends failed with that exception, cancelling() still 1.  The
# process is ending: no swallowed_cancel (the false positive this guards
# against was seen on anyio's own test suite).  A real swallow beside them
# is still reported.
# min-python: 3.11
# expect: swallowed_cancel coro=real_swallow state=finished result_repr="'swallowed'" cancels=1
import asyncio
import logging

logging.getLogger("asyncio").disabled = True  # "exception never retrieved": not the point


async def interrupted():
    raise KeyboardInterrupt


async def exits():
    raise SystemExit(3)


async def parent(child):
    async with asyncio.TaskGroup() as tg:
        tg.create_task(child())
        await asyncio.sleep(3600)


async def real_swallow(started):
    started.set()
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        return "swallowed"


def run(child):
    try:
        asyncio.run(parent(child))
    except BaseException as e:  # noqa: B902 (what ended the run)
        print(child.__name__, "->", type(e).__name__, e)


async def swallow_once():
    started = asyncio.Event()
    t = asyncio.create_task(real_swallow(started))
    await started.wait()
    t.cancel()
    print("real_swallow ->", await t)


run(interrupted)
run(exits)
asyncio.run(swallow_once())
