# cancel() on tasks that are already done returns False and is not a leak: a task
# that returned, one that failed (exception retrieved), one already cancelled.
# expect-none
import asyncio


async def quick() -> int:
    return 7


async def broken() -> None:
    raise KeyError("nope")


async def sleeper() -> None:
    await asyncio.Event().wait()


async def main() -> None:
    a = asyncio.create_task(quick())
    b = asyncio.create_task(broken())
    c = asyncio.create_task(sleeper())
    await asyncio.sleep(0)
    c.cancel()
    await asyncio.gather(a, b, c, return_exceptions=True)
    print("done:", a.done(), b.done(), c.done())
    print("cancel() on done tasks ->", a.cancel(), b.cancel(), c.cancel())
    print("results:", a.result(), repr(b.exception()), c.cancelled())


asyncio.run(main())
