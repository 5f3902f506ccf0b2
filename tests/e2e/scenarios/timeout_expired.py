# asyncio.timeout() expiring around a sleep, TimeoutError caught: the timeout
# cancels the task and uncancels it itself, so nothing is outstanding.
# Also a nested pair where only the inner one expires, and an expiring timeout
# in the runner's main task.
# min-python: 3.11
# expect-none
import asyncio


async def with_deadline() -> str:
    try:
        async with asyncio.timeout(0.01):
            await asyncio.sleep(30)
    except TimeoutError:
        return "timed out"
    return "not reached"


async def nested_deadlines() -> str:
    async with asyncio.timeout(30):
        try:
            async with asyncio.timeout(0.01):
                await asyncio.sleep(30)
        except TimeoutError:
            pass
        await asyncio.sleep(0)
    return "inner expired, outer did not"


async def main() -> None:
    print(await asyncio.create_task(with_deadline()))
    print(await asyncio.create_task(nested_deadlines()))
    print(await with_deadline())
    print("cancelling:", asyncio.current_task().cancelling())


asyncio.run(main())
