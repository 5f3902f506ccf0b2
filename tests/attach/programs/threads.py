"""Threads with their own loops: two threads each run asyncio.run() with a
pending task named thread-N-task; the main thread waits for them."""
import asyncio
import threading

started = threading.Barrier(3)


async def waiter():
    await asyncio.Event().wait()  # SUSPENDED-HERE


async def main(n):
    task = asyncio.create_task(waiter(), name="thread-%d-task" % n)
    await asyncio.sleep(0)
    started.wait()
    await task


threads = [threading.Thread(target=asyncio.run, args=(main(n),), daemon=True)
           for n in (1, 2)]
for t in threads:
    t.start()
started.wait()
print("ready", flush=True)
for t in threads:
    t.join()
