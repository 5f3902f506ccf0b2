# The same race as wait_for_race_cpython on 3.12+, where wait_for is built on
# asyncio.timeout(): the cancel goes through, the worker ends cancelled, and
# nothing is reported.
# min-python: 3.12
# expect-none
import asyncio


async def worker(fut):
    return await asyncio.wait_for(fut, 10)


async def main() -> None:
    fut = asyncio.get_running_loop().create_future()
    t = asyncio.create_task(worker(fut))
    await asyncio.sleep(0)
    fut.set_result("value")
    t.cancel()
    try:
        await t
    except asyncio.CancelledError:
        print("worker cancelled")


asyncio.run(main())
