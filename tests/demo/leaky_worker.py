import asyncio


async def leaky_worker() -> None:
    try:
        while True:
            await asyncio.sleep(0.1)  # cancelled here
    except asyncio.CancelledError:
        print("cleaning up...")
        return


async def main() -> None:
    t = asyncio.create_task(leaky_worker())
    await asyncio.sleep(0.2)
    t.cancel()
    await t
    print("task.cancelled() ->", t.cancelled())


asyncio.run(main())
