# asyncio.wait_for timing out: the awaited work ends CANCELLED (3.8-3.11 cancel the
# inner task; 3.12+ use asyncio.timeout on the caller), TimeoutError is caught.
# expect-none
import asyncio


async def slow(started: asyncio.Event) -> None:
    started.set()
    try:
        await asyncio.sleep(30)
    finally:
        print("slow: cleanup")


async def waiter() -> str:
    started = asyncio.Event()
    try:
        await asyncio.wait_for(slow(started), 0.01)
    except asyncio.TimeoutError:
        return "timed out, started=%s" % started.is_set()
    return "not reached"


async def waiter_on_task() -> str:
    started = asyncio.Event()
    t = asyncio.ensure_future(slow(started))
    try:
        await asyncio.wait_for(t, 0.01)
    except asyncio.TimeoutError:
        return "task timed out, cancelled=%s" % t.cancelled()
    return "not reached"


async def main() -> None:
    print(await asyncio.ensure_future(waiter()))
    print(await asyncio.ensure_future(waiter_on_task()))
    print(await waiter())


asyncio.run(main())
