# Issue 7: async_timeout (under aiohttp's client timeouts and redis-py)
# cancels its own task and turns the cancel into TimeoutError without
# uncancel(): no false alarm.  Debian's python3-async-timeout only.
# requires-module: async_timeout
# expect-none
import asyncio

import async_timeout


async def worker() -> str:
    try:
        async with async_timeout.timeout(0.01):
            await asyncio.sleep(30)
    except asyncio.TimeoutError:
        return "timed out"
    return "?"


async def main() -> None:
    print(await asyncio.create_task(worker()))


asyncio.run(main())
