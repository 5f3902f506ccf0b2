# Issue 11: on 3.8-3.11 asyncio.wait_for() itself swallows a cancel when the
# awaited future completes in the same loop step (bpo-42130 / gh-86296,
# fixed by 3.12's rewrite).  The worker re-raises nothing and catches
# nothing: the swallow is CPython's, and the report says so (cpython_bug)
# instead of blaming the program.  The program waits (with the library) for
# a periodic report whose leak names the bug.
# max-python: 3.11
# options: interval=0.05
# observe: named periodic
# expect-observed: named swallowed_cancel coro=worker state=finished result_repr="'value'"
# expect: swallowed_cancel coro=worker state=finished result_repr="'value'"
import asyncio

import _e2e


async def worker(fut):
    return await asyncio.wait_for(fut, 10)


def named(rep) -> bool:
    return any((e.get("cpython_bug") or {}).get("where") == "asyncio.wait_for"
               for e in _e2e.leaks(rep, "swallowed_cancel", "worker"))


async def main() -> None:
    fut = asyncio.get_running_loop().create_future()
    t = asyncio.create_task(worker(fut))  # <- create
    await asyncio.sleep(0)
    fut.set_result("value")  # completes in the same step as the cancel
    t.cancel()  # <- cancel
    print("worker returned", await t)
    if _e2e.preloaded():
        await _e2e.await_report(named, "the leak attributed to asyncio.wait_for", save_as="named")


asyncio.run(main())
