"""64 threads, each running its own event loop at the same time, creating
and cancelling tasks; some tasks swallow their cancel.  Every task goes
through a counting task factory, so the total printed is exact."""
import asyncio
import sys
import threading

THREADS = 64
NORMAL, CANCELLED, SWALLOWING = 4, 3, 3

lock = threading.Lock()
created = 0
barrier = threading.Barrier(THREADS)
outcomes = []


def factory(loop, coro, **kw):
    global created
    with lock:
        created += 1
    return asyncio.Task(coro, loop=loop, **kw)


async def normal():
    await asyncio.sleep(0)
    return "ok"


async def cancelled():
    await asyncio.sleep(60)


async def swallowing():
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:
        return "swallowed"


async def main():
    tasks = [asyncio.ensure_future(normal()) for _ in range(NORMAL)]
    to_cancel = [asyncio.ensure_future(cancelled()) for _ in range(CANCELLED)]
    to_cancel += [asyncio.ensure_future(swallowing()) for _ in range(SWALLOWING)]
    await asyncio.sleep(0.01)
    for t in to_cancel:
        t.cancel()
    res = await asyncio.gather(*tasks, *to_cancel, return_exceptions=True)
    return sorted(type(r).__name__ if isinstance(r, BaseException) else r for r in res)


def thread_main():
    loop = asyncio.new_event_loop()
    loop.set_task_factory(factory)
    asyncio.set_event_loop(loop)
    barrier.wait()
    try:
        r = loop.run_until_complete(main())
        loop.run_until_complete(loop.shutdown_asyncgens())
        if hasattr(loop, "shutdown_default_executor"):
            loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    with lock:
        outcomes.append(tuple(r))


threads = [threading.Thread(target=thread_main) for _ in range(THREADS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("threads", len(outcomes), "distinct outcomes", sorted(set(outcomes)))
print("created", created)
print("expected cancel_requests", THREADS * (CANCELLED + SWALLOWING))
print("expected swallowed_cancel", THREADS * SWALLOWING)
