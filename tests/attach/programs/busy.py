"""A busy loop: the main task spins in Python with `await asyncio.sleep(0)`
between chunks, and never lets the loop sleep; one other task waits."""
import asyncio


async def sleeper():
    await asyncio.Event().wait()  # SUSPENDED-HERE


async def spin():
    n = 0
    while True:
        n += sum(range(2000))  # busy Python
        await asyncio.sleep(0)


async def main():
    task = asyncio.create_task(sleeper(), name="sleeper")
    await asyncio.sleep(0)
    print("ready", flush=True)
    await spin()
    await task


asyncio.run(main())
