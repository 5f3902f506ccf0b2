# Seed step 4: must-run flush under shield + asyncio.timeout inside finally.
# The worker is cancelled once (flush completes) and, in a second round, cancelled
# again while flushing (the shield keeps the flush alive); it always ends CANCELLED.
# min-python: 3.11
# expect-none
import asyncio
import contextlib


async def flush(buffer: list, flushing: asyncio.Event, gate: asyncio.Event,
                flushed: asyncio.Event) -> None:
    flushing.set()
    await gate.wait()  # "must reach storage"
    buffer.append("flushed")
    flushed.set()


async def worker_with_protected_flush(buffer, started, flushing, gate, flushed) -> None:
    started.set()
    try:
        while True:
            await asyncio.sleep(0.1)
    finally:
        # Must-run, but bounded so it cannot stall shutdown.
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            async with asyncio.timeout(30.0):
                await asyncio.shield(flush(buffer, flushing, gate, flushed))


async def round_(recancel: bool) -> None:
    buffer = []
    started, flushing, gate, flushed = (asyncio.Event() for _ in range(4))
    t = asyncio.create_task(
        worker_with_protected_flush(buffer, started, flushing, gate, flushed))
    await started.wait()
    t.cancel()
    await flushing.wait()
    if recancel:
        print("second cancel ->", t.cancel())  # re-cancelled during cleanup
    gate.set()
    res = await asyncio.gather(t, return_exceptions=True)
    await flushed.wait()
    assert t.cancelled() and isinstance(res[0], asyncio.CancelledError)
    print("recancel=%s cancelled=%s buffer=%s" % (recancel, t.cancelled(), buffer))


async def main() -> None:
    await round_(False)
    await round_(True)


asyncio.run(main())
