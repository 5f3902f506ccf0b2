"""The GIL held in C: the main thread, inside the event loop, calls libc's
sleep() through ctypes.PyDLL (which keeps the GIL) for argv[1] seconds,
then prints "awake" and idles with one pending task."""
import asyncio
import ctypes
import sys


async def sleeper():
    await asyncio.Event().wait()  # SUSPENDED-HERE


async def main():
    seconds = int(sys.argv[1])
    task = asyncio.create_task(sleeper(), name="sleeper")
    await asyncio.sleep(0)
    libc = ctypes.PyDLL(None)
    print("ready", flush=True)
    libc.sleep(seconds)  # the GIL stays held: no Python runs anywhere
    print("awake", flush=True)
    await asyncio.sleep(3600)
    await task


asyncio.run(main())
