"""The exec'd (or shell-started) Python: one swallowed cancel of its own."""
import asyncio


async def b_worker():
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:
        return "b"


async def main():
    t = asyncio.create_task(b_worker())
    await asyncio.sleep(0.01)
    t.cancel()
    return await t


print("B", asyncio.run(main()), flush=True)
