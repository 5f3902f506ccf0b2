# Pitfall: cleanup after catching the cancel raises ValueError: the task ends
# failed (not cancelled) with the cleanup's exception.
# expect: swallowed_cancel coro=fragile_cleanup state=failed exception_type=ValueError exception_message="cleanup failed: connection reset"
import asyncio


async def fragile_cleanup(started: asyncio.Event) -> None:
    started.set()
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        print("rolling back")
        raise ValueError("cleanup failed: connection reset")


async def main() -> None:
    loop = asyncio.get_running_loop()
    started = asyncio.Event()
    t = loop.create_task(fragile_cleanup(started))  # <- create
    await started.wait()
    t.cancel()  # <- cancel
    try:
        await t
    except ValueError as e:
        print("ValueError:", e, "cancelled:", t.cancelled())


asyncio.run(main())
