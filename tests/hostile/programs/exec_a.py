"""Python re-exec'ing Python: one swallowed cancel, then os.execv into
exec_b.py (same pid, the library is inherited through LD_PRELOAD)."""
import asyncio
import os
import sys


async def a_worker():
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:
        return "a"


async def main():
    t = asyncio.create_task(a_worker())
    await asyncio.sleep(0.01)
    t.cancel()
    return await t


print("A", asyncio.run(main()), flush=True)
b = os.path.join(os.path.dirname(os.path.abspath(__file__)), "exec_b.py")
os.execv(sys.executable, [sys.executable, b])
