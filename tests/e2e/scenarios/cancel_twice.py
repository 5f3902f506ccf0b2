# Two cancel() calls on a task that ends CANCELLED (once before it starts running,
# once more while it handles the first one in a finally that awaits): not a leak.
# expect-none
import asyncio


async def worker(started: asyncio.Event, in_cleanup: asyncio.Event) -> None:
    started.set()
    try:
        await asyncio.Event().wait()
    finally:
        in_cleanup.set()
        await asyncio.sleep(0)  # re-cancelled here: the cancel keeps propagating


async def never_started() -> None:
    print("not reached")


async def main() -> None:
    started, in_cleanup = asyncio.Event(), asyncio.Event()
    t = asyncio.create_task(worker(started, in_cleanup))
    await started.wait()
    print("cancel #1 ->", t.cancel())
    print("cancel #2 ->", t.cancel())
    await asyncio.gather(t, return_exceptions=True)
    print("cancelled:", t.cancelled())

    u = asyncio.create_task(never_started())
    print("cancel before start ->", u.cancel(), u.cancel())
    await asyncio.gather(u, return_exceptions=True)
    print("cancelled:", u.cancelled())

    started, in_cleanup = asyncio.Event(), asyncio.Event()
    v = asyncio.create_task(worker(started, in_cleanup))
    await started.wait()
    v.cancel()
    await in_cleanup.wait()
    print("cancel during cleanup ->", v.cancel())
    await asyncio.gather(v, return_exceptions=True)
    print("cancelled:", v.cancelled())


asyncio.run(main())
