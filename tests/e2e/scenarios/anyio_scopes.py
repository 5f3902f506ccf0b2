# Issue 7: anyio's cancel scopes (move_on_after, fail_after, task-group
# cancellation) cancel their own task and never call uncancel(): no false
# alarm.  Debian's python3-anyio: only /usr/bin/python3 imports it.
# requires-module: anyio
# expect-none
import asyncio

import anyio


async def move_on() -> str:
    with anyio.move_on_after(0.01):
        await anyio.sleep(30)
    return "moved on"


async def fail_after() -> str:
    try:
        with anyio.fail_after(0.01):
            await anyio.sleep(30)
    except TimeoutError:
        return "timed out"
    return "?"


async def group() -> str:
    async with anyio.create_task_group() as tg:
        tg.start_soon(anyio.sleep, 30)
        await anyio.sleep(0.01)
        tg.cancel_scope.cancel()
    return "group cancelled"


async def main() -> None:
    for f in (move_on, fail_after, group):
        print(await asyncio.create_task(f()))


asyncio.run(main())
