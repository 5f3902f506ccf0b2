# asyncio.shield: the outer task is cancelled while awaiting the shield and ends
# CANCELLED; the shielded inner task is not cancelled and completes normally.
# expect-none
import asyncio


async def inner(started: asyncio.Event, gate: asyncio.Event) -> str:
    started.set()
    await gate.wait()
    return "inner done"


async def outer(inner_task) -> None:
    try:
        await asyncio.shield(inner_task)
    finally:
        print("outer: cancelled while shielding")


async def main() -> None:
    started, gate = asyncio.Event(), asyncio.Event()
    it = asyncio.ensure_future(inner(started, gate))
    ot = asyncio.ensure_future(outer(it))
    await started.wait()
    await asyncio.sleep(0)  # let outer reach the shield
    print("cancel outer ->", ot.cancel())
    res = await asyncio.gather(ot, return_exceptions=True)
    print("outer cancelled:", ot.cancelled(), type(res[0]).__name__)
    gate.set()
    print(await it, "inner cancelled:", it.cancelled())


asyncio.run(main())
