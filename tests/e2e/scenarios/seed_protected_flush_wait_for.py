# Seed step 4, 3.8-compatible: the must-run flush bounded with wait_for + shield.
# expect-none
import asyncio


async def flush(buffer, flushing, gate, flushed) -> None:
    flushing.set()
    await gate.wait()
    buffer.append("flushed")
    flushed.set()


async def worker_with_protected_flush(buffer, started, flushing, gate, flushed) -> None:
    started.set()
    try:
        while True:
            await asyncio.sleep(0.1)
    finally:
        try:
            await asyncio.wait_for(
                asyncio.shield(flush(buffer, flushing, gate, flushed)), 30.0)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            pass


async def round_(recancel: bool) -> None:
    buffer = []
    started, flushing, gate, flushed = (asyncio.Event() for _ in range(4))
    t = asyncio.create_task(
        worker_with_protected_flush(buffer, started, flushing, gate, flushed))
    await started.wait()
    t.cancel()
    await flushing.wait()
    if recancel:
        print("second cancel ->", t.cancel())
    gate.set()
    res = await asyncio.gather(t, return_exceptions=True)
    await flushed.wait()
    assert t.cancelled() and isinstance(res[0], asyncio.CancelledError)
    print("recancel=%s cancelled=%s buffer=%s" % (recancel, t.cancelled(), buffer))


async def main() -> None:
    await round_(False)
    await round_(True)


asyncio.run(main())
