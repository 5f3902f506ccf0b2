# A cancelled task whose cleanup keeps it pending well beyond grace (0.05 s) and
# then finishes cancelled: stuck_after_cancel, recorded as it was when found
# stuck (pending, suspended in its cleanup), with `resolved` set to cancelled.
# The slow cleanup is a timer by design (asyncio.sleep), which the collector's
# periodic check (interval=0.02) observes.
# options: grace=0.05:interval=0.02
# expect: stuck_after_cancel coro=slow_shutdown state=pending resolved=cancelled cancels=1
import asyncio


async def slow_shutdown(started: asyncio.Event) -> None:
    started.set()
    try:
        await asyncio.Event().wait()
    finally:
        # cleanup far longer than grace
        await asyncio.sleep(0.5)  # <- await


async def main() -> None:
    started = asyncio.Event()
    t = asyncio.create_task(slow_shutdown(started))  # <- create
    await started.wait()
    t.cancel()  # <- cancel
    await asyncio.gather(t, return_exceptions=True)
    print("cancelled:", t.cancelled())


asyncio.run(main())
