# Pitfall: `except BaseException: pass` swallows the cancel; the task returns 42.
# expect: swallowed_cancel coro=greedy state=finished result_type=int result_repr=42
import asyncio


async def greedy(started: asyncio.Event) -> int:
    started.set()
    try:
        await asyncio.Event().wait()
    except BaseException:
        pass
    return 42


async def main() -> None:
    started = asyncio.Event()
    t = asyncio.ensure_future(greedy(started))  # <- create
    await started.wait()
    t.cancel()  # <- cancel
    print("result:", await t, "cancelled:", t.cancelled())


asyncio.run(main())
